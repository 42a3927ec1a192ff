#!/usr/bin/python3
"""Save -> first new answer under `run --dev` (autoreload = "app").

Makes a Flask and a Django project with `subhttpd init`, serves each under
--dev, then N times: rewrites the module two imports away from the WSGI entry
(greetings.py) and polls GET / until the new text comes back. Prints the
median and the spread per framework. A measurement, not a test.

  /usr/bin/python3 bench/reload_latency.py [--bin build/reactor/subhttpd] [--rounds 10]
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path="/"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def wait_listening(port, proc, limit=20.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit("subhttpd exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("subhttpd did not start")


def measure(binary, kind, rounds):
    root = tempfile.mkdtemp(prefix="subhttpd-reload-")
    project = os.path.join(root, "p")
    subprocess.run([binary, "init", "--" + kind, project], check=True, capture_output=True)
    edit = os.path.join(project, "app/greetings.py" if kind == "flask" else "project/mysite/greetings.py")
    port = free_port()
    log = open(os.path.join(root, "server.log"), "wb")
    proc = subprocess.Popen([binary, "-c", os.path.join(project, "server.toml"), "--dev",
                             "--listen", "127.0.0.1:%d" % port], stdout=log, stderr=subprocess.STDOUT)
    times = []
    try:
        wait_listening(port, proc)
        status, _ = get(port)
        assert status == 200, "first request failed"
        for i in range(rounds):
            marker = "round-%d-%d" % (i, time.monotonic_ns())
            text = 'def greeting():\n    return "%s"\n' % marker
            t0 = time.monotonic()
            with open(edit, "w") as f:
                f.write(text)
            while True:
                _, body = get(port)
                if marker in body:
                    break
                if time.monotonic() - t0 > 30:
                    raise SystemExit("no new answer after 30 s")
            times.append((time.monotonic() - t0) * 1000)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
    return times


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bin", default=os.path.join(here, "..", "build", "reactor", "subhttpd"))
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    for kind in ("flask", "django"):
        t = measure(a.bin, kind, a.rounds)
        print("%-6s save -> first new answer: median %.0f ms, min %.0f ms, max %.0f ms (%d rounds)"
              % (kind, statistics.median(t), min(t), max(t), len(t)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

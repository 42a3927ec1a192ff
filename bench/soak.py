#!/usr/bin/python3
"""Soak: mixed load against one subhttpd for a bounded time, RSS every 10 s.

The mix: mod_python handler hits, static files, handler errors (500 expected),
404s (expected), multipart uploads through util.FieldStorage, an offloaded
handler, a WSGI app, a reload (site file rewritten) every 5 s, and a new
interpreter every 2 s for the first 40 s (interp_per_directory over fresh
folders; interpreters live as long as the process, so a bounded set of them). Every answer
is checked against what the mix asked for; anything else counts as a failure.

usage: bench/soak.py [--seconds 600] [--clients 8] [--bin build/reactor/subhttpd]
Prints the RSS curve and a summary; exits 1 on unexpected failures.
"""

import argparse
import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

HANDLER = """
from mod_python import apache, util

hits = 0

def handler(req):
    global hits
    hits += 1
    a = req.args or ""
    if a == "error":
        raise RuntimeError("the soak asked for this")
    if a == "upload":
        fs = util.FieldStorage(req)
        f = fs["file"]
        data = f.file.read() if f.file else f.value
        req.write("%d" % len(data))
        return apache.OK
    req.content_type = "text/plain"
    req.write("hello %d %s" % (hits, req.get_options().get("round", "")))
    return apache.OK
"""

SLOW = """
import time
from mod_python import apache

def handler(req):
    time.sleep(0.01)
    req.write("slow")
    return apache.OK
"""

WSGI = """
def application(environ, start_response):
    body = b"wsgi " + environ.get("PATH_INFO", "").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def site_toml(round_no):
    return """
[[site]]
server_name = "soak.test"
document_root = "../htdocs"
options = {{ round = "{r}" }}

[[site.directory]]
path = "app"
handler = "h"

[[site.directory]]
path = "slow"
handler = "slow"
offload = true

[[site.directory]]
path = "dirs"
handler = "h"
interp_per_directory = true

[[site.location]]
path = "/wsgi"
wsgi = "app_wsgi:application"
""".format(r=round_no)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Stats(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.expected_errors = 0
        self.failures = []

    def record(self, good, expected_error=False, what=""):
        with self.lock:
            if not good:
                if len(self.failures) < 20:
                    self.failures.append(what)
                else:
                    self.failures.append(None)
            elif expected_error:
                self.expected_errors += 1
            else:
                self.ok += 1


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        h = {"Host": "soak.test"}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def multipart(size):
    boundary = "soakboundary%d" % random.randint(0, 10 ** 9)
    payload = os.urandom(size)
    body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n" % boundary).encode() + payload + \
           ("\r\n--%s--\r\n" % boundary).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary}, size


def client(port, deadline, stats, dirs_made):
    rnd = random.Random()
    while time.time() < deadline:
        kind = rnd.random()
        try:
            if kind < 0.40:
                st, b = request(port, "GET", "/app/x")
                stats.record(st == 200 and b.startswith(b"hello"), what="handler %d" % st)
            elif kind < 0.55:
                st, b = request(port, "GET", "/static.txt")
                stats.record(st == 200 and b == b"static\n", what="static %d" % st)
            elif kind < 0.62:
                st, b = request(port, "GET", "/app/x?error")
                stats.record(st == 500, expected_error=True, what="error %d" % st)
            elif kind < 0.67:
                st, b = request(port, "GET", "/missing-%d" % rnd.randint(0, 999))
                stats.record(st == 404, expected_error=True, what="404 %d" % st)
            elif kind < 0.77:
                body, hdrs, size = multipart(rnd.choice([100, 5000, 200000]))
                st, b = request(port, "POST", "/app/x?upload", body, hdrs)
                stats.record(st == 200 and b == str(size).encode(), what="upload %d %r" % (st, b[:50]))
            elif kind < 0.87:
                st, b = request(port, "GET", "/slow/x")
                stats.record(st == 200 and b == b"slow", what="offload %d" % st)
            elif kind < 0.97:
                st, b = request(port, "GET", "/wsgi/p")
                stats.record(st == 200 and b == b"wsgi /p", what="wsgi %d" % st)
            else:
                with stats.lock:
                    d = rnd.choice(dirs_made) if dirs_made else None
                if d is not None:
                    st, b = request(port, "GET", "/dirs/%s/x" % d)
                    stats.record(st == 200, what="dirs %d" % st)
        except Exception as e:  # a refused or broken connection is a failure
            stats.record(False, what="exception %r" % e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--bin", default=os.environ.get("SUBHTTPD_BIN",
                                                     os.path.join(HERE, "..", "build", "reactor", "subhttpd")))
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="subhttpd-soak-")
    proc = None
    try:
        os.makedirs(os.path.join(root, "sites.d"))
        os.makedirs(os.path.join(root, "htdocs", "app"))
        os.makedirs(os.path.join(root, "htdocs", "slow"))
        os.makedirs(os.path.join(root, "htdocs", "dirs"))
        os.makedirs(os.path.join(root, "lib"))
        with open(os.path.join(root, "server.toml"), "w") as f:
            f.write('[server]\nsites = ["sites.d/*.toml"]\nreload = "watch"\naccess_log = "off"\n'
                    'error_log = "%s/error.log"\npool_threads = 4\n\n[python]\npath = ["lib"]\n' % root)
        with open(os.path.join(root, "sites.d", "soak.toml"), "w") as f:
            f.write(site_toml(0))
        for path, text in (("htdocs/app/h.py", HANDLER), ("htdocs/dirs/h.py", HANDLER),
                           ("htdocs/slow/slow.py", SLOW), ("lib/app_wsgi.py", WSGI),
                           ("htdocs/static.txt", "static\n")):
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        port = free_port()
        proc = subprocess.Popen([args.bin, "-c", os.path.join(root, "server.toml"),
                                 "--listen", "127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        stats = Stats()
        dirs_made = []
        start = time.time()
        deadline = start + args.seconds
        threads = [threading.Thread(target=client, args=(port, deadline, stats, dirs_made))
                   for _ in range(args.clients)]
        for t in threads:
            t.start()
        curve = []
        next_rss = start
        next_reload = start + 5
        next_dir = start + 2
        round_no = 0
        while time.time() < deadline:
            now = time.time()
            if now >= next_rss:
                curve.append((int(now - start), rss_kb(proc.pid)))
                next_rss += 10
            if now >= next_reload:
                round_no += 1
                tmp = os.path.join(root, "sites.d", ".soak.toml.tmp")
                with open(tmp, "w") as f:
                    f.write(site_toml(round_no))
                os.replace(tmp, os.path.join(root, "sites.d", "soak.toml"))
                next_reload += 5
            if now >= next_dir and len(dirs_made) < 20:
                name = "d%04d" % len(dirs_made)
                os.makedirs(os.path.join(root, "htdocs", "dirs", name))
                with stats.lock:
                    dirs_made.append(name)
                next_dir += 2
            if proc.poll() is not None:
                print("the server exited with %s" % proc.returncode)
                break
            time.sleep(0.2)
        for t in threads:
            t.join(60)
        curve.append((int(time.time() - start), rss_kb(proc.pid)))
        unexpected = len(stats.failures)
        print("| t (s) | RSS (MB) |\n|---:|---:|")
        for t, kb in curve:
            print("| %d | %s |" % (t, "%.1f" % (kb / 1024.0) if kb else "-"))
        warm = [kb for t, kb in curve if kb and t >= min(60, args.seconds * 2 // 3)]
        print()
        print("requests ok: %d, expected errors (500/404 asked for): %d, unexpected failures: %d"
              % (stats.ok, stats.expected_errors, unexpected))
        print("reloads: %d, interpreters made for new folders: %d" % (round_no, len(dirs_made)))
        if len(warm) >= 2:
            print("RSS after warm-up: first %.1f MB, last %.1f MB, max %.1f MB (growth %.1f MB)"
                  % (warm[0] / 1024.0, warm[-1] / 1024.0, max(warm) / 1024.0, (warm[-1] - warm[0]) / 1024.0))
        for f in stats.failures[:20]:
            if f:
                print("  failure:", f)
        return 1 if unexpected or proc.poll() is not None else 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

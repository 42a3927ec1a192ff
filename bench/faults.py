#!/usr/bin/env python3
"""Fault figures (issue 16), small and bounded, on loopback:
  crash     requests lost per crash under load, workers = 1 and 2
  fds       time to serve again after descriptor exhaustion
  rss       RSS of a worker recycled by max_rss, before / after
  upgrade   requests failed across a SIGUSR2 binary upgrade under load
  stall     time from a stalled loop to an answer from its replacement
Usage: bench/faults.py [BUILD_BINARY] [which ...]   (default: all)
Every process is stopped by PID; client load is 4 threads, a few seconds."""

import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import conftest  # noqa: E402  (Server, write_tree, free_port)

APP = """
import ctypes, os
from mod_python import apache
LEAK = []

def handler(req):
    what = req.uri.rsplit("/", 1)[-1]
    if what == "crash":
        ctypes.string_at(0)
    elif what == "stall":
        ctypes.PyDLL(None).sleep(600)
    elif what == "leak":
        LEAK.append(bytearray(20 * 1024 * 1024))
    req.content_type = "text/plain"
    req.write(str(os.getpid()))
    return apache.OK
"""


def make(tmp, server_extra="", limits=""):
    os.makedirs(tmp, exist_ok=True)
    files = {
        "server.toml": conftest.SERVER_TOML.format(reload="off", debug="false", access_log="off",
                                                   server_extra='status = "/server-status"\n' + server_extra,
                                                   python_extra="") + limits,
        "sites.d/a.toml": '[[site]]\nserver_name = "localhost"\ndocument_root = "../app"\nhandler = "app"\n',
        "app/app.py": APP,
    }
    conftest.write_tree(tmp, files)
    return conftest.Server(tmp, os.path.join(tmp, "server.toml"), conftest.free_port())


def load(srv, stop, out, path="/pid"):
    while not stop.is_set():
        try:
            r = srv.get(path, timeout=20)
            out.append(r.status)
        except Exception:
            out.append(0)


def with_load(srv, threads, fn):
    stop = threading.Event()
    results = [[] for _ in range(threads)]
    ts = [threading.Thread(target=load, args=(srv, stop, results[i])) for i in range(threads)]
    for t in ts:
        t.start()
    try:
        fn()
    finally:
        stop.set()
        for t in ts:
            t.join(60)
    flat = [s for r in results for s in r]
    return len(flat), len([s for s in flat if s != 200])


def crash(tmp):
    for workers in (1, 2):
        srv = make(os.path.join(tmp, "crash%d" % workers), "workers = %d\n" % workers).start()
        try:
            def inject():
                for _ in range(5):
                    time.sleep(1.5)
                    try:
                        srv.get("/crash", timeout=10)
                    except Exception:
                        pass
                time.sleep(1.5)
            total, failed = with_load(srv, 4, inject)
            print("crash: workers=%d: %d requests, %d failed over 5 crashes = %.1f lost per crash"
                  % (workers, total, failed, failed / 5.0))
        finally:
            srv.stop()


def fds(tmp):
    srv = make(os.path.join(tmp, "fds"))
    log = open(srv.log_path, "ab")
    srv._log = log
    lim = 48
    srv.proc = subprocess.Popen([conftest.BINARY, "-c", srv.config, "--listen", "127.0.0.1:%d" % srv.port],
                                stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim)))
    try:
        srv.wait_for(lambda: _ok(srv), timeout=20)
        held = []
        for _ in range(lim * 3):
            try:
                held.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
            except OSError:
                pass
        srv.wait_for(lambda: "out of file descriptors" in srv.log(), timeout=20)
        t0 = time.time()
        for s in held:
            s.close()
        srv.wait_for(lambda: _ok(srv), timeout=60, interval=0.01)
        print("fds: nofile=%d, %d clients held: serving again %.0f ms after they closed; log %d bytes"
              % (lim, len(held), (time.time() - t0) * 1000, len(srv.log())))
    finally:
        srv.stop()


def _ok(srv):
    try:
        return srv.get("/pid", timeout=2).status == 200
    except Exception:
        return False


def rss(tmp):
    srv = make(os.path.join(tmp, "rss"), 'max_rss = "150MB"\n').start()
    try:
        first = srv.get("/pid").text
        before = 0
        for _ in range(20):  # leak until the worker asks for its replacement
            srv.get("/leak")
            st = srv.get("/server-status?json").json()
            if st["worker"]["pid"] == int(first):
                before = max(before, st["worker"]["rss_bytes"])
            if "asks to be recycled" in srv.log():
                break
        srv.wait_for(lambda: srv.get("/pid").text != first, timeout=30)  # its interpreter exists
        st = srv.wait_for(lambda: _status_of_other(srv, int(first)), timeout=30)
        print("rss: max_rss 150MB: worker %s reached %d MB; its replacement %d serves at %d MB"
              % (first, before >> 20, st["worker"]["pid"], st["worker"]["rss_bytes"] >> 20))
    finally:
        srv.stop()


def _status_of_other(srv, pid):
    st = srv.get("/server-status?json").json()
    return st if st["worker"]["pid"] != pid else None


def upgrade(tmp):
    srv = make(os.path.join(tmp, "upgrade")).start()
    new = None
    try:
        def go():
            time.sleep(1)
            srv.signal(signal.SIGUSR2)
            srv.wait_for(lambda: "serves now" in srv.log(), timeout=30)
            srv.proc.wait(30)
            time.sleep(1)
        total, failed = with_load(srv, 4, go)
        print("upgrade: %d requests across SIGUSR2 under load, %d failed" % (total, failed))
    finally:
        for line in srv.log().splitlines():
            if "upgrading: started" in line:
                new = int(line.split("as supervisor ")[1].split()[0])
        if new:
            os.kill(new, signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(new, 0)
                    time.sleep(0.1)
                except ProcessLookupError:
                    break
        srv.stop()


def stall(tmp):
    srv = make(os.path.join(tmp, "stall"), 'stall_timeout = "1s"\n').start()
    try:
        first = srv.get("/pid").text
        t0 = time.time()
        threading.Thread(target=lambda: _ok_path(srv, "/stall"), daemon=True).start()
        srv.wait_for(lambda: _new_pid(srv, first), timeout=30, interval=0.01)
        print("stall: stall_timeout 1 s: a replacement answered %.0f ms after the stall began"
              % ((time.time() - t0) * 1000))
    finally:
        srv.stop()


def _ok_path(srv, path):
    try:
        srv.get(path, timeout=30)
    except Exception:
        pass


def _new_pid(srv, first):
    try:
        return srv.get("/pid", timeout=0.5).text != first
    except Exception:
        return False


def main():
    args = sys.argv[1:]
    if args and os.path.isfile(args[0]):
        conftest.BINARY = args.pop(0)
    which = args or ["crash", "fds", "rss", "upgrade", "stall"]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for w in which:
            globals()[w](tmp)


if __name__ == "__main__":
    main()

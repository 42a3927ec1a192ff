"""Faults contained: descriptor exhaustion, max_connections, crashes, recycling,
binary upgrade (SIGUSR2), stalled loops, failing logs and process-wide state.
Every limit is set on the server process alone (prlimit in a preexec_fn), every
fault is injected with ctypes in a handler; all waits are bounded and every
process is stopped by its PID."""

import os
import resource
import signal
import socket
import subprocess
import threading
import time

from conftest import BINARY, gone, kill_pid, retry_get, upgrade_under_load

APP = """
import ctypes, os, time
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    what = req.uri.rsplit("/", 1)[-1]
    if what == "crash":
        ctypes.string_at(0)              # SIGSEGV while holding the GIL
    elif what == "stall":
        libc = ctypes.PyDLL(None)        # a PyDLL call keeps the GIL: the loop is stuck in C
        libc.sleep(600)
    elif what == "chdir":
        os.chdir("/")
        os.umask(0o077)
    elif what == "cchdir":
        libc = ctypes.CDLL(None)         # from C, past the os.* the server watches
        libc.chdir(b"/")
        libc.umask(0o077)
    elif what == "state":
        mask = os.umask(0)
        os.umask(mask)
        req.write("%s %03o\\n" % (os.getcwd(), mask))
        return apache.OK
    req.write(str(os.getpid()))
    return apache.OK
"""

SITE = """
[[site]]
server_name = "localhost"
document_root = "../app"
handler = "app"
"""


def tree(access_log=None, error_log=None):
    """The app's tree; with logs named, a main config that writes them there."""
    files = {"sites.d/a.toml": SITE, "app/app.py": APP}
    if access_log:
        files["server.toml"] = """
[server]
listen = ["127.0.0.1:1"]
sites = ["sites.d/*.toml"]
reload = "off"
access_log = "%s"
error_log = "%s"
status = "/server-status"
""" % (access_log, error_log)
    return files


def status(srv):
    return srv.get("/server-status?json").json()


# 1. descriptors ---------------------------------------------------------------

def test_descriptor_exhaustion_pauses_refuses_and_recovers(make_server, tmp_path):
    srv = make_server(tree(), server_extra='status = "/server-status"', start=False)
    limit = 48

    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    # Server.start with a preexec_fn: the limit holds for the supervisor and its worker.
    log = open(srv.log_path, "ab")
    srv._log = log
    srv.proc = subprocess.Popen([BINARY, "-c", srv.config, "--listen", "127.0.0.1:%d" % srv.port],
                                stdout=log, stderr=subprocess.STDOUT, preexec_fn=low_nofile)
    try:
        assert retry_get(srv, "/x").status == 200
        clients = []
        try:
            for _ in range(limit * 3):
                s = socket.socket()
                s.settimeout(5)
                try:
                    s.connect(("127.0.0.1", srv.port))
                except OSError:
                    s.close()
                    continue
                clients.append(s)
            # the worker ran out of descriptors: it said so, in a few lines only
            found = srv.wait_for(lambda: "out of file descriptors" in srv.log(), timeout=20)
            assert found, srv.log()[-3000:]
        finally:
            for s in clients:
                s.close()
        # the clients went away: it serves again
        r = retry_get(srv, "/x", timeout=60)
        assert r.status == 200
        st = retry_get(srv, "/server-status?json").json()
        assert st["faults"]["fd_exhausted"] >= 1
        text = srv.log()
        assert text.count("out of file descriptors") <= 10  # once per interval, never a flood
        assert len(text) < 200000
    finally:
        srv.stop()


EXHAUST = """
import os

def exhaust():
    held = []
    try:
        while True:                       # until the kernel says EMFILE
            held.append(os.open("/dev/null", os.O_RDONLY))
    finally:
        for fd in held:
            os.close(fd)

def handler(req):
    exhaust()

def application(environ, start_response):
    exhaust()
"""

EXHAUST_SITES = """
[[site]]
server_name = "mp.test"
document_root = "../x"
handler = "x"

[[site]]
server_name = "wsgi.test"
document_root = "../x"
[[site.location]]
path = "/"
wsgi = "x:application"
"""


def test_a_handler_out_of_descriptors_answers_503_not_500(make_server):
    srv = make_server({"sites.d/x.toml": EXHAUST_SITES, "x/x.py": EXHAUST})
    # twice each: the descriptors came back and the same worker serves on
    for host in ("mp.test", "wsgi.test", "mp.test", "wsgi.test"):
        r = srv.get("/", host=host)
        assert r.status == 503, (host, r.status, srv.log()[-2000:])
    assert "out of file descriptors" in srv.log()


def test_max_connections_is_a_cap(make_server):
    srv = make_server(tree(), server_extra='status = "/server-status"',
                      limits="[limits]\nmax_connections = 3\nread_timeout = 1\n")
    held = []
    try:
        for _ in range(10):
            held.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
        # idle connections are cut by read_timeout; the status request gets in after them
        st = retry_get(srv, "/server-status?json", timeout=60).json()
        assert st["faults"]["peak_connections"] <= 3, st
        assert st["connections"]["open"] <= 3
    finally:
        for s in held:
            s.close()


# 2. crashes -------------------------------------------------------------------

def test_crash_is_reported_and_the_worker_restarted(make_server):
    srv = make_server(tree())
    first = srv.get("/pid").text
    try:
        srv.get("/crash", timeout=10)
    except Exception:
        pass  # the connection dies with the worker
    assert srv.wait_for(lambda: "killed by SIGSEGV" in srv.log(), timeout=20), srv.log()[-3000:]
    log = srv.log()
    assert "got SIGSEGV on the loop thread while running interpreter 'localhost' handler 'app::handler'" in log
    assert 'for "GET /crash HTTP/1.1"' in log
    assert "C stack" in log
    assert 'app.py", line ' in log and " in handler" in log  # the Python stack of the handler
    r = retry_get(srv, "/pid")
    assert r.status == 200 and r.text != first
    assert srv.stop() == 0


def test_supervisor_always_runs_and_its_worker_follows_it(make_server):
    srv = make_server(tree())
    worker = int(srv.get("/pid").text)
    assert worker != srv.proc.pid
    srv.proc.kill()
    srv.proc.wait(10)
    ended = srv.wait_for(lambda: gone(worker), timeout=10)
    if not ended:
        kill_pid(worker)
    assert ended


# 3. recycling -----------------------------------------------------------------

def test_max_requests_recycles_without_refusing(make_server):
    srv = make_server(tree(), server_extra='max_requests = 5\nstatus = "/server-status"')
    pids = []
    deadline = time.time() + 60  # bounded: the replacement starts Python first
    while time.time() < deadline:
        r = srv.get("/pid")
        assert r.status == 200, (len(pids), r)
        pids.append(r.text)
        if len(pids) >= 20 and len(set(pids)) >= 2:
            break
    assert len(set(pids)) >= 2, pids[:5]
    st = status(srv)
    assert st["worker"]["max_requests"] == 5
    assert "asks to be recycled" in srv.log()
    assert srv.stop() == 0


# 4. binary upgrade ------------------------------------------------------------

def test_sigusr2_upgrade_drops_nothing(make_server):
    srv = make_server(tree())
    before = srv.get("/pid").text

    def fetch():
        r = srv.get("/pid", timeout=20)
        return r.status, r.text

    results = upgrade_under_load(srv, fetch, before)
    assert srv.proc.returncode == 0
    bad = [r for r in results if r[0] != 200]
    assert not bad, bad[:5]
    assert len({p for s, p in results}) >= 2


# 5. stalls --------------------------------------------------------------------

def test_stalled_loop_is_reported_killed_and_replaced(make_server):
    srv = make_server(tree(), server_extra='stall_timeout = "1s"')
    first = srv.get("/pid").text

    def stall():
        try:
            srv.get("/stall", timeout=30)
        except Exception:
            pass

    t = threading.Thread(target=stall)
    t.start()
    try:
        assert srv.wait_for(lambda: "stalled" in srv.log(), timeout=30), srv.log()[-3000:]
        r = retry_get(srv, "/pid")
        assert r.status == 200 and r.text != first
        log = srv.log()
        assert "in interpreter 'localhost' handler 'app::handler' for \"GET /stall HTTP/1.1\"" in log
        assert srv.wait_for(lambda: "got SIGABRT" in srv.log(), timeout=20)
    finally:
        t.join(40)
    assert srv.stop() == 0


# 6. logs that fail ------------------------------------------------------------

def test_full_log_disk_is_counted_and_never_stops_serving(make_server):
    srv = make_server(tree(access_log="/dev/full", error_log="/dev/full"))
    for _ in range(20):
        assert srv.get("/pid").status == 200
    st = status(srv)
    assert st["faults"]["log_write_failures"] > 0
    metrics = srv.get("/server-status?metrics").text
    assert "subhttpd_log_write_failures_total" in metrics
    out = srv.log()  # stderr: one report per interval, not one per line
    assert "log write(s) failed" in out
    assert out.count("log write(s) failed") <= 5
    assert srv.stop() == 0


# 7. process-wide state --------------------------------------------------------

def test_cwd_and_umask_are_restored_after_a_request(make_server):
    srv = make_server(tree(), server_extra='status = "/server-status"')
    before = srv.get("/state").text.split()
    assert srv.get("/chdir").status == 200
    after = srv.get("/state").text.split()
    assert after == before
    assert "changed process-wide state" in srv.log()
    srv.get("/chdir")
    assert srv.log().count("changed process-wide state") == 1  # once per interpreter
    assert status(srv)["faults"]["state_restored"] >= 2


def test_cwd_and_umask_changed_from_c_are_restored_by_the_sweep(make_server):
    srv = make_server(tree(), server_extra='status = "/server-status"')
    before = srv.get("/state").text.split()
    assert srv.get("/cchdir").status == 200
    # Not reported by os.*: the next tick's sweep (once a second) finds it.
    assert srv.wait_for(lambda: "C code (not os.chdir" in srv.log(), timeout=10), srv.log()[-2000:]
    assert srv.get("/state").text.split() == before
    assert status(srv)["faults"]["state_restored"] >= 1


def test_full_log_disk_then_space_returns(make_server, tmp_path):
    """A tiny tmpfs for the logs (skipped where mount is not allowed): filled up,
    requests are still answered and failures counted; freed, logging resumes."""
    logs = str(tmp_path / "logs")
    os.makedirs(logs)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", logs],
                      capture_output=True).returncode != 0:
        import pytest
        pytest.skip("cannot mount a tmpfs here")
    srv = None
    try:
        srv = make_server(tree(access_log="logs/access.log", error_log="logs/error.log"))
        assert srv.get("/pid").status == 200
        filler = os.path.join(logs, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            for _ in range(1000):  # 256k at most: bounded
                os.write(fd, b"x" * 1024)
        except OSError:
            pass  # ENOSPC: the disk is full
        finally:
            os.close(fd)
        for _ in range(50):
            assert srv.get("/pid?full").status == 200
        assert status(srv)["faults"]["log_write_failures"] > 0
        assert "log write(s) failed" in srv.log()  # said on stderr
        os.unlink(filler)
        assert srv.get("/pid?after").status == 200

        def logged():  # the access line is written just after the answer
            with open(os.path.join(logs, "access.log")) as f:
                return "/pid?after" in f.read()
        assert srv.wait_for(logged, timeout=10)
    finally:
        if srv is not None:
            srv.stop()
        subprocess.run(["umount", "-l", logs], capture_output=True)


SLOW_START = """
import os, time
here = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(here, "inside"), "w").close()
for _ in range(1000):  # at most 10 s
    if os.path.exists(os.path.join(here, "go")):
        break
    time.sleep(0.01)
"""


def test_a_signal_while_a_worker_starts_waits_for_its_handlers(make_server):
    """SIGHUP (reload) sent while the worker is still starting -- held here
    inside a main_imports module -- is handled once the worker's handlers are
    in place, instead of killing it with the default action."""
    srv = make_server(dict(tree(), **{"lib/slow_start.py": SLOW_START}),
                      python_extra='path = ["lib"]\nmain_imports = ["slow_start"]')
    inside, go = os.path.join(srv.root, "lib", "inside"), os.path.join(srv.root, "lib", "go")
    assert srv.wait_for(lambda: os.path.exists(inside), timeout=15), srv.log()[-2000:]
    with open("/proc/%d/task/%d/children" % (srv.proc.pid, srv.proc.pid)) as f:
        workers = [int(p) for p in f.read().split()]
    assert len(workers) == 1, workers
    os.kill(workers[0], signal.SIGHUP)
    open(go, "w").close()
    assert retry_get(srv, "/x").status == 200
    assert srv.wait_for(lambda: "generation 2" in srv.log(), timeout=15), srv.log()[-2000:]
    assert "killed by SIGHUP" not in srv.log()
    assert not gone(workers[0])

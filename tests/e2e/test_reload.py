"""Hot reload without restarting interpreters, and the service lifecycle:
SIGHUP, inotify, broken edits, new and deleted sites, handler autoreload,
SIGTERM with cleanups and atexit, SIGUSR1, systemd notify, the status page."""

import http.client
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import Server, chromium, dump_dom, free_port, write_tree

COUNTER = """
from mod_python import apache

hits = 0

def handler(req):
    global hits
    hits += 1
    req.content_type = "text/plain"
    req.write("%s %d %s" % (req.get_options().get("colour", "-"), hits, req.interpreter))
    return apache.OK
"""


def site(colour, name="r.test", root="../w", extra=""):
    return """
[[site]]
server_name = "%s"
document_root = "%s"
handler = "h"
options = { colour = "%s" }
%s
""" % (name, root, colour, extra)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # as editors that save by rename do


def body(srv, host="r.test", path="/"):
    r = srv.get(path, host=host)
    return r.text if r.status == 200 else "HTTP %d" % r.status


def test_file_edit_applies_and_interpreter_keeps_state(make_server):
    srv = make_server({"sites.d/r.toml": site("red"), "w/h.py": COUNTER}, reload="watch")
    assert body(srv) == "red 1 r.test"
    assert body(srv) == "red 2 r.test"
    write(os.path.join(srv.root, "sites.d", "r.toml"), site("blue"))
    assert srv.wait_for(lambda: body(srv).startswith("blue"))
    text = body(srv)
    colour, hits, interp = text.split()
    assert colour == "blue" and interp == "r.test"
    assert int(hits) >= 4  # the module-level counter kept counting: same interpreter


def test_sighup_applies_in_signal_mode(make_server):
    srv = make_server({"sites.d/r.toml": site("red"), "w/h.py": COUNTER}, reload="signal")
    assert body(srv) == "red 1 r.test"
    with open(os.path.join(srv.root, "sites.d", "r.toml"), "w") as f:
        f.write(site("green"))
    time.sleep(0.3)
    assert body(srv) == "red 2 r.test"  # no watching in "signal" mode
    srv.signal(signal.SIGHUP)
    assert srv.wait_for(lambda: body(srv).startswith("green"))
    assert body(srv).split()[1] != "1"


def test_broken_edit_keeps_old_config_then_fix_applies(make_server):
    srv = make_server({"sites.d/r.toml": site("red"), "w/h.py": COUNTER}, reload="watch")
    assert body(srv).startswith("red")
    path = os.path.join(srv.root, "sites.d", "r.toml")
    write(path, site("blue") + "\nbogus_key = 1\n")
    assert srv.wait_for(lambda: "configuration not applied" in srv.log())
    assert "r.toml:" in srv.log() and "bogus_key" in srv.log()
    assert body(srv).startswith("red")  # the old config keeps serving
    write(path, site("blue"))
    assert srv.wait_for(lambda: body(srv).startswith("blue"))


def test_new_site_file_serves_and_deleted_one_stops(make_server):
    srv = make_server({"sites.d/r.toml": site("red", extra="default = true"), "w/h.py": COUNTER,
                       "w2/h.py": COUNTER}, reload="watch")
    assert body(srv, host="new.test").endswith("r.test")  # the default site answers
    write(os.path.join(srv.root, "sites.d", "new.toml"), site("new", name="new.test", root="../w2"))
    assert srv.wait_for(lambda: body(srv, host="new.test").endswith("new.test"))
    os.unlink(os.path.join(srv.root, "sites.d", "new.toml"))
    assert srv.wait_for(lambda: body(srv, host="new.test").endswith(" r.test"))


def test_handler_edit_is_picked_up_without_losing_other_state(make_server):
    other = """
from mod_python import apache
hits = 0
def handler(req):
    global hits
    hits += 1
    req.write("other %d" % hits)
    return apache.OK
"""
    srv = make_server({
        "sites.d/r.toml": """
[[site]]
server_name = "r.test"
document_root = "../w"
[[site.directory]]
path = "a"
handler = "h"
[[site.directory]]
path = "b"
handler = "other"
""",
        "w/a/h.py": "from mod_python import apache\ndef handler(req):\n    req.write('v1')\n    return apache.OK\n",
        "w/b/other.py": other,
    })
    assert srv.get("/a/", host="r.test").text == "v1"
    assert srv.get("/b/", host="r.test").text == "other 1"
    assert srv.get("/b/", host="r.test").text == "other 2"
    path = os.path.join(srv.root, "w", "a", "h.py")
    with open(path, "w") as f:
        f.write("from mod_python import apache\ndef handler(req):\n    req.write('v2')\n    return apache.OK\n")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert srv.wait_for(lambda: srv.get("/a/", host="r.test").text == "v2", timeout=10)
    assert srv.get("/b/", host="r.test").text == "other 3"  # the other module kept its state


def test_module_that_fails_to_import_recovers(make_server):
    srv = make_server({"sites.d/r.toml": site("x"),
                       "w/h.py": "from mod_python import apache\ndef handler(req:\n"}, debug=True)
    r = srv.get("/", host="r.test")
    assert r.status == 500 and b"SyntaxError" in r.body
    path = os.path.join(srv.root, "w", "h.py")
    with open(path, "w") as f:
        f.write(COUNTER)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert srv.wait_for(lambda: srv.get("/", host="r.test").status == 200, timeout=10)


def test_new_import_entries_run_once(make_server):
    warm = "import os\nwith open(os.path.join(os.path.dirname(__file__), 'runs.log'), 'a') as f:\n" \
           "    f.write('ran\\n')\n"
    srv = make_server({"sites.d/r.toml": site("a"), "w/h.py": COUNTER, "w/warm.py": warm}, reload="signal")
    runs = os.path.join(srv.root, "w", "runs.log")
    assert not os.path.exists(runs)
    # the worker handles SIGHUP once it serves (it says so): generation 1 until then
    assert srv.wait_for(lambda: "[server] listening on" in srv.log()), srv.log()[-2000:]
    with open(os.path.join(srv.root, "sites.d", "r.toml"), "w") as f:
        f.write(site("a", extra='import = ["warm"]'))
    srv.signal(signal.SIGHUP)
    assert srv.wait_for(lambda: os.path.exists(runs))
    srv.signal(signal.SIGHUP)
    # the second reload is done (its imports run before it says so)
    assert srv.wait_for(lambda: "configuration generation 3 applied" in srv.log()), srv.log()[-2000:]
    assert srv.get("/", host="r.test").status == 200
    with open(runs) as f:
        assert f.read() == "ran\n"


def test_sigterm_finishes_in_flight_runs_cleanups_and_atexit(make_server):
    handler = """
import atexit, os, time
from mod_python import apache

here = os.path.dirname(__file__)
atexit.register(lambda: open(os.path.join(here, "atexit.done"), "w").close())

def cleanup(data):
    open(os.path.join(here, "cleanup.done"), "w").close()

def handler(req):
    req.register_cleanup(cleanup, None)
    open(os.path.join(here, "started"), "w").close()
    for _ in range(600):  # until the test opens the gate (bounded: 30 s)
        if os.path.exists(os.path.join(here, "gate")):
            break
        time.sleep(0.05)
    req.write("finished")
    return apache.OK
"""
    srv = make_server({"sites.d/r.toml": site("x", extra="offload = true"), "w/h.py": handler})
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", srv.get("/?1", host="r.test")))
    t.start()
    # SIGTERM once the request is inside its handler (not while it still waits
    # in the kernel's accept queue: a stopping server does not accept)
    assert srv.wait_for(lambda: os.path.exists(os.path.join(srv.root, "w", "started")), timeout=30)
    srv.signal(signal.SIGTERM)
    # the worker is stopping with the request still in its handler: let it finish
    assert srv.wait_for(lambda: "stopping: no new connections" in srv.log(), timeout=30), srv.log()[-2000:]
    open(os.path.join(srv.root, "w", "gate"), "w").close()
    code = srv.stop(signal.SIGTERM)
    t.join(10)
    assert code == 0
    assert result["r"].status == 200 and result["r"].text == "finished"
    assert os.path.exists(os.path.join(srv.root, "w", "cleanup.done"))
    assert os.path.exists(os.path.join(srv.root, "w", "atexit.done"))


def test_sigusr1_reopens_logs(make_server, tmp_path):
    srv = make_server({"sites.d/r.toml": site("x"), "w/h.py": COUNTER}, access_log="access.log")
    log = os.path.join(srv.root, "access.log")
    assert srv.get("/first", host="r.test").status == 200
    assert srv.wait_for(lambda: os.path.exists(log) and "/first" in open(log).read())
    os.rename(log, log + ".1")
    srv.signal(signal.SIGUSR1)
    assert srv.wait_for(lambda: os.path.exists(log))
    # the supervisor reopens first, then forwards the signal: wait for the worker too
    assert srv.wait_for(lambda: srv.log().count("reopened the log files") >= 2), srv.log()[-2000:]
    srv.get("/second", host="r.test")
    assert srv.wait_for(lambda: "/second" in open(log).read())
    assert "/second" not in open(log + ".1").read()


def test_systemd_notify(make_server, tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(10)
    try:
        srv = make_server({"sites.d/r.toml": site("x"), "w/h.py": COUNTER}, env={"NOTIFY_SOCKET": sock_path})
        messages = [sock.recv(4096).decode()]
        assert "READY=1" in messages[0]
        srv.signal(signal.SIGHUP)
        messages.append(sock.recv(4096).decode())
        messages.append(sock.recv(4096).decode())
        assert "RELOADING=1" in messages[1] and "READY=1" in messages[2]
        srv.stop()
        assert "STOPPING=1" in sock.recv(4096).decode()
    finally:
        sock.close()


STATUS_SITE = {"sites.d/r.toml": site("x"), "w/h.py": COUNTER}


def test_status_page_json_and_metrics(make_server):
    srv = make_server(dict(STATUS_SITE), server_extra='status = "/server-status"', reload="signal")
    srv.get("/", host="r.test")
    srv.signal(signal.SIGHUP)
    status = lambda: srv.get("/server-status?json").json()  # noqa: E731
    data = srv.wait_for(lambda: (lambda d: d if d["config_generation"] == 2 else None)(status()))
    assert data and data["config_generation"] == 2
    assert data["last_reload"]["ok"] is True and data["last_reload"]["error"] is None
    names = {i["name"]: i for i in data["interpreters"]}
    assert "main_interpreter" in names and names["r.test"]["requests"] == 1
    assert names["r.test"]["modules_loaded"] >= 1
    assert data["requests"] >= 2 and data["uptime_seconds"] >= 0
    assert srv.get("/server-status", headers={"Accept": "application/json"}).json()["sites"] == 1
    metrics = srv.get("/server-status?metrics").text
    assert re.search(r'^subhttpd_interpreter_requests_total\{worker="0",pid="\d+",interpreter="r.test"\} 1$',
                     metrics, re.M), metrics
    assert re.search(r'^subhttpd_config_generation\{worker="0",pid="\d+"\} 2$', metrics, re.M), metrics
    # a failed reload shows its error
    with open(os.path.join(srv.root, "sites.d", "r.toml"), "a") as f:
        f.write("\nnope = 1\n")
    srv.signal(signal.SIGHUP)
    data = srv.wait_for(lambda: (lambda d: d if d["last_reload"]["ok"] is False else None)(status()))
    assert data and "nope" in data["last_reload"]["error"]


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed (scripts/deps.sh test installs it)")
def test_status_page_html_in_headless_chromium(make_server, tmp_path):
    srv = make_server(dict(STATUS_SITE), server_extra='status = "/server-status"')
    srv.get("/", host="r.test")
    dom, err = dump_dom(srv.url + "/server-status", tmp_path / "chromium-profile")
    assert "<h1>subhttpd status</h1>" in dom, err[-2000:]
    assert 'id="interpreters"' in dom and "r.test" in dom and "main_interpreter" in dom


def test_listen_changes_open_and_close_listeners(tmp_path):
    root = str(tmp_path)
    p1, p2 = free_port(), free_port()
    main = """
[server]
listen = [%s]
sites = ["sites.d/*.toml"]
reload = "watch"
"""
    write_tree(root, {"server.toml": main % ('"127.0.0.1:%d"' % p1), "sites.d/r.toml": site("x"),
                      "w/h.py": COUNTER})
    srv = Server(root, os.path.join(root, "server.toml"), p1)
    srv.listen_override = False
    srv.start()
    try:
        keep = http.client.HTTPConnection("127.0.0.1", p1, timeout=10)
        keep.request("GET", "/", headers={"Host": "r.test"})
        assert keep.getresponse().read().startswith(b"x 1")
        write(os.path.join(root, "server.toml"), main % ('"127.0.0.1:%d", "127.0.0.1:%d"' % (p1, p2)))

        def answers(port):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/", headers={"Host": "r.test"})
                return c.getresponse().status == 200
            except OSError:
                return False

        assert srv.wait_for(lambda: answers(p2))
        # the existing keep-alive connection on the first listener is undisturbed
        keep.request("GET", "/", headers={"Host": "r.test"})
        assert keep.getresponse().status == 200
        write(os.path.join(root, "server.toml"), main % ('"127.0.0.1:%d"' % p2))
        assert srv.wait_for(lambda: not answers(p1))
        assert answers(p2)
        keep.close()
    finally:
        srv.stop()

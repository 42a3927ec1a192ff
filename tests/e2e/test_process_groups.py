"""Process groups ([[process_group]], mod_wsgi's daemon mode): sites served by
their own supervised processes, each with its own main interpreter, reached by
handing the client connection over (SCM_RIGHTS) with the bytes already read.
Keep-alive and pipelining across the hand-off, request bodies, a crash that
touches only its group, config errors, and two groups under two Unix users
that cannot read each other's files or memory."""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading

import pytest

import conftest
from conftest import SOURCE_DIR, Server, free_port, run_cli, upgrade_under_load

HAVE_NUMPY = subprocess.run(["/usr/bin/python3", "-c", "import numpy"], capture_output=True).returncode == 0

HANDLERS = {
    "mp/h.py": """
        import ctypes
        import importlib
        import os
        from mod_python import apache

        def handler(req):
            req.content_type = "text/plain"
            if req.uri == "/crash":
                ctypes.string_at(0)          # SIGSEGV in this process
            if req.uri == "/stall":
                ctypes.PyDLL(None).sleep(600)  # holds this process's loop
            if req.uri == "/big":
                req.write("x" * (4 * 1024 * 1024), 0)
                return apache.OK
            if req.uri == "/option":
                req.write("%s v=%s" % (req.hostname, req.get_options().get("v", "")), 0)
                return apache.OK
            if req.uri == "/echo":
                body = req.read()
                req.write("%s %d %s" % (req.hostname, len(body), body[:40].decode("latin-1")), 0)
                return apache.OK
            if req.uri == "/numpy":
                np = importlib.import_module("numpy")
                req.write("%s %s %d" % (req.interpreter, int(np.arange(10).sum()), os.getpid()), 0)
                return apache.OK
            req.write("%s pid=%d interp=%s" % (req.hostname, os.getpid(), req.interpreter), 0)
            return apache.OK
    """,
}

SITES = """
    [[site]]
    server_name = "sub.test"
    default = true
    document_root = "../mp"
    handler = "h"

    [[site]]
    server_name = "grp.test"
    document_root = "../mp"
    handler = "h"
    process_group = "analytics"

    [[site]]
    server_name = "mixed.test"
    document_root = "../mp"
    handler = "h"
    [[site.location]]
    path = "/g"
    process_group = "analytics"
"""

GROUPS = """
[[process_group]]
name = "analytics"
processes = 1
"""


def start(make_server, sites=SITES, groups=GROUPS, **kw):
    files = dict(HANDLERS)
    files["sites.d/s.toml"] = sites
    return make_server(files, limits=groups, **kw)


def pid_of(resp):
    text = resp.text
    return int(text.split("pid=")[1].split()[0])


def read_response(sock_file):
    """One HTTP/1.1 response with Content-Length from a socket file."""
    status_line = sock_file.readline()
    assert status_line, "connection closed"
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = sock_file.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, sock_file.read(length)


def group_answer(srv, other_than=None):
    """The group site's 200 answer, from a process other than `other_than`;
    None while the group is down (for a bounded srv.wait_for)."""
    try:
        resp = srv.get("/", host="grp.test", timeout=5)
    except (http.client.HTTPException, OSError):
        return None
    if resp.status != 200 or (other_than is not None and pid_of(resp) == other_than):
        return None
    return resp


def test_group_site_is_served_by_its_own_process(make_server):
    srv = start(make_server)
    sub = srv.get("/", host="sub.test")
    grp = srv.get("/", host="grp.test")
    assert sub.status == 200 and grp.status == 200, (sub, grp, srv.log()[-2000:])
    assert grp.text.startswith("grp.test") and "interp=grp.test" in grp.text
    assert pid_of(sub) != pid_of(grp)
    # Only the block in the group goes there; the rest of the site stays in the worker.
    inside = srv.get("/g/x", host="mixed.test")
    outside = srv.get("/x", host="mixed.test")
    assert pid_of(inside) == pid_of(grp)
    assert pid_of(outside) == pid_of(sub)


@pytest.mark.skipif(not HAVE_NUMPY, reason="python3-numpy is not installed")
@pytest.mark.parametrize("first", ["sub.test", "grp.test"])
def test_numpy_in_group_beside_a_subinterpreter_site(make_server, first):
    srv = start(make_server)
    order = [first, "grp.test" if first == "sub.test" else "sub.test"]
    answers = {}
    for host in order + order:
        r = srv.get("/numpy", host=host)
        assert r.status == 200, (host, r, srv.log()[-3000:])
        answers.setdefault(host, set()).add(r.text)
    assert len(answers["sub.test"]) == 1 and len(answers["grp.test"]) == 1
    assert list(answers["grp.test"])[0].startswith("grp.test 45 ")
    assert list(answers["sub.test"])[0].startswith("sub.test 45 ")


def test_crash_in_group_touches_only_the_group(make_server):
    srv = start(make_server)
    before = pid_of(srv.get("/", host="grp.test"))
    worker = pid_of(srv.get("/", host="sub.test"))
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        srv.get("/crash", host="grp.test", timeout=10)
    # The other site serves on, from the same worker.
    r = srv.get("/", host="sub.test")
    assert r.status == 200 and pid_of(r) == worker
    # The group comes back (bounded wait), in a new process.
    again = srv.wait_for(lambda: group_answer(srv), timeout=20)
    assert again, srv.log()[-3000:]
    assert pid_of(again) != before
    log = srv.log()
    assert "process group 'analytics' process %d killed by SIGSEGV" % before in log, log[-3000:]


def test_stall_in_group_touches_only_the_group(make_server):
    srv = start(make_server, server_extra='stall_timeout = "1s"')
    before = pid_of(srv.get("/", host="grp.test"))
    worker = pid_of(srv.get("/", host="sub.test"))
    done = []

    def stall():
        try:
            srv.get("/stall", host="grp.test", timeout=30)
        except (http.client.HTTPException, OSError):
            pass
        done.append(True)

    t = threading.Thread(target=stall)
    t.start()
    try:
        assert srv.wait_for(lambda: "stalled" in srv.log(), timeout=30), srv.log()[-3000:]
        r = srv.get("/", host="sub.test")
        assert r.status == 200 and pid_of(r) == worker
        assert srv.wait_for(lambda: group_answer(srv, other_than=before), timeout=30), srv.log()[-3000:]
    finally:
        t.join(40)
    assert done


def test_group_reloads_with_the_config(make_server):
    sites = SITES.replace('process_group = "analytics"\n', 'process_group = "analytics"\n    options = { v = "one" }\n', 1)
    srv = start(make_server, sites=sites, reload="signal")
    assert srv.get("/option", host="grp.test").text == "grp.test v=one"
    path = os.path.join(srv.root, "sites.d", "s.toml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('v = "one"', 'v = "two"'))
    srv.signal(signal.SIGHUP)
    assert srv.wait_for(lambda: srv.get("/option", host="grp.test").text == "grp.test v=two", timeout=20), \
        srv.log()[-3000:]


def test_sigusr2_upgrade_with_a_group_drops_nothing(make_server):
    srv = start(make_server)
    before = pid_of(srv.get("/", host="grp.test"))

    def fetch():
        r = srv.get("/", host="grp.test", timeout=20)
        return r.status, pid_of(r) if r.status == 200 else 0

    results = upgrade_under_load(srv, fetch, before, most=3000)
    bad = [r for r in results if r[0] != 200]
    assert not bad, (bad[:5], srv.log()[-3000:])


@pytest.mark.parametrize("workers", [1, 2])
def test_keep_alive_and_pipelining_across_the_hand_off(make_server, workers):
    # Two workers and two group processes: every one shares the channels.
    srv = start(make_server, server_extra="workers = %d" % workers,
                groups=GROUPS.replace("processes = 1", "processes = %d" % workers))
    # Keep-alive: one connection, alternating between a worker site and a group site.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
    try:
        seen = []
        for host in ["sub.test", "grp.test", "grp.test", "sub.test", "grp.test"]:
            conn.putrequest("GET", "/", skip_host=True)
            conn.putheader("Host", host)
            conn.endheaders()
            r = conn.getresponse()
            body = r.read().decode()
            assert r.status == 200, body
            seen.append(body.split()[0])
        assert seen == ["sub.test", "grp.test", "grp.test", "sub.test", "grp.test"]
    finally:
        conn.close()
    # Pipelining: every request written at once, answers in order.
    reqs = [("GET", "/", "sub.test", b""), ("GET", "/", "grp.test", b""),
            ("POST", "/echo", "grp.test", b"hello body"), ("GET", "/", "sub.test", b""),
            ("POST", "/echo", "sub.test", b"second"), ("GET", "/", "grp.test", b"")]
    wire = b""
    for method, path, host, body in reqs:
        wire += ("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" % (method, path, host, len(body))).encode()
        wire += body
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    try:
        s.sendall(wire)
        f = s.makefile("rb")
        got = [read_response(f) for _ in reqs]
    finally:
        s.close()
    assert [st for st, _ in got] == [200] * len(reqs), got
    assert got[0][1].startswith(b"sub.test") and got[1][1].startswith(b"grp.test")
    assert got[2][1] == b"grp.test 10 hello body"
    assert got[3][1].startswith(b"sub.test")
    assert got[4][1] == b"sub.test 6 second"
    assert got[5][1].startswith(b"grp.test")


def test_answers_before_the_hand_off_leave_first(make_server):
    # A large answer still being written when the next (pipelined) request goes
    # to the group: the hand-off waits until it has left.
    srv = start(make_server)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        s.sendall(b"GET /big HTTP/1.1\r\nHost: sub.test\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: grp.test\r\n\r\n"
                  b"GET /big HTTP/1.1\r\nHost: grp.test\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: sub.test\r\n\r\n")
        f = s.makefile("rb")
        got = [read_response(f) for _ in range(4)]
    finally:
        s.close()
    assert [st for st, _ in got] == [200] * 4
    assert got[0][1] == b"x" * (4 * 1024 * 1024) and got[2][1] == got[0][1]
    assert got[1][1].startswith(b"grp.test") and got[3][1].startswith(b"sub.test")


@pytest.mark.parametrize("size", [5, 40000, 300000])
def test_request_body_already_read_reaches_the_group(make_server, size):
    srv = start(make_server)
    body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    r = srv.post("/echo", body, host="grp.test")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"grp.test %d %s" % (size, body[:40])
    # Chunked, with Expect: 100-continue: the body is framed again for the group.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    try:
        head = b"POST /echo HTTP/1.1\r\nHost: grp.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7000]), body[i:i + 7000])
                          for i in range(0, len(body), 7000)) + b"0\r\n\r\n"
        s.sendall(head + chunks)
        status, data = read_response(s.makefile("rb"))
    finally:
        s.close()
    assert status == 200 and data == b"grp.test %d %s" % (size, body[:40])


def test_status_page_lists_group_processes(make_server):
    srv = start(make_server, server_extra='status = "/server-status"')
    assert srv.get("/", host="grp.test").status == 200
    st = srv.get("/server-status?json", host="sub.test").json()
    groups = st["process_groups"]
    assert [(g["group"], g["index"]) for g in groups] == [("analytics", 0)]
    assert groups[0]["pid"] > 0 and groups[0]["serving"] is True
    html = srv.get("/server-status", host="sub.test").text
    assert "process groups" in html and "analytics" in html
    metrics = srv.get("/server-status?metrics", host="sub.test").text
    assert 'subhttpd_process_group_up{group="analytics",process="0"} 1' in metrics


def test_unknown_group_name_is_a_config_error(tmp_path):
    (tmp_path / "mp").mkdir()
    main = tmp_path / "server.toml"
    main.write_text('[server]\nlisten = ["127.0.0.1:1"]\n\n[[process_group]]\nname = "known"\n\n'
                    '[[site]]\nserver_name = "a.test"\ndocument_root = "mp"\nhandler = "h"\n'
                    'process_group = "nope"\n')
    done = run_cli("check", "-c", str(main))
    assert done.returncode == 1
    assert "%s:11:17: process_group 'nope' is not defined (defined: known)" % main in done.stderr, done.stderr
    main.write_text(main.read_text().replace('"nope"', '"known"'))
    done = run_cli("check", "-c", str(main))
    assert done.returncode == 0, done.stderr
    assert "process_group 'known'" in done.stdout and "serves: a.test" in done.stdout
    done = run_cli("route", "-c", str(main), "http://a.test/x")
    assert "process_group: known" in done.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nlisten = ["127.0.0.1:1"]\n\n[[process_group]]\nname = "x"\nprocesses = 0\nshell = 1\n')
    done = run_cli("check", "-c", str(bad))
    assert done.returncode == 1
    assert "bad.toml:6:13:" in done.stderr and "unknown key 'shell' in [[process_group]]" in done.stderr, done.stderr


def test_unknown_user_refuses_to_start(make_server):
    srv = start(make_server, groups=GROUPS + 'user = "no-such-user-here"\n', start=False)
    with pytest.raises(RuntimeError) as e:
        srv.start(timeout=10)
    if os.geteuid() == 0:
        assert "no such user 'no-such-user-here'" in str(e.value)
    else:
        assert "the server must start as root to switch to it" in str(e.value)


def test_user_needs_the_server_started_as_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to start the server as another user")
    nobody = pwd.getpwnam("nobody")
    (tmp_path / "mp").mkdir()
    main = tmp_path / "server.toml"
    main.write_text('[server]\nlisten = ["127.0.0.1:%d"]\nerror_log = "-"\n\n[[process_group]]\nname = "g"\n'
                    'user = "root"\n\n[[site]]\nserver_name = "a.test"\ndocument_root = "mp"\nhandler = "h"\n'
                    'process_group = "g"\n' % free_port())
    os.chmod(str(tmp_path), 0o755)
    p = str(tmp_path)
    while p not in ("/", "/tmp"):
        os.chmod(p, os.stat(p).st_mode | 0o711)
        p = os.path.dirname(p)

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    done = subprocess.run([conftest.BINARY, "-c", str(main)], capture_output=True, text=True, timeout=30,
                          preexec_fn=as_nobody)
    assert done.returncode == 1, done.stderr
    assert "server.toml:5:1: process_group 'g' runs as user 'root': the server must start as root" in done.stderr, \
        done.stderr


# ---- two Unix users ---------------------------------------------------------

USERS = ["subhttpd-ta", "subhttpd-tb"]

TWO_USERS_HANDLER = """
import os
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    what = req.args or ""
    out = ["uid=%d pid=%d" % (os.getuid(), os.getpid())]
    for part in what.split("&"):
        if not part:
            continue
        kind, _, target = part.partition("=")
        try:
            if kind == "file":
                with open(target) as f:
                    out.append("read:" + f.read().strip())
            elif kind == "mem":
                with open("/proc/%s/mem" % target, "rb") as f:
                    f.seek(4096)
                    f.read(1)
                out.append("mem:open")
        except PermissionError:
            out.append(kind + ":denied")
        except OSError as e:
            out.append(kind + ":error " + e.__class__.__name__)
    req.write(" ".join(out), 0)
    return apache.OK
"""


@pytest.fixture
def two_users(tmp_path):
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd")
    made = []
    try:
        for u in USERS:
            try:
                pwd.getpwnam(u)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", u],
                               check=True, capture_output=True)
                made.append(u)
        yield [pwd.getpwnam(u) for u in USERS]
    finally:
        for u in made:
            subprocess.run(["userdel", u], capture_output=True)


def test_groups_under_two_users_cannot_reach_each_other(make_server, tmp_path, two_users):
    a, b = two_users
    # The test tree must be reachable by both users (pytest's tmp folders are 0700).
    p = str(tmp_path)
    while p not in ("/", "/tmp"):
        os.chmod(p, os.stat(p).st_mode | 0o711)
        p = os.path.dirname(p)
    files = {}
    for user in (a, b):
        files["%s/h.py" % user.pw_name] = TWO_USERS_HANDLER
        files["%s/secret.txt" % user.pw_name] = "secret of %s\n" % user.pw_name
    files["sites.d/s.toml"] = "".join("""
        [[site]]
        server_name = "%s.test"
        document_root = "../%s"
        handler = "h"
        process_group = "%s"
    """ % (u.pw_name, u.pw_name, u.pw_name) for u in (a, b))
    groups = "".join('\n[[process_group]]\nname = "%s"\nuser = "%s"\ngroup = "%s"\n' % (u.pw_name, u.pw_name, u.pw_name)
                     for u in (a, b))
    srv = make_server(files, limits=groups, start=False)
    for user in (a, b):
        d = os.path.join(srv.root, user.pw_name)
        for name in ["", "h.py", "secret.txt"]:
            path = os.path.join(d, name) if name else d
            os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(d, 0o700)
        os.chmod(os.path.join(d, "secret.txt"), 0o600)
    srv.start()
    secret_a = os.path.join(srv.root, a.pw_name, "secret.txt")
    secret_b = os.path.join(srv.root, b.pw_name, "secret.txt")
    rb = srv.get("/?file=" + secret_b, host="%s.test" % b.pw_name)
    assert rb.status == 200, (rb, srv.log()[-3000:])
    assert rb.text.startswith("uid=%d " % b.pw_uid) and "read:secret of %s" % b.pw_name in rb.text
    pid_b = int(rb.text.split("pid=")[1].split()[0])
    ra = srv.get("/?file=%s&mem=%d&file=%s" % (secret_b, pid_b, secret_a), host="%s.test" % a.pw_name)
    assert ra.status == 200, (ra, srv.log()[-3000:])
    assert ra.text.startswith("uid=%d " % a.pw_uid)
    assert "file:denied" in ra.text and "mem:denied" in ra.text, ra.text
    assert "read:secret of %s" % a.pw_name in ra.text
    assert "secret of %s" % b.pw_name not in ra.text


# ---- the Django sample: a numpy page from a process group ---------------------

def test_django_sample_numpy_page_from_a_process_group(tmp_path):
    if subprocess.run(["/usr/bin/python3", "-c", "import django"], capture_output=True).returncode != 0:
        pytest.skip("python3-django is not installed")
    srv = Server(str(tmp_path), os.path.join(SOURCE_DIR, "samples", "wsgi.toml"), free_port())
    srv.start()
    try:
        def page():
            try:
                r = srv.get("/numbers?n=10", host="django2.localhost", timeout=10)
            except (http.client.HTTPException, OSError):
                return None
            return r if r.status in (200, 501) else None
        r = srv.wait_for(page, timeout=30)
        assert r, srv.log()[-3000:]
        data = json.loads(r.body)
        if not HAVE_NUMPY:
            assert r.status == 501 and "numpy" in data["error"]
            return
        assert r.status == 200, data
        assert data["sum"] == 45 and data["mean"] == 4.5 and data["process_group"] == "numeric"
        who = json.loads(srv.get("/whoami", host="django2.localhost").body)
        assert who["interpreter"] == "django2.localhost"
    finally:
        srv.stop()

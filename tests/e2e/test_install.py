"""Installable and operable: where the binary finds its Python runtime, --version,
busy ports and reuse_port, socket activation, log times that no handler's TZ
moves, the access-log formats, SIGUSR1, and the bash completion."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import BINARY, SOURCE_DIR, Server, free_port, run_cli, write_tree

# The build tree mirrors the installed one: build/reactor/subhttpd finds build/share/subhttpd/python.
BUILD_RUNTIME = os.path.join(os.path.dirname(os.path.dirname(BINARY)), "share", "subhttpd", "python")

HELLO = """
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("hello from %s" % req.interpreter)
    return apache.OK
"""

# Django's TIME_ZONE does exactly this for the whole process.
TZ_HANDLER = """
import os, time
from mod_python import apache

def handler(req):
    os.environ["TZ"] = "America/Chicago"
    time.tzset()
    req.content_type = "text/plain"
    req.write("offset %d" % time.timezone)
    return apache.OK
"""


def config(root, listen, server_extra="", access_log="-"):
    write_tree(root, {
        "server.toml": """
            [server]
            listen = ["%s"]
            sites = ["sites.d/*.toml"]
            reload = "off"
            access_log = "%s"
            error_log = "-"
            shutdown_grace = 5
            %s
            """ % (listen, access_log, server_extra),
        "sites.d/a.toml": """
            [[site]]
            server_name = "a.test"
            document_root = "../w"
            handler = "h"

            [[site.directory]]
            path = "tz"
            handler = "tz"
            """,
        "w/h.py": HELLO,
        "w/tz/tz.py": TZ_HANDLER,
    })
    return os.path.join(root, "server.toml")


def start(root, cfg, port, extra_args=(), env=None):
    srv = Server(root, cfg, port, extra_args, env)
    srv.listen_override = False
    return srv.start()


def run_until_exit(args, env=None, timeout=20):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=full)


# ---------------------------------------------------------------- the runtime

def test_the_build_tree_has_its_runtime_beside_the_binary():
    assert os.path.isfile(os.path.join(BUILD_RUNTIME, "subhttpd_runtime", "__init__.py"))
    assert os.path.isfile(os.path.join(BUILD_RUNTIME, "mod_python", "apache.py"))
    for package in ("subhttpd_runtime", "mod_python"):
        assert os.path.isdir(os.path.join(BUILD_RUNTIME, package, "__pycache__")), "byte-compiled in the build tree"


def test_a_copied_binary_names_every_place_it_looked(tmp_path):
    bindir = tmp_path / "opt" / "bin"
    bindir.mkdir(parents=True)
    copy = str(bindir / "subhttpd")
    shutil.copy(BINARY, copy)
    cfg = config(str(tmp_path), "127.0.0.1:%d" % free_port())
    env = {k: v for k, v in os.environ.items() if k != "SUBHTTPD_RUNTIME"}
    done = subprocess.run([copy, "-c", cfg], capture_output=True, text=True, timeout=20, env=env)
    assert done.returncode == 1, done.stderr
    assert "cannot find the subhttpd Python runtime" in done.stderr
    assert str(tmp_path / "opt" / "share" / "subhttpd" / "python") + " (beside the binary)" in done.stderr
    assert "(install prefix)" in done.stderr
    assert "SUBHTTPD_RUNTIME" in done.stderr and "--runtime" in done.stderr


@pytest.mark.parametrize("how", ["env", "flag"])
def test_a_copied_binary_runs_with_an_explicit_runtime(tmp_path, how, monkeypatch):
    copy = str(tmp_path / "subhttpd")
    shutil.copy(BINARY, copy)
    port = free_port()
    cfg = config(str(tmp_path), "127.0.0.1:%d" % port)
    srv = Server(str(tmp_path), cfg, port)
    srv.listen_override = False
    if how == "env":
        srv.env = {"SUBHTTPD_RUNTIME": BUILD_RUNTIME}
    else:
        srv.extra_args = ["--runtime", BUILD_RUNTIME]
    import conftest
    monkeypatch.setattr(conftest, "BINARY", copy)
    srv.start()
    try:
        r = srv.get("/x", host="a.test")
        assert r.status == 200 and r.text == "hello from a.test"
    finally:
        srv.stop()


@pytest.mark.parametrize("how", ["env", "flag"])
def test_a_wrong_explicit_runtime_is_an_error(tmp_path, how):
    cfg = config(str(tmp_path), "127.0.0.1:%d" % free_port())
    args = [BINARY, "-c", cfg]
    env = {}
    if how == "env":
        env["SUBHTTPD_RUNTIME"] = str(tmp_path)
    else:
        args += ["--runtime", str(tmp_path)]
    done = run_until_exit(args, env)
    assert done.returncode == 1
    name = "SUBHTTPD_RUNTIME" if how == "env" else "--runtime"
    assert "%s %s: not a subhttpd Python runtime" % (name, tmp_path) in done.stderr, done.stderr


def test_version_names_python_and_libevent():
    done = run_cli("--version")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("subhttpd ")
    assert re.match(r"^Python 3\.\d+\.\d+", lines[1]), done.stdout
    assert re.match(r"^libevent 2\.\d+\.\d+", lines[2]), done.stdout


# ---------------------------------------------------------------- ports

def test_a_busy_port_stops_the_second_server(tmp_path):
    port = free_port()
    first = start(str(tmp_path / "one"), config(str(tmp_path / "one"), "127.0.0.1:%d" % port), port)
    try:
        cfg2 = config(str(tmp_path / "two"), "127.0.0.1:%d" % port)
        done = run_until_exit([BINARY, "-c", cfg2])
        assert done.returncode != 0
        assert "127.0.0.1:%d: address already in use" % port in done.stderr, done.stderr
        assert first.get("/x", host="a.test").status == 200
    finally:
        first.stop()


def test_a_busy_port_stops_a_worker_parent_too(tmp_path):
    port = free_port()
    first = start(str(tmp_path / "one"), config(str(tmp_path / "one"), "127.0.0.1:%d" % port), port)
    try:
        cfg2 = config(str(tmp_path / "two"), "127.0.0.1:%d" % port, server_extra="workers = 2")
        done = run_until_exit([BINARY, "-c", cfg2])
        assert done.returncode != 0
        assert "127.0.0.1:%d: address already in use" % port in done.stderr, done.stderr
    finally:
        first.stop()


def test_reuse_port_lets_both_start(tmp_path):
    port = free_port()
    one = start(str(tmp_path / "one"), config(str(tmp_path / "one"), "127.0.0.1:%d" % port,
                                               server_extra="reuse_port = true"), port)
    two = None
    try:
        two = start(str(tmp_path / "two"), config(str(tmp_path / "two"), "127.0.0.1:%d" % port,
                                                   server_extra="reuse_port = true"), port)
        assert two.proc.poll() is None and one.proc.poll() is None
        assert two.get("/x", host="a.test").status == 200
    finally:
        if two is not None:
            two.stop()
        one.stop()


def test_workers_share_the_parents_sockets(tmp_path):
    port = free_port()
    srv = start(str(tmp_path), config(str(tmp_path), "127.0.0.1:%d" % port, server_extra="workers = 2"), port)
    try:
        for _ in range(4):
            assert srv.get("/x", host="a.test").status == 200
        assert "address already in use" not in srv.log()
    finally:
        assert srv.stop() == 0


def test_a_live_unix_socket_is_not_taken_over(tmp_path):
    path = str(tmp_path / "s.sock")
    held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    held.bind(path)
    held.listen(1)
    try:
        cfg = config(str(tmp_path), "unix:" + path)
        done = run_until_exit([BINARY, "-c", cfg])
        assert done.returncode != 0
        assert "unix:%s: address already in use" % path in done.stderr, done.stderr
        assert os.path.exists(path)
    finally:
        held.close()


# ---------------------------------------------------------------- socket activation

@pytest.mark.parametrize("workers", [1, 2])
def test_socket_activation_uses_the_passed_socket(tmp_path, workers):
    port = free_port()
    cfg = config(str(tmp_path), "127.0.0.1:%d" % port, server_extra="workers = %d" % workers)
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", port))
    held.listen(16)
    fd = os.dup(held.fileno())  # the copy handed over (not 3: the redirection would close it)
    if fd == 3:
        fd, spare = os.dup(fd), fd
        os.close(spare)
    # As systemd does: the socket as fd 3, LISTEN_FDS=1, LISTEN_PID = the server's pid.
    script = 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@" 3<&%d %d<&-' % (fd, fd)
    log = open(str(tmp_path / "server.log"), "wb")
    try:
        proc = subprocess.Popen(["/bin/bash", "-c", script, "bash", BINARY, "-c", cfg], stdout=log,
                                stderr=subprocess.STDOUT, pass_fds=(fd,))
    finally:
        os.close(fd)
        held.close()  # the server holds the socket now (systemd would keep a copy too)
    srv = Server(str(tmp_path), cfg, port)
    srv.proc = proc
    srv._log = log
    try:
        r = srv.wait_for(lambda: _try_get(srv), timeout=15)
        assert r is not None and r.status == 200, srv.log()
        assert "using the socket systemd passed for 127.0.0.1:%d" % port in srv.log()
        assert "address already in use" not in srv.log()
    finally:
        assert srv.stop() == 0


def _try_get(srv):
    if srv.proc.poll() is not None:
        raise AssertionError("subhttpd exited:\n" + srv.log())
    try:
        return srv.get("/x", host="a.test", timeout=5)
    except OSError:
        return None


# ---------------------------------------------------------------- logs

def start_in_tz(root, tz):
    """The server of config() on a free port, with TZ set in its environment."""
    port = free_port()
    return start(root, config(root, "127.0.0.1:%d" % port), port, env={"TZ": tz})


def access_lines(srv, marker):
    return [l for l in srv.log().splitlines() if marker in l]


def test_a_handler_setting_tz_does_not_move_the_log_times(tmp_path):
    srv = start_in_tz(str(tmp_path), "UTC")
    try:
        assert srv.get("/before", host="a.test").status == 200
        r = srv.get("/tz/x", host="a.test")
        assert r.status == 200 and r.text == "offset 21600", r.text
        assert srv.get("/after", host="a.test").status == 200
        assert srv.wait_for(lambda: access_lines(srv, '"GET /after '))
        for marker in ('"GET /before ', '"GET /after '):
            line = access_lines(srv, marker)[0]
            assert re.search(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\]", line), line
        srv.signal(signal.SIGHUP)  # anything that logs an error-log line after the tzset
        srv.signal(signal.SIGUSR1)
        assert srv.wait_for(lambda: "reopened the log files" in srv.log())
        errors = [l for l in srv.log().splitlines() if l.startswith("[") and "] [" in l]
        assert errors
        for l in errors:
            assert re.match(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] ", l), l
    finally:
        srv.stop()


def test_tz_from_the_environment_does_not_shift_either(tmp_path):
    srv = start_in_tz(str(tmp_path), "Asia/Kolkata")
    try:
        assert srv.get("/x", host="a.test").status == 200
        line = srv.wait_for(lambda: access_lines(srv, '"GET /x '))[0]
        assert "+0000]" in line and "+0530" not in line
    finally:
        srv.stop()


@pytest.mark.parametrize("fmt", ["combined", "common", "json"])
def test_access_log_formats(tmp_path, fmt):
    port = free_port()
    cfg = config(str(tmp_path), "127.0.0.1:%d" % port, server_extra='access_log_format = "%s"' % fmt)
    srv = start(str(tmp_path), cfg, port)
    try:
        r = srv.get("/f?q=1", host="a.test", headers={"User-Agent": "probe/1", "Referer": "http://r/"})
        assert r.status == 200
        line = srv.wait_for(lambda: access_lines(srv, "/f?q=1"))[0]
        if fmt == "json":
            obj = json.loads(line)
            assert obj["method"] == "GET" and obj["target"] == "/f?q=1" and obj["status"] == 200
            assert obj["protocol"] == "HTTP/1.1" and obj["remote_ip"] == "127.0.0.1"
            assert obj["user_agent"] == "probe/1" and obj["referer"] == "http://r/"
            assert obj["interpreter"] == "a.test" and obj["bytes"] == len(r.body)
            assert isinstance(obj["micros"], int)
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["time"])
        else:
            head = r'^127\.0\.0\.1 - - \[[^\]]+ \+0000\] "GET /f\?q=1 HTTP/1\.1" 200 %d' % len(r.body)
            tail = r' a\.test \d+us$'
            mid = r' "http://r/" "probe/1"' if fmt == "combined" else ""
            assert re.match(head + mid + tail, line), line
    finally:
        srv.stop()


def test_sigusr1_reopening_is_logged(tmp_path):
    port = free_port()
    cfg = config(str(tmp_path), "127.0.0.1:%d" % port, access_log="access.log")
    srv = start(str(tmp_path), cfg, port)
    try:
        srv.signal(signal.SIGUSR1)
        assert srv.wait_for(lambda: "[notice] [log] reopened the log files" in srv.log()), srv.log()
    finally:
        srv.stop()


# ---------------------------------------------------------------- bash completion

COMPLETION = os.path.join(SOURCE_DIR, "scripts", "completion", "subhttpd")


def complete(line, cwd):
    """COMPREPLY for the command line `line` (completing its last word)."""
    words = line.split(" ")
    script = 'source %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="%s"; COMP_POINT=${#COMP_LINE}; ' \
             '_subhttpd; printf "%%s\\n" "${COMPREPLY[@]}"' % (
                 COMPLETION, " ".join("'%s'" % w for w in words), len(words) - 1, line)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=cwd, timeout=20)
    assert done.returncode == 0, done.stderr
    return sorted(x for x in done.stdout.splitlines() if x)


def test_bash_completion(tmp_path):
    (tmp_path / "server.toml").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    cwd = str(tmp_path)
    assert complete("subhttpd ", cwd) == ["check", "help", "init", "route", "run"]
    assert complete("subhttpd ch", cwd) == ["check"]
    assert "--runtime" in complete("subhttpd run --", cwd)
    assert "--json" in complete("subhttpd check --", cwd)
    assert "--method" in complete("subhttpd route --", cwd)
    assert complete("subhttpd run -c ", cwd) == ["server.toml", "sub"]
    assert complete("subhttpd route -c server.toml x --method P", cwd) == ["PATCH", "POST", "PUT"]


# ---------------------------------------------------------------- metrics

def test_metrics_carry_build_info_and_process_figures(tmp_path):
    port = free_port()
    cfg = config(str(tmp_path), "127.0.0.1:%d" % port, server_extra='status = "/server-status"')
    srv = start(str(tmp_path), cfg, port)
    try:
        r = srv.get("/server-status?metrics")
        assert r.status == 200
        version = run_cli("--version").stdout.splitlines()
        python = version[1].split()[1]
        libevent = version[2].split()[1]
        assert 'subhttpd_build_info{version="%s",python="%s",libevent="%s"} 1' % (
            version[0].split()[1], python, libevent) in r.text, r.text
        values = dict(l.split(" ", 1) for l in r.text.splitlines() if l and not l.startswith("#") and "{" not in l)
        assert float(values["process_resident_memory_bytes"]) > 1e6
        assert float(values["process_open_fds"]) >= 3
        assert float(values["process_cpu_seconds_total"]) > 0
        assert float(values["process_start_time_seconds"]) > 1.7e9  # unix time, not an uptime
    finally:
        srv.stop()

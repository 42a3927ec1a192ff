"""End-to-end harness: starts the real subhttpd binary on a free loopback port
with a temporary config tree, talks HTTP to it, and stops it by PID."""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import threading
import time

import pytest

SOURCE_DIR = os.environ.get("SUBHTTPD_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("SUBHTTPD_BIN", os.path.join(SOURCE_DIR, "build", "reactor", "subhttpd"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response(object):
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


class Server(object):
    """One running subhttpd process."""

    def __init__(self, root, config, port, extra_args=(), env=None):
        self.root = root
        self.config = config
        self.port = port
        self.log_path = os.path.join(root, "server.log")
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None
        self.listen_override = True  # False: the config's own `listen` is used

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=15.0):
        self._log = open(self.log_path, "ab")
        args = [BINARY, "-c", self.config]
        if self.listen_override:
            args += ["--listen", "127.0.0.1:%d" % self.port]
        args += self.extra_args
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("subhttpd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("subhttpd did not start listening:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, host=None, timeout=30.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host or "localhost")
            if body is not None and not any(k.lower() == "content-length" for k in hdrs):
                hdrs["Content-Length"] = str(len(body))
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.headers, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)

    def exchange(self, method, path, host="localhost", timeout=30.0):
        """One request on its own connection, read to the connection's end.
        Returns (status, headers: dict of lower-case names, body bytes, complete):
        complete is False when the server cut the body short (a chunked body
        without its last chunk, or fewer bytes than Content-Length) -- how a
        streamed response that failed midway must look."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (method, path, host)).encode())
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding") == "chunked":
            body, complete = b"", False
            while True:
                size_line, sep, rest = rest.partition(b"\r\n")
                if not sep:
                    break
                n = int(size_line.split(b";")[0] or b"0", 16)
                if n == 0:
                    complete = rest.startswith(b"\r\n")
                    break
                body += rest[:n]
                rest = rest[n + 2:]
            return status, headers, body, complete
        if "content-length" in headers:
            n = int(headers["content-length"])
            return status, headers, rest[:n], len(rest) >= n
        return status, headers, rest, True

    def wait_for(self, predicate, timeout=10.0, interval=0.05):
        """Polls `predicate` (bounded) until it returns something true."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        return last


def write_tree(root, files):
    """files: {relative path: text}; text is dedented. A value of None makes a directory."""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        if text is None:
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))


SERVER_TOML = """
[server]
listen = ["127.0.0.1:1"]
sites = ["sites.d/*.toml"]
reload = "{reload}"
access_log = "{access_log}"
error_log = "-"
shutdown_grace = 5
{server_extra}

[python]
debug = {debug}
autoreload = true
{python_extra}
"""




def server_toml(debug=False, reload="off", server_extra="", python_extra="", access_log="-", limits=""):
    """The main config every test server starts from (its sites in sites.d/)."""
    return SERVER_TOML.format(reload=reload, debug="true" if debug else "false", server_extra=server_extra,
                              python_extra=python_extra, access_log=access_log) + ("\n" + limits if limits else "")


# What ASan, LSan and UBSan print; an instrumented server may report at any time.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_sanitizer(srv):
    """Fails the test when an instrumented server reported (scripts/sanitize.sh)."""
    if os.environ.get("SUBHTTPD_SANITIZE_CHECK") == "1":
        found = [m for m in SANITIZER_MARKS if m in srv.log()]
        if found:
            pytest.fail("sanitizer report (%s) in the server log:\n%s" % (", ".join(found), srv.log()))


@pytest.fixture
def make_server(tmp_path):
    """make_server(files, debug=False, reload="off", ...) -> started Server."""
    started = []

    def factory(files, debug=False, reload="off", server_extra="", python_extra="",
                access_log="-", extra_args=(), env=None, start=True, limits=""):
        root = str(tmp_path)
        tree = {"server.toml": server_toml(debug, reload, server_extra, python_extra, access_log, limits)}
        tree.update(files)
        write_tree(root, tree)
        os.makedirs(os.path.join(root, "sites.d"), exist_ok=True)
        srv = Server(root, os.path.join(root, "server.toml"), free_port(), extra_args, env)
        started.append(srv)
        if start:
            srv.start()
        return srv

    yield factory
    for srv in started:
        srv.stop()
    for srv in started:
        check_sanitizer(srv)


def serve_tree(tmp_path_factory, name, files, **config):
    """One server for a whole test module, on a tree like make_server's: use as
    `yield from serve_tree(...)` in a module-scoped fixture. `config`: the
    keyword arguments of server_toml()."""
    root = str(tmp_path_factory.mktemp(name))
    tree = {"server.toml": server_toml(**config)}
    tree.update(files)
    write_tree(root, tree)
    os.makedirs(os.path.join(root, "sites.d"), exist_ok=True)
    yield from serve_config(root, os.path.join(root, "server.toml"))


def serve_config(root, config, env=None):
    """A server on an existing config file (e.g. one of samples/): yields it
    started, then stops it."""
    srv = Server(root, config, free_port(), env=env)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
    check_sanitizer(srv)


SAMPLES = os.path.join(SOURCE_DIR, "samples")


@pytest.fixture(scope="module")
def sample_srv(tmp_path_factory):
    """samples/server.toml as shipped (the mod_python sample sites)."""
    if not os.path.isfile(os.path.join(SAMPLES, "sites.d", "modpython.toml")):
        pytest.fail("samples/sites.d/modpython.toml is missing")
    yield from serve_config(str(tmp_path_factory.mktemp("samples")), os.path.join(SAMPLES, "server.toml"))


# ---------------------------------------------------------------- handler files

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")


def app_source(rel):
    """The text of one handler file under tests/e2e/apps/."""
    with open(os.path.join(APPS, rel), encoding="utf-8") as f:
        return f.read()


def app_tree(topic, dest):
    """Every file under tests/e2e/apps/<topic>/, as make_server files placed
    under `dest` (the same relative paths)."""
    base = os.path.join(APPS, topic)
    files = {}
    for folder, _, names in os.walk(base):
        for name in names:
            if name.endswith((".pyc", ".pyo")):
                continue
            rel = os.path.relpath(os.path.join(folder, name), base)
            files[os.path.join(dest, rel)] = app_source(os.path.join(topic, rel))
    return files


# ---------------------------------------------------------------- waiting and processes

def wait_file(srv, path, needle, timeout=10.0):
    """The text of `path` once it holds `needle` (bounded wait), else None."""
    def check():
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            return None
        return text if needle in text else None
    return srv.wait_for(check, timeout=timeout)


def retry_get(srv, path, timeout=30.0, **kw):
    """GET until it answers (the server may be between workers); bounded."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            return srv.get(path, timeout=10, **kw)
        except (OSError, http.client.HTTPException) as e:
            last = e
            time.sleep(0.1)
    raise AssertionError("no answer within %s s: %r" % (timeout, last))


def gone(pid):
    """True once `pid` has exited (a zombie nobody reaps counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_pid(pid):
    """SIGTERM, a bounded wait, then SIGKILL: for processes a test did not start
    itself (a supervisor started by a binary upgrade)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(150):
        if gone(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def upgraded_supervisor(srv):
    """The PID of the supervisor a SIGUSR2 upgrade started (from the log), or None."""
    pid = None
    for line in srv.log().splitlines():
        if "upgrading: started" in line:
            pid = int(line.split("as supervisor ")[1].split()[0])
    return pid


def upgrade_under_load(srv, fetch, before, most=5000):
    """A binary upgrade (SIGUSR2) while a thread keeps calling `fetch()` ->
    (status, who answered). Returns every (status, who) seen, once the old
    supervisor has exited and the last answers come from someone other than
    `before`; the new supervisor is then stopped by its PID."""
    results = []
    stop = threading.Event()

    def load():
        while not stop.is_set() and len(results) < most:
            try:
                results.append(fetch())
            except Exception as e:  # a dropped connection
                results.append((0, repr(e)))

    t = threading.Thread(target=load)
    t.start()
    try:
        # the old worker has answered some of the load before the upgrade starts
        assert srv.wait_for(lambda: len(results) > 20, timeout=10)
        srv.signal(signal.SIGUSR2)
        assert srv.wait_for(lambda: "serves now" in srv.log(), timeout=30), srv.log()[-3000:]
        srv.proc.wait(30)  # the old supervisor finishes and exits
        assert srv.wait_for(lambda: [p for s, p in results[-5:] if s == 200 and p != before], timeout=20)
    finally:
        stop.set()
        t.join(60)
        new_sup = upgraded_supervisor(srv)
        if new_sup:
            kill_pid(new_sup)
    return results


def chromium():
    """Debian's chromium, or None (scripts/deps.sh test installs it)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def dump_dom(url, profile):
    """The DOM headless chromium renders for `url`: (stdout, stderr)."""
    p = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--user-data-dir=%s" % profile, "--dump-dom", url],
                       capture_output=True, text=True, timeout=90)
    return p.stdout, p.stderr


# ---------------------------------------------------------------- request helpers

def basic_auth(user, pw, encoding="utf-8"):
    """An Authorization header value for HTTP Basic."""
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode(encoding)).decode("latin-1")


def vhost_text(srv, vhost, path="/tests.py", headers=None):
    """GET `path` on the site named `vhost` (mod_python 3.5's test suite has one
    virtual host per test); asserts a 200 and returns the body as text."""
    r = srv.request("GET", path, host=vhost, headers=headers)
    assert r.status == 200, (vhost, r, srv.log()[-2000:])
    return r.text


def send_raw(srv, chunks, delay=0.0, timeout=15.0):
    """Sends `chunks` (bytes) on one connection, sleeping `delay` between them
    (to cut a request across TCP writes); returns the parsed Response."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    try:
        for i, c in enumerate(chunks):
            s.sendall(c)
            if delay and i + 1 < len(chunks):
                time.sleep(delay)
        r = http.client.HTTPResponse(s, method="GET")
        r.begin()
        body = r.read()
        return Response(r.status, r.reason, r.headers, body)
    finally:
        s.close()


def post_raw(srv, path, body, ctype, host, pieces=None, delay=0.0):
    """POSTs `body` as `ctype` on a raw connection; `pieces`: offsets where the
    body is cut into separate TCP writes, `delay` apart."""
    head = (b"POST %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), host.encode(), ctype.encode(), len(body)))
    if pieces is None:
        return send_raw(srv, [head + body])
    chunks, last = [head], 0
    for cut in pieces:
        chunks.append(body[last:cut])
        last = cut
    chunks.append(body[last:])
    return send_raw(srv, [c for c in chunks if c], delay=delay)


def multipart(parts, boundary):
    """A multipart/form-data body. parts: (name, value bytes, filename or None,
    content type or None)."""
    out = b""
    for name, value, filename, ctype in parts:
        out += b"--" + boundary + b"\r\n"
        disp = 'Content-Disposition: form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def run_cli(*args, timeout=30):
    """Runs the binary with `args`; returns CompletedProcess (text)."""
    done = subprocess.run([BINARY] + list(args), capture_output=True, text=True, timeout=timeout)
    if os.environ.get("SUBHTTPD_SANITIZE_CHECK") == "1":
        found = [m for m in SANITIZER_MARKS if m in done.stderr]
        assert not found, "sanitizer report (%s):\n%s" % (", ".join(found), done.stderr)
    return done

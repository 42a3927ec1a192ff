"""mod_python.cgihandler: runs a Python CGI script (req.filename) inside the
server, as mod_python 3.5 does: the script is executed afresh on every request
with `print()` output going to the client, `sys.stdin` reading the request
body and `os.environ` holding the CGI variables. The CGI headers it prints
first (`Status`, `Content-Type`, `Location`, any other) become the response's
status and headers; a `Location` without a `Status` answers 302.

Safe with offloaded (threaded) requests and several interpreters: nothing is
swapped process-wide. On first use the interpreter's `sys.stdout`, `sys.stdin`
and the mapping behind `os.environ` are replaced by per-thread routers: the
thread running a CGI script sees its own output, input and variables (the
process environment plus the CGI variables; its own changes vanish after the
script), and every other thread sees the originals. Differences from 3.5: the
current directory is not changed to the script's (it is process-wide; use
`os.path.dirname(__file__)`), modules the script imports stay imported, the
script is not put in sys.modules, and child processes it starts without an
explicit `env` get the process environment, not the CGI variables.
"""

import io
import os
import sys
import threading

from mod_python import apache

_local = threading.local()
_install_lock = threading.Lock()
_DELETED = object()


# ---------------------------------------------------------------- per-thread routing

class _ThreadStream(object):
    """sys.stdout / sys.stdin: the running CGI script's stream in its thread,
    the original everywhere else."""

    def __init__(self, original, slot):
        self.__dict__["_original"] = original
        self.__dict__["_slot"] = slot

    def _target(self):
        return getattr(_local, self._slot, None) or self._original

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def __setattr__(self, name, value):
        setattr(self._target(), name, value)

    def write(self, s):
        return self._target().write(s)

    def read(self, *a):
        return self._target().read(*a)

    def readline(self, *a):
        return self._target().readline(*a)

    def __iter__(self):
        return iter(self._target())


class _ThreadEnvData(dict):
    """The dict behind os.environ: a CGI thread sees an overlay (CGI variables,
    its own changes, deletions) over the process's variables."""

    def _overlay(self):
        return getattr(_local, "environ", None)

    def __getitem__(self, key):
        ov = self._overlay()
        if ov is not None and key in ov:
            value = ov[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return dict.__getitem__(self, key)

    def __setitem__(self, key, value):
        ov = self._overlay()
        if ov is not None:
            ov[key] = value
        else:
            dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        ov = self._overlay()
        if ov is None:
            return dict.__delitem__(self, key)
        if key not in self:
            raise KeyError(key)
        ov[key] = _DELETED

    def __contains__(self, key):
        ov = self._overlay()
        if ov is not None and key in ov:
            return ov[key] is not _DELETED
        return dict.__contains__(self, key)

    def _merged(self):
        ov = self._overlay()
        if ov is None:
            return None
        merged = dict(dict.items(self))
        for k, v in ov.items():
            if v is _DELETED:
                merged.pop(k, None)
            else:
                merged[k] = v
        return merged

    def __iter__(self):
        m = self._merged()
        return dict.__iter__(self) if m is None else iter(m)

    def __len__(self):
        m = self._merged()
        return dict.__len__(self) if m is None else len(m)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self):
        m = self._merged()
        return dict.keys(self) if m is None else m.keys()

    def items(self):
        m = self._merged()
        return dict.items(self) if m is None else m.items()

    def values(self):
        m = self._merged()
        return dict.values(self) if m is None else m.values()

    def copy(self):
        m = self._merged()
        return dict(dict.items(self)) if m is None else m


def _install():
    """Puts the routers in place in this interpreter (once)."""
    with _install_lock:
        if not isinstance(sys.stdout, _ThreadStream):
            sys.stdout = _ThreadStream(sys.stdout, "stdout")
        if not isinstance(sys.stdin, _ThreadStream):
            sys.stdin = _ThreadStream(sys.stdin, "stdin")
        env = os.environ
        if not isinstance(env._data, _ThreadEnvData):
            env._data = _ThreadEnvData(env._data)
            if getattr(os, "environb", None) is not None:
                os.environb._data = env._data  # the two views share one dict, as before


# ---------------------------------------------------------------- the CGI streams

class CGIStdin(io.TextIOBase):
    """The request body as the script's standard input (text; `.buffer` is binary)."""

    def __init__(self, req):
        self.req = req
        self.buffer = _CGIStdinBytes(req)

    def readable(self):
        return True

    def read(self, n=-1):
        return self.buffer.read(n).decode("latin-1")

    def readline(self, n=-1):
        return self.buffer.readline(n).decode("latin-1")

    def readlines(self, hint=-1):
        return [line.decode("latin-1") for line in self.buffer.readlines(hint)]


class _CGIStdinBytes(io.RawIOBase):
    def __init__(self, req):
        self.req = req

    def readable(self):
        return True

    def read(self, n=-1):
        if n is None or n < 0:
            chunks = []
            while True:
                chunk = self.req.read(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self.req.read(n)

    def readinto(self, b):
        data = self.req.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self, n=-1):
        return self.req.readline(n) if n is not None and n >= 0 else self.req.readline()


class CGIStdout(io.TextIOBase):
    """The script's standard output: the CGI headers up to the first blank
    line set the response's status and headers; the rest is the body."""

    def __init__(self, req):
        self.req = req
        self.pos = 0
        self.headers_sent = 0
        self.headers = b""
        self.buffer = _CGIStdoutBytes(self)

    def writable(self):
        return True

    def write(self, s):
        if not s:
            return 0
        self.write_bytes(s.encode("utf-8") if isinstance(s, str) else bytes(s))
        return len(s)

    def write_bytes(self, data):
        self.pos += len(data)
        if self.headers_sent:
            self.req.write(data, 0)
            return
        self.headers += data
        for sep in (b"\r\n\r\n", b"\n\n"):
            head, found, body = self.headers.partition(sep)
            if found:
                self._apply_headers(head)
                self.headers = b""
                self.headers_sent = 1
                if body:
                    self.req.write(body, 0)
                return

    def _apply_headers(self, head):
        req = self.req
        status_set = False
        location = None
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            if not line.strip():
                continue
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise ValueError("malformed CGI header line: %r" % line)
            name, value = name.strip(), value.strip()
            low = name.lower()
            if low == "status":
                req.status = int(value.split()[0])
                status_set = True
            elif low == "content-type":
                req.content_type = value
            elif low == "location":
                location = value
                req.headers_out[name] = value
            else:
                req.headers_out.add(name, value)
        if location is not None and not status_set:
            req.status = apache.HTTP_MOVED_TEMPORARILY

    def finish(self):
        """End of the script: headers without the blank line still count."""
        if not self.headers_sent and self.headers.strip():
            self._apply_headers(self.headers)
        self.headers_sent = 1

    def flush(self):
        pass

    def tell(self):
        return self.pos


class _CGIStdoutBytes(io.RawIOBase):
    def __init__(self, out):
        self._out = out

    def writable(self):
        return True

    def write(self, b):
        self._out.write_bytes(bytes(b))
        return len(b)


# ---------------------------------------------------------------- the handler

def _cgi_environ(req):
    env = apache.build_cgi_env(req)
    if "authorization" in req.headers_in:
        env["HTTP_AUTHORIZATION"] = req.headers_in["authorization"]
    return env


def enter_cgi(req):
    """Routes this thread's stdout, stdin and os.environ to `req`; returns the
    previous routing for leave_cgi()."""
    _install()
    enc_key, enc_value = os.environ.encodekey, os.environ.encodevalue
    overlay = {enc_key(k): enc_value(str(v)) for k, v in _cgi_environ(req).items()}
    saved = (getattr(_local, "environ", None), getattr(_local, "stdin", None), getattr(_local, "stdout", None))
    _local.stdout, _local.stdin, _local.environ = CGIStdout(req), CGIStdin(req), overlay
    return saved


def leave_cgi(saved):
    out = getattr(_local, "stdout", None)
    try:
        if isinstance(out, CGIStdout):
            out.finish()
    finally:
        _local.environ, _local.stdin, _local.stdout = saved


def handler(req):
    if "script_filename" in req.subprocess_env:
        script = req.subprocess_env["script_filename"]
    else:
        script = req.filename
    folder, name = os.path.split(script or "")
    module_name = os.path.splitext(name)[0]
    path = os.path.abspath(os.path.join(folder, name))
    # nothing outside the script's folder (no ../ tricks), only existing files
    if not name or not path.startswith(os.path.abspath(folder)) or not os.path.isfile(path):
        raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)

    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")
    module = type(sys)(module_name)
    module.__file__ = path
    saved = enter_cgi(req)
    failed = True
    try:
        try:
            exec(code, module.__dict__)
        except SystemExit as e:  # sys.exit() ends the script, not the server
            if e.code not in (None, 0):
                raise RuntimeError("CGI script %s exited with %r" % (path, e.code))
        failed = False
    finally:
        if failed:
            _local.environ, _local.stdin, _local.stdout = saved
        else:
            leave_cgi(saved)
    return apache.OK

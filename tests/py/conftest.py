"""Shared fixtures for the pure-Python mod_python package tests.

Runs under plain /usr/bin/python3 without the server: `mod_python.apache` is
replaced by a small stand-in that re-exports subhttpd_runtime and implements
import_module by file path, and FakeReq plays the request object over an
in-memory body that it hands out in deliberately small pieces.
"""

import importlib
import importlib.util
import io
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.normpath(os.path.join(HERE, "..", "..", "interp", "python"))
if PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)

import subhttpd_runtime as _subhttpd  # noqa: E402
import mod_python  # noqa: E402


def _make_fake_apache():
    apache = types.ModuleType("mod_python.apache")
    for k, v in vars(_subhttpd).items():
        if not k.startswith("__"):
            setattr(apache, k, v)
    cache = {}

    def import_module(module_name, autoreload=1, log=0, path=None):
        names = [module_name] if os.path.isabs(module_name) else [
            os.path.join(d, module_name + ".py") for d in path or []]
        for f in names:
            f = os.path.abspath(f)
            if os.path.isfile(f):
                mtime = os.stat(f).st_mtime_ns
                hit = cache.get(f)
                if hit and (not autoreload or hit[0] == mtime):
                    return hit[1]
                spec = importlib.util.spec_from_file_location("_mp_page_%d" % len(cache), f)
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                cache[f] = (mtime, mod)
                return mod
        return importlib.import_module(module_name)

    apache.import_module = import_module
    apache.log_error = lambda msg, level=_subhttpd.APLOG_ERR: None
    apache.make_table = _subhttpd.table
    return apache


try:
    from mod_python import apache  # noqa: E402,F401  the real one works without the server
except ImportError:
    _fake = _make_fake_apache()
    sys.modules["mod_python.apache"] = _fake
    mod_python.apache = _fake


class _Conn(object):
    remote_ip = "127.0.0.1"
    remote_addr = ("127.0.0.1", 40000)


class FakeReq(object):
    """The request members mod_python code uses, over an in-memory body.

    read()/readline() return at most `chunk` bytes per call whatever is asked,
    so parsers must cope with short reads and data split anywhere.
    """

    def __init__(self, method="GET", uri="/", args=None, body=b"", headers=None,
                 filename="", path_info="", chunk=7, document_root="/nonexistent",
                 config=None, options=None):
        self.method = method
        self.uri = uri
        self.unparsed_uri = uri + ("?" + args if args else "")
        self.args = args
        self.protocol = "HTTP/1.1"
        self.hostname = "localhost"
        self.filename = filename
        self.path_info = path_info
        self.headers_in = _subhttpd.table(headers or {})
        if body and "content-length" not in self.headers_in:
            self.headers_in["Content-Length"] = str(len(body))
        self.headers_out = _subhttpd.table()
        self.err_headers_out = _subhttpd.table()
        self.content_type = None
        self.status = 200
        self.user = None
        self.ap_auth_type = None
        self.notes = _subhttpd.table()
        self.subprocess_env = _subhttpd.table()
        self.connection = _Conn()
        self.phase = "PythonHandler"
        self.interpreter = "test"
        self._body = io.BytesIO(body)
        self._chunk = chunk
        self._doc_root = document_root
        self._config = config or {}
        self._options = options or {}
        self.out = bytearray()
        self.logged = []
        self.allowed = None
        self.read_calls = 0

    def _limit(self, n):
        if n is None or n < 0:
            return self._chunk
        return min(n, self._chunk)

    def read(self, n=-1):
        self.read_calls += 1
        return self._body.read(self._limit(n))

    def readline(self, n=-1):
        self.read_calls += 1
        return self._body.readline(self._limit(n))

    def readlines(self, hint=-1):
        return list(iter(lambda: self.readline(), b""))

    def write(self, data, flush=1):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.out += data

    def flush(self):
        pass

    def log_error(self, msg, level=_subhttpd.APLOG_ERR):
        self.logged.append((level, msg))

    def allow_methods(self, methods, reset=0):
        self.allowed = list(methods)

    def get_config(self):
        return self._config

    def get_options(self):
        return self._options

    def document_root(self):
        return self._doc_root

    def construct_url(self, uri):
        return "http://%s%s" % (self.hostname, uri)

    def get_basic_auth_pw(self):
        return None

    def discard_request_body(self):
        self._body.read()

    def register_cleanup(self, callable, data=None):
        pass

    @property
    def text(self):
        return bytes(self.out).decode("utf-8")

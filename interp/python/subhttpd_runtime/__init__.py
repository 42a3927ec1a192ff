"""The Python half of the runtime, shared by the native ``subhttpd`` module and
``mod_python``.

Imported once in every interpreter (the native module's exec step). It holds the
return codes, ``SERVER_RETURN`` and ``table`` (mod_python's case-insensitive
multi-map), the handler importer (``import_module`` and its module cache, the
handler folders of the phase being run), site set-up, ``offload`` and the
coroutine steps, and the request members written in Python. That state is per
interpreter: each interpreter imports its own copy.
"""

# Return codes, as mod_python's apache module defines them.
OK = 0
DECLINED = -1
DONE = -2
SUSPENDED = -3

HTTP_CONTINUE = 100
HTTP_SWITCHING_PROTOCOLS = 101
HTTP_PROCESSING = 102
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_ACCEPTED = 202
HTTP_NON_AUTHORITATIVE = 203
HTTP_NO_CONTENT = 204
HTTP_RESET_CONTENT = 205
HTTP_PARTIAL_CONTENT = 206
HTTP_MULTI_STATUS = 207
HTTP_MULTIPLE_CHOICES = 300
HTTP_MOVED_PERMANENTLY = 301
HTTP_MOVED_TEMPORARILY = 302
HTTP_SEE_OTHER = 303
HTTP_NOT_MODIFIED = 304
HTTP_USE_PROXY = 305
HTTP_TEMPORARY_REDIRECT = 307
HTTP_PERMANENT_REDIRECT = 308
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_PAYMENT_REQUIRED = 402
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_NOT_ACCEPTABLE = 406
HTTP_PROXY_AUTHENTICATION_REQUIRED = 407
HTTP_REQUEST_TIME_OUT = 408
HTTP_CONFLICT = 409
HTTP_GONE = 410
HTTP_LENGTH_REQUIRED = 411
HTTP_PRECONDITION_FAILED = 412
HTTP_REQUEST_ENTITY_TOO_LARGE = 413
HTTP_REQUEST_URI_TOO_LARGE = 414
HTTP_UNSUPPORTED_MEDIA_TYPE = 415
HTTP_RANGE_NOT_SATISFIABLE = 416
HTTP_EXPECTATION_FAILED = 417
HTTP_IM_A_TEAPOT = 418
HTTP_UNPROCESSABLE_ENTITY = 422
HTTP_LOCKED = 423
HTTP_FAILED_DEPENDENCY = 424
HTTP_UPGRADE_REQUIRED = 426
HTTP_PRECONDITION_REQUIRED = 428
HTTP_TOO_MANY_REQUESTS = 429
HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE = 431
HTTP_INTERNAL_SERVER_ERROR = 500
HTTP_NOT_IMPLEMENTED = 501
HTTP_BAD_GATEWAY = 502
HTTP_SERVICE_UNAVAILABLE = 503
HTTP_GATEWAY_TIME_OUT = 504
HTTP_VERSION_NOT_SUPPORTED = 505
HTTP_VARIANT_ALSO_VARIES = 506
HTTP_INSUFFICIENT_STORAGE = 507
HTTP_NOT_EXTENDED = 510

# mod_python's names for the methods (req.allowed bits) and log levels.
M_GET, M_PUT, M_POST, M_DELETE, M_CONNECT, M_OPTIONS, M_TRACE, M_PATCH = range(8)
METHODS = ("GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")

APLOG_EMERG = 0
APLOG_ALERT = 1
APLOG_CRIT = 2
APLOG_ERR = 3
APLOG_WARNING = 4
APLOG_NOTICE = 5
APLOG_INFO = 6
APLOG_DEBUG = 7
APLOG_NOERRNO = 0

# req.read / connection constants kept for source compatibility.
REQ_PROXY_NONE = 0
REQ_PROXY_PROXY = 1
REQ_PROXY_REVERSE = 2
REQ_PROXY_RESPONSE = 3

AP_CONN_UNKNOWN = -1
AP_CONN_CLOSE = 0
AP_CONN_KEEPALIVE = 1

MODULE_MAGIC_NUMBER_MAJOR = 20120211
MODULE_MAGIC_NUMBER_MINOR = 0


# APR's file types and mod_python's mp_finfo indexes (req.finfo, apache.stat).
APR_NOFILE, APR_REG, APR_DIR, APR_CHR, APR_BLK, APR_PIPE, APR_LNK, APR_SOCK = range(8)
APR_UNKFILE = 127

FINFO_MODE, FINFO_INO, FINFO_DEV, FINFO_NLINK, FINFO_UID, FINFO_GID, FINFO_SIZE, \
    FINFO_ATIME, FINFO_MTIME, FINFO_CTIME, FINFO_FNAME, FINFO_NAME, FINFO_FILETYPE = range(13)


class SERVER_RETURN(Exception):
    """raise apache.SERVER_RETURN(code) ends the phase with `code`."""


class HandlerTimeout(BaseException):
    """Raised inside a handler that holds the loop past its handler_timeout.

    A BaseException, so that `except Exception:` in the handler does not swallow it."""


class _multi_map(object):
    """Lookups of a multi-valued mapping, shared by ``table`` and
    mod_python.util.FieldStorage: a subclass gives ``_values(key)``, the
    values of `key` in order (an empty list when there are none)."""

    __slots__ = ()

    def __getitem__(self, key):
        found = self._values(key)
        if not found:
            raise KeyError(key)
        return found[0] if len(found) == 1 else found

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def getfirst(self, key, default=None):
        found = self._values(key)
        return found[0] if found else default


class table(_multi_map):
    """mod_python's table: a case-insensitive multi-map of str to str.

    ``t[k]`` gives the value, or a list of values when the key is repeated;
    ``t[k] = v`` replaces every value of k; ``t.add(k, v)`` appends one more.
    Iteration and ``keys()`` keep insertion order and repeat duplicate keys, as
    an APR table does.
    """

    __slots__ = ("_items",)

    def __init__(self, init=None):
        self._items = []
        if init is not None:
            if hasattr(init, "items"):
                init = init.items()
            for k, v in init:
                self._items.append((self._key(k), self._val(v)))

    @staticmethod
    def _key(k):
        if isinstance(k, bytes):
            k = k.decode("latin-1")
        if not isinstance(k, str):
            raise TypeError("table keys must be strings")
        return k

    @staticmethod
    def _val(v):
        if isinstance(v, bytes):
            v = v.decode("latin-1")
        elif not isinstance(v, str):
            v = str(v)
        if "\n" in v or "\r" in v:
            raise ValueError("table values may not contain CR or LF")
        return v

    def _values(self, key):
        lk = self._key(key).lower()
        return [v for k, v in self._items if k.lower() == lk]

    def __setitem__(self, key, value):
        key = self._key(key)
        value = self._val(value)
        lk = key.lower()
        items = self._items
        for i, (k, _) in enumerate(items):
            if k.lower() == lk:
                items[i] = (key, value)
                self._items = [kv for j, kv in enumerate(items) if j <= i or kv[0].lower() != lk]
                return
        items.append((key, value))

    def __delitem__(self, key):
        lk = self._key(key).lower()
        kept = [kv for kv in self._items if kv[0].lower() != lk]
        if len(kept) == len(self._items):
            raise KeyError(key)
        self._items = kept

    def __contains__(self, key):
        if not isinstance(key, (str, bytes)):
            return False
        lk = self._key(key).lower()
        return any(k.lower() == lk for k, _ in self._items)

    has_key = __contains__

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter([k for k, _ in self._items])

    def __bool__(self):
        return bool(self._items)

    def __eq__(self, other):
        if isinstance(other, table):
            return self._items == other._items
        if isinstance(other, dict):
            return dict(self.items()) == other
        return NotImplemented

    def __repr__(self):
        return "{" + ", ".join("%r: %r" % kv for kv in self._items) + "}"

    def add(self, key, value):
        self._items.append((self._key(key), self._val(value)))

    def getall(self, key):
        return self._values(key)

    def setdefault(self, key, default=""):
        if key in self:
            return self[key]
        self[key] = default
        return self._val(default)

    def pop(self, key, *default):
        try:
            value = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[key]
        return value

    def keys(self):
        return [k for k, _ in self._items]

    def values(self):
        return [v for _, v in self._items]

    def items(self):
        return list(self._items)

    iterkeys = keys
    itervalues = values
    iteritems = items

    def update(self, other=(), **kw):
        if hasattr(other, "items"):
            other = other.items()
        for k, v in other:
            self[k] = v
        for k, v in kw.items():
            self[k] = v

    def merge(self, other):
        """Appends every entry of `other` whose key is not present yet."""
        for k, v in (other.items() if hasattr(other, "items") else other):
            if k not in self:
                self.add(k, v)

    def clear(self):
        self._items = []

    def copy(self):
        t = table()
        t._items = list(self._items)
        return t

    # Fast paths for the server: raw pairs in and out without re-validation.
    def _extend_raw(self, pairs):
        self._items.extend(pairs)

    def _raw_items(self):
        return self._items


# ---------------------------------------------------------------------------
# Interpreter set-up (called by the server once per interpreter)

import sys as _sys
import os as _os
import time as _time
# _thread, not threading: every interpreter imports this module at set-up, and
# threading (with functools, collections, ...) costs milliseconds there.
import _thread

_native = None          # this interpreter's `subhttpd` module
_exit_hooks_run = False



_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class header_table(table):
    """A table of response header fields (req.headers_out, err_headers_out):
    what would corrupt the response is refused where it is set, with
    ValueError -- a name that is not an HTTP token, a value with CR, LF or
    NUL, or one that is not Latin-1 (HTTP field values are bytes; encode
    other text first, e.g. RFC 8187 for Content-Disposition)."""

    __slots__ = ()

    @staticmethod
    def _key(k):
        if isinstance(k, bytes):
            k = k.decode("latin-1")
        if not isinstance(k, str):
            raise TypeError("header names must be strings")
        if not k or not _TCHARS.issuperset(k):
            raise ValueError("invalid header name %r: an HTTP token is required (no spaces, CR, LF, NUL or ':')" % (k,))
        return k

    @staticmethod
    def _val(v):
        v = table._val(v)  # text, without CR or LF
        if "\0" in v:
            raise ValueError("header values may not contain CR, LF or NUL: %r" % (v,))
        try:
            v.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError("header value %r is not Latin-1: encode it first" % (v,)) from None
        return v

class _LogStream(object):
    """sys.stdout / sys.stderr of an interpreter: whole lines into the error log."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, level):
        self._level = level
        self._buf = ""
        self._lock = _thread.allocate_lock()

    def write(self, s):
        if isinstance(s, bytes):
            s = s.decode("utf-8", "replace")
        with self._lock:
            self._buf += s
            if "\n" not in self._buf:
                return len(s)
            lines = self._buf.split("\n")
            self._buf = lines.pop()
        for line in lines:
            _native._log(self._level, line)
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        with self._lock:
            rest, self._buf = self._buf, ""
        if rest:
            _native._log(self._level, rest)

    def isatty(self):
        return False

    def fileno(self):
        raise OSError("the error log has no file descriptor here")

    def readable(self):
        return False

    def writable(self):
        return True


def _exported_names():
    names = [n for n in globals() if n.isupper() and not n.startswith("_")]
    return names + ["SERVER_RETURN", "table", "offload", "HandlerTimeout"]


def _watch_process_state(touched):
    """os.chdir, os.fchdir and os.umask change what every interpreter of the
    process shares: each call tells the server, which checks (and restores)
    the working directory and umask after the request instead of asking the
    kernel after every request."""
    for fname in ("chdir", "fchdir", "umask"):
        real = getattr(_os, fname, None)
        if real is None or getattr(real, "__wrapped__", None) is not None:
            continue

        def watched(*args, _real=real, **kwargs):
            try:
                return _real(*args, **kwargs)
            finally:
                touched()

        watched.__name__ = watched.__qualname__ = real.__name__
        watched.__doc__ = real.__doc__
        watched.__module__ = real.__module__
        watched.__wrapped__ = real
        setattr(_os, fname, watched)
        for group in (_os.supports_fd, _os.supports_dir_fd, _os.supports_follow_symlinks,
                      _os.supports_effective_ids):
            if real in group:
                group.add(watched)


def _init_interpreter(name, native):
    global _native, _loop_thread
    _native = native
    _loop_thread = _thread.get_ident()
    _watch_process_state(native._process_state_touched)
    _sys.stdout = _LogStream("info")
    _sys.stderr = _LogStream("error")
    _sys.argv = ["mod_python"]


def _run_exit_hooks():
    """SIGTERM: run this interpreter's atexit callbacks once."""
    global _exit_hooks_run
    if _exit_hooks_run:
        return
    _exit_hooks_run = True
    import atexit
    atexit._run_exitfuncs()
    for stream in (_sys.stdout, _sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


_prepared_paths = set()


def _prepare_site(paths, env):
    """A site's python_path and env, once per config generation for this interpreter.

    env goes into os.environ's mapping only, not the process environment, so other
    interpreters (and sites made later) never see it.
    """
    for p in reversed(paths):
        if p not in _sys.path:
            _sys.path.insert(0, p)
    if env:
        data = _os.environ._data
        enckey = _os.environ.encodekey
        encval = _os.environ.encodevalue
        for k, v in env.items():
            data[enckey(k)] = encval(v)


# ---------------------------------------------------------------------------
# The importer lives in subhttpd_runtime.importer; the server and
# mod_python.apache reach it through these names.

from subhttpd_runtime.importer import (  # noqa: E402,F401
    _Entry, _add_handler_dir, _current_dirs, _dotted_attr, _files_of, _find_file, _handler_dirs, _import_path,
    _importing, _load_file, _loaded_modules, _mtime, _modules, _python_import, _resolve, _resolve_in,
    _resolve_with_files, _stale, import_module)

globals().pop("importer", None)  # the submodule's name: not for `from subhttpd_runtime import *`


_loop_thread = None  # the loop thread's id, recorded at interpreter set-up


class _Offload(object):
    """What subhttpd.offload(fn, *args, **kwargs) returns.

    `await` it in an async handler: fn runs on the worker pool in this
    interpreter while the loop serves other requests, and the handler resumes on
    the loop with fn's result (or its exception raised at the await). Off the loop
    (a block with offload = true) `.result()` runs fn right away and returns it."""

    __slots__ = ("fn", "args", "kwargs", "done", "value", "error")

    def __init__(self, fn, args, kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.done = False
        self.value = None
        self.error = None

    def __await__(self):
        if not self.done:
            yield self
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.value

    def run(self):
        try:
            self.value = self.fn(*self.args, **self.kwargs)
        except BaseException as e:  # handed to the awaiting coroutine
            self.error = e
        self.done = True

    def fail_busy(self):
        self.error = RuntimeError("the worker pool queue is full")
        self.done = True

    def result(self):
        if not self.done:
            if _thread.get_ident() == _loop_thread:
                raise RuntimeError("offload(...).result() would block the loop: await it in an async "
                                   "handler, or set offload = true on the block")
            self.run()
        if self.error is not None:
            raise self.error
        return self.value


class _Drain(object):
    """What req.drain() returns: `await` it in an async handler to wait until
    the client has taken most of what was written (the socket's unsent bytes
    fell to the low-water mark), while the loop serves other requests. Off the
    loop there is nothing to wait for: writes there block by themselves."""

    __slots__ = ("done",)

    def __init__(self):
        self.done = False

    def __await__(self):
        if not self.done:
            yield self
        return None

    def run(self):
        self.done = True

    def fail_busy(self):
        self.done = True

    def result(self):
        self.done = True
        return None


def offload(fn, *args, **kwargs):
    """Runs fn(*args, **kwargs) on the worker pool; await the result."""
    return _Offload(fn, args, kwargs)


def _coro_step(coro):
    """Advances an async handler: (True, result, False) when it ends, or (False,
    the _Offload or _Drain it awaits, whether it is a _Drain)."""
    try:
        awaited = coro.send(None)
    except StopIteration as stop:
        return (True, stop.value, False)
    while not isinstance(awaited, (_Offload, _Drain)):
        try:
            awaited = coro.throw(RuntimeError(
                "an async handler can await subhttpd.offload(...) or req.drain() only, not %r" % (awaited,)))
        except StopIteration as stop:
            return (True, stop.value, False)
    return (False, awaited, isinstance(awaited, _Drain))


# ---------------------------------------------------------------------------
# The rest lives in the package's other modules, loaded when first asked for (PEP 562), so
# an interpreter that never serves WSGI never imports the WSGI parts.

_LAZY = {
    "_extend_request_type": "request", "connection": "request",
    "server": "request", "finfo": "request", "main_server": "request",
    "_resolve_wsgi": "wsgi", "_subinterp_refusal": "wsgi",
    "_FileWrapper": "wsgi", "_wsgi_file_target": "wsgi",
    "_wsgi_errors_stream": "wsgi", "_error_report": "errors",
    "_app_change": "wsgi",
}


def __getattr__(name):
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError("module 'subhttpd_runtime' has no attribute '%s'" % name)
    module = __import__("subhttpd_runtime." + where, fromlist=[where])
    globals().pop(where, None)  # not a public name: `from subhttpd_runtime import *` (apache) must not get it
    value = getattr(module, name)
    globals()[name] = value
    return value


def _run_filter(fn, req, name, is_input, data, eos, handler, directory):
    """One call of a PythonOutputFilter / PythonInputFilter (called by the server)."""
    from subhttpd_runtime.filter import _run_filter as run
    globals().pop("filter", None)  # the submodule, bound here by the import: never the builtin's name
    return run(fn, req, name, is_input, data, eos, handler, directory)

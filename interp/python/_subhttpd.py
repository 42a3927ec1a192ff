"""Pure-Python core shared by the native ``subhttpd`` module and ``mod_python``.

Loaded once in every interpreter. Holds what is plain Python: the return codes,
``SERVER_RETURN``, and ``table`` (mod_python's case-insensitive multi-map). It has
no state of its own beyond these definitions, so each interpreter's copy is
independent.
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


class SERVER_RETURN(Exception):
    """raise apache.SERVER_RETURN(code) ends the phase with `code`."""


class HandlerTimeout(BaseException):
    """Raised inside a handler that holds the loop past its handler_timeout.

    A BaseException, so that `except Exception:` in the handler does not swallow it."""


class table(object):
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

    def __getitem__(self, key):
        lk = self._key(key).lower()
        found = [v for k, v in self._items if k.lower() == lk]
        if not found:
            raise KeyError(key)
        return found[0] if len(found) == 1 else found

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

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def getfirst(self, key, default=None):
        lk = self._key(key).lower()
        for k, v in self._items:
            if k.lower() == lk:
                return v
        return default

    def getall(self, key):
        lk = self._key(key).lower()
        return [v for k, v in self._items if k.lower() == lk]

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


def _init_interpreter(name, native):
    global _native, _loop_thread
    _native = native
    _loop_thread = _thread.get_ident()
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
# The importer: handler modules cached by absolute file path (mod_python 3.3+).

# importlib.util is imported on the first handler load, not at set-up.

_modules = {}          # absolute path -> _Entry
_importing = []        # stack of _Entry being executed (to record children)
_current_dirs = []     # handler directory of the phase being run (for import_module)


class _Entry(object):
    __slots__ = ("path", "module", "mtime", "children", "checked")

    def __init__(self, path):
        self.path = path
        self.module = None
        self.mtime = None
        self.children = []
        self.checked = 0.0


def _find_file(name, dirs):
    rel = name.replace(".", _os.sep)
    for d in dirs:
        if not d:
            continue
        base = _os.path.join(d, rel)
        for cand in (base + ".py", _os.path.join(base, "__init__.py")):
            if _os.path.isfile(cand):
                return _os.path.abspath(cand)
    return None


def _mtime(path):
    try:
        return _os.stat(path).st_mtime_ns
    except OSError:
        return None


def _stale(entry, now, seen):
    """True when the module's file or any module it imported changed."""
    if entry.path in seen:
        return False
    seen.add(entry.path)
    if entry.mtime != _mtime(entry.path):
        return True
    for child in entry.children:
        if _stale(child, now, seen):
            return True
    return False


def _load_file(path, entry):
    import importlib.util as _ilu
    try:
        from _md5 import md5  # built in; hashlib would load OpenSSL (milliseconds)
    except ImportError:
        from hashlib import md5
    digest = md5(path.encode("utf-8", "surrogateescape")).hexdigest()
    modname = "_mp_" + digest
    spec = _ilu.spec_from_file_location(modname, path)
    if spec is None and not path.endswith(".py"):
        # mod_wsgi's .wsgi scripts: Python source under another suffix.
        from importlib.machinery import SourceFileLoader
        spec = _ilu.spec_from_file_location(modname, path, loader=SourceFileLoader(modname, path))
    if spec is None:
        raise ImportError("cannot import %s" % path, path=path)
    module = _ilu.module_from_spec(spec)
    module.__dict__["__mp_path__"] = path
    old_children = entry.children
    entry.children = []
    entry.mtime = _mtime(path)
    _importing.append(entry)
    _sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        entry.children = old_children
        if entry.module is not None:
            _sys.modules[modname] = entry.module
        else:
            _sys.modules.pop(modname, None)
        entry.mtime = None  # try again next time
        raise
    finally:
        _importing.pop()
    entry.module = module
    return module


def _import_path(path, autoreload):
    entry = _modules.get(path)
    if entry is None:
        entry = _modules[path] = _Entry(path)
    if entry.module is None:
        _load_file(path, entry)
    elif autoreload:
        # At most one look at the files of a module (and its children) a second.
        now = _time.monotonic()
        if now - entry.checked >= 1.0:
            entry.checked = now
            if _stale(entry, now, set()):
                _load_file(path, entry)
    if _importing and entry not in _importing[-1].children:
        _importing[-1].children.append(entry)
    return entry.module


def import_module(module_name, autoreload=1, log=0, path=None):
    """mod_python's apache.import_module: files looked up in `path` (or the
    handler's directory), cached by absolute path and re-imported when changed;
    anything else is a normal import."""
    if path is not None:
        dirs = list(path)
    else:
        dirs = list(_current_dirs[-1:])
        if _importing:
            dirs.insert(0, _os.path.dirname(_importing[-1].path))
    found = None
    if _os.path.isabs(module_name) and module_name.endswith(".py") and _os.path.isfile(module_name):
        found = module_name
    else:
        found = _find_file(module_name, dirs)
    if found is None:
        if path is not None:
            raise ImportError("No module named '%s' in %s" % (module_name, dirs), name=module_name)
        import importlib
        return importlib.import_module(module_name)
    if log:
        _native._log("info", "importing %s from %s" % (module_name, found))
    return _import_path(found, autoreload)


_handler_dirs = set()  # directories _resolve has put on sys.path


def _add_handler_dir(d):
    """mod_python 3.5 puts the directory of the block that set a handler at the
    front of sys.path, so a handler's plain `import helper` finds its neighbours."""
    if d and d not in _handler_dirs:
        _handler_dirs.add(d)
        if d not in _sys.path:
            _sys.path.insert(0, d)


def _resolve(module_name, module_dir, callable_name, autoreload):
    """The callable for a handler entry `module::callable` (called by the server)."""
    _add_handler_dir(module_dir)
    _current_dirs.append(module_dir)
    try:
        module = import_module(module_name, autoreload=autoreload)
    finally:
        _current_dirs.pop()
    obj = module
    for part in callable_name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError("module '%s' (%s) has no attribute '%s'"
                                 % (module_name, getattr(module, "__file__", "?"), callable_name))
    return obj


def _push_dir(d):
    _current_dirs.append(d)


def _pop_dir():
    if _current_dirs:
        _current_dirs.pop()


def _loaded_modules():
    return len(_modules)


# ---------------------------------------------------------------------------
# req members written in Python (added to the native type).

class connection(object):
    """req.connection: the client's connection."""

    __slots__ = ("remote_ip", "remote_addr", "local_ip", "local_addr", "remote_host",
                 "remote_logname", "keepalive", "double_reverse", "keepalives", "id",
                 "base_server", "notes", "aborted", "_scheme", "client_ip", "client_addr",
                 "local_host")

    def __init__(self, remote_ip, remote_port, local_ip, local_port, scheme):
        self.remote_ip = remote_ip
        self.remote_addr = (remote_ip, remote_port)
        self.local_ip = local_ip
        self.local_addr = (local_ip, local_port)
        self.remote_host = None
        self.remote_logname = None
        self.keepalive = AP_CONN_UNKNOWN
        self.double_reverse = 0
        self.keepalives = 0
        self.id = 0
        self.base_server = None
        self.notes = table()
        self.aborted = 0
        self._scheme = scheme
        # Apache 2.4: the TCP peer (remote_ip is the same here; see req.useragent_ip)
        self.client_ip = remote_ip
        self.client_addr = self.remote_addr
        self.local_host = None

    def get_remote_host(self, type=0, str_is_ip=None):
        return self.remote_ip

    def log_error(self, message, level=APLOG_ERR):
        _native._log("error" if level <= APLOG_ERR else "warn" if level == APLOG_WARNING
                     else "info" if level <= APLOG_INFO else "debug", str(message))


class server(object):
    """req.server: the virtual host (site) serving the request."""

    def __init__(self, req, info):
        self.server_hostname = info["server_name"]
        self.defn_name = info["server_name"]
        self.server_admin = "webmaster@" + info["server_name"]
        self.port = req._peer()[3]
        self.is_virtual = 1
        self.error_fname = None
        self.timeout = 0
        self.keep_alive = 1
        self.path = info["document_root"]
        self.pathlen = len(self.path)
        self.defn_line_number = 0
        self.loglevel = APLOG_INFO
        self.keep_alive_timeout = 0
        self.keep_alive_max = 0
        self.limit_req_line = 8190
        self.limit_req_fieldsize = 8190
        self.limit_req_fields = 100
        self.names = ()
        self.wild_names = ()
        self._req = req

    def get_options(self):
        """The PythonOptions set for the site itself (no directory overrides)."""
        return self._req._site_options()

    def get_config(self):
        return self._req.get_config()

    def register_cleanup(self, req, callable, data=None):
        req.register_cleanup(callable, data)

    def log_error(self, message, level=APLOG_ERR):
        self._req.log_error(message, level)


def _req_connection(self):
    d = self.__dict__
    c = d.get("_connection")
    if c is None:
        c = d["_connection"] = connection(*self._peer())
    return c


def _req_server(self):
    d = self.__dict__
    s = d.get("_server")
    if s is None:
        s = d["_server"] = server(self, self._route_info())
    return s


def _req_get_basic_auth_pw(self):
    import base64
    auth = self.headers_in.getfirst("Authorization")
    if not auth:
        return None
    scheme, _, cred = auth.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # latin-1, as mod_python decodes it (what browsers send is not specified)
        raw = base64.b64decode(cred.strip(), validate=True).decode("latin-1")
    except Exception:
        return None
    user, sep, pw = raw.partition(":")
    if not sep:
        return None
    self.user = user
    self.ap_auth_type = "Basic"
    return pw


def _req_construct_url(self, uri):
    c = self.connection
    host = self.hostname or self.server.server_hostname
    port = c.local_addr[1]
    scheme = c._scheme
    default = 443 if scheme == "https" else 80
    if port and port != default and ":" not in host.strip("[]"):
        host = "%s:%d" % (host, port)
    return "%s://%s%s" % (scheme, host, uri)


def _req_is_https(self):
    return 1 if self.connection._scheme == "https" else 0


def _req_get_remote_host(self, type=0, str_is_ip=None):
    ip = self.connection.remote_ip
    if str_is_ip is not None:
        return (ip, 1)
    return ip


def _req_build_env(self):
    """The CGI variables mod_python's add_common_vars fills in."""
    env = {}
    for k, v in self.headers_in.items():
        if "_" in k:
            continue  # never let X_Forwarded_For pose as X-Forwarded-For
        name = "HTTP_" + k.upper().replace("-", "_")
        if name in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            name = name[5:]
        env[name] = v if name not in env else env[name] + ", " + v
    c = self.connection
    info = self._route_info()
    env.update({
        "PATH": _os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "SERVER_SIGNATURE": "",
        "SERVER_SOFTWARE": "subhttpd",
        "SERVER_NAME": self.hostname or info["server_name"],
        "SERVER_ADDR": c.local_ip,
        "SERVER_PORT": str(c.local_addr[1]),
        "REMOTE_ADDR": c.remote_ip,
        "REMOTE_PORT": str(c.remote_addr[1]),
        "DOCUMENT_ROOT": info["document_root"],
        "REQUEST_SCHEME": c._scheme,
        "CONTEXT_PREFIX": "",
        "CONTEXT_DOCUMENT_ROOT": info["document_root"],
        "SERVER_ADMIN": "webmaster@" + info["server_name"],
        "SCRIPT_FILENAME": self.filename or "",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": self.protocol,
        "REQUEST_METHOD": self.method,
        "QUERY_STRING": self.args or "",
        "REQUEST_URI": self.unparsed_uri,
        "SCRIPT_NAME": self.uri[:len(self.uri) - len(self.path_info or "")] if self.path_info
        and self.uri.endswith(self.path_info) else self.uri,
    })
    if self.path_info:
        env["PATH_INFO"] = self.path_info
        env["PATH_TRANSLATED"] = info["document_root"] + self.path_info
    if self.user:
        env["REMOTE_USER"] = self.user
    if self.ap_auth_type:
        env["AUTH_TYPE"] = self.ap_auth_type
    if c._scheme == "https":
        env["HTTPS"] = "on"
    return env


def _req_add_common_vars(self):
    env = self.subprocess_env
    for k, v in _req_build_env(self).items():
        env[k] = v


def _req_add_cgi_vars(self):
    _req_add_common_vars(self)


def _req_set_last_modified(self):
    if self.mtime:
        from email.utils import formatdate
        self.headers_out["Last-Modified"] = formatdate(self.mtime, usegmt=True)


def _req_meets_conditions(self):
    """OK, or HTTP_NOT_MODIFIED / HTTP_PRECONDITION_FAILED from the request's
    conditional headers against req.mtime and the ETag in headers_out."""
    from email.utils import parsedate_to_datetime
    etag = self.headers_out.getfirst("ETag")
    inm = self.headers_in.getfirst("If-None-Match")
    im = self.headers_in.getfirst("If-Match")
    if im and im.strip() != "*" and (not etag or etag not in [t.strip() for t in im.split(",")]):
        return HTTP_PRECONDITION_FAILED
    ius = self.headers_in.getfirst("If-Unmodified-Since")
    if ius and self.mtime:
        try:
            if self.mtime > parsedate_to_datetime(ius).timestamp():
                return HTTP_PRECONDITION_FAILED
        except (TypeError, ValueError):
            pass
    if inm:
        tags = [t.strip() for t in inm.split(",")]
        if "*" in tags or (etag and etag in tags):
            return HTTP_NOT_MODIFIED if self.method in ("GET", "HEAD") else HTTP_PRECONDITION_FAILED
        return OK
    ims = self.headers_in.getfirst("If-Modified-Since")
    if ims and self.mtime and self.method in ("GET", "HEAD"):
        try:
            if int(self.mtime) <= parsedate_to_datetime(ims).timestamp():
                return HTTP_NOT_MODIFIED
        except (TypeError, ValueError):
            pass
    return OK


# req.finfo / apache.stat(): APR's file types and mod_python's mp_finfo.
APR_NOFILE, APR_REG, APR_DIR, APR_CHR, APR_BLK, APR_PIPE, APR_LNK, APR_SOCK = range(8)
APR_UNKFILE = 127

FINFO_MODE, FINFO_INO, FINFO_DEV, FINFO_NLINK, FINFO_UID, FINFO_GID, FINFO_SIZE, \
    FINFO_ATIME, FINFO_MTIME, FINFO_CTIME, FINFO_FNAME, FINFO_NAME, FINFO_FILETYPE = range(13)


class finfo(object):
    """mod_python's mp_finfo: stat() of a file, by attribute or (old style) by
    FINFO_* index. Times are float seconds; a missing file has filetype
    APR_NOFILE and every other field None."""

    __slots__ = ("fname", "filetype", "valid", "protection", "user", "group", "size", "csize",
                 "inode", "device", "nlink", "atime", "mtime", "ctime", "name")

    def __init__(self, fname, link=False):
        import stat as st
        for k in self.__slots__:
            setattr(self, k, None)
        self.fname = fname
        self.filetype = APR_NOFILE
        self.valid = 0
        try:
            s = _os.lstat(fname) if link else _os.stat(fname)
        except (OSError, TypeError, ValueError):
            return
        m = s.st_mode
        self.filetype = (APR_REG if st.S_ISREG(m) else APR_DIR if st.S_ISDIR(m) else
                         APR_CHR if st.S_ISCHR(m) else APR_BLK if st.S_ISBLK(m) else
                         APR_PIPE if st.S_ISFIFO(m) else APR_LNK if st.S_ISLNK(m) else
                         APR_SOCK if st.S_ISSOCK(m) else APR_UNKFILE)
        self.valid = 0x0073b170  # APR_FINFO_NORM
        self.protection = st.S_IMODE(m)
        self.user, self.group = s.st_uid, s.st_gid
        self.size = s.st_size
        self.csize = getattr(s, "st_blocks", 0) * 512
        self.inode, self.device, self.nlink = s.st_ino, s.st_dev, s.st_nlink
        self.atime, self.mtime, self.ctime = s.st_atime, s.st_mtime, s.st_ctime
        self.name = _os.path.basename(fname)

    def _tuple(self):
        return (self.protection, self.inode, self.device, self.nlink, self.user, self.group, self.size,
                self.atime, self.mtime, self.ctime, self.fname, self.name, self.filetype)

    def __getitem__(self, i):
        return self._tuple()[i]

    def __len__(self):
        return 13

    def __iter__(self):
        return iter(self._tuple())

    def __repr__(self):
        return "<mp_finfo %r filetype=%r size=%r>" % (self.fname, self.filetype, self.size)


def _req_finfo(self):
    f = self.__dict__.get("_finfo")
    if f is None or f.fname != self.filename:
        f = self.__dict__["_finfo"] = finfo(self.filename)
    return f


def _req_set_finfo(self, value):
    self.__dict__["_finfo"] = value


def _req_set_etag(self):
    """Apache's ap_set_etag: a weak-free validator from the file's inode, size
    and mtime (or req.mtime alone when there is no file)."""
    f = self.finfo
    if f.filetype == APR_REG:
        tag = '"%x-%x-%x"' % (f.inode, f.size, int(f.mtime * 1000000))
    else:
        tag = '"%x"' % int(self.mtime * 1000000)
    self.headers_out["ETag"] = tag


def _req_ssl_var_lookup(self, var_name):
    """mod_ssl variables: subhttpd terminates no TLS itself."""
    if var_name == "HTTPS":
        return "on" if self.connection._scheme == "https" else "off"
    return None


def _req_method_number(self):
    try:
        return METHODS.index(self.method)
    except ValueError:
        return 26  # M_INVALID


def _req_useragent_ip(self):
    return self.connection.remote_ip


def _req_useragent_addr(self):
    return self.connection.remote_addr


def _req_requires(self):
    return ()


def _req_auth_name(self):
    return self._route_info()["auth_name"] or None


def _req_auth_type(self):
    return self._auth_type_config() or None


def _extend_request_type(t):
    t.connection = property(_req_connection, doc="the client's connection")
    t.server = property(_req_server, doc="the site serving the request")
    t.get_basic_auth_pw = _req_get_basic_auth_pw
    t.construct_url = _req_construct_url
    t.is_https = _req_is_https
    t.get_remote_host = _req_get_remote_host
    t.add_common_vars = _req_add_common_vars
    t.add_cgi_vars = _req_add_cgi_vars
    t.build_cgi_env = _req_build_env
    t.set_last_modified = _req_set_last_modified
    t.meets_conditions = _req_meets_conditions
    t.requires = _req_requires
    t.set_etag = _req_set_etag
    t.ssl_var_lookup = _req_ssl_var_lookup
    t.method_number = property(_req_method_number)
    t.useragent_ip = property(_req_useragent_ip)
    t.useragent_addr = property(_req_useragent_addr)
    t.read_length = 0
    t.read_body = 0
    t.no_local_copy = 0
    t.auth_name = _req_auth_name
    t.auth_type = _req_auth_type
    t.main = None
    t.prev = None
    t.next = None
    t.chunked = 0
    t.read_chunked = 0
    t.expecting_100 = 0
    t.content_encoding = None
    t.content_languages = ()
    t.used_path_info = 0
    t.eos_sent = 0
    t.vlist_validator = None
    t.range = None
    t.assbackwards = 0
    t.proxyreq = REQ_PROXY_NONE
    t.request_time = property(lambda self: self.__dict__.setdefault("_request_time", _time.time()))
    t.allowed = 0
    t.allowed_xmethods = ()
    t.allowed_methods = ()
    t.boundary = None
    t.range = None
    t.sent_bodyct = 0
    t.hlist = None
    t.finfo = property(_req_finfo, _req_set_finfo, doc="stat() of req.filename (mp_finfo)")
    t.parsed_uri = property(lambda self: (None, None, None, None, self.hostname, self.connection.local_addr[1],
                                           self.uri, self.args, None))


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


def offload(fn, *args, **kwargs):
    """Runs fn(*args, **kwargs) on the worker pool; await the result."""
    return _Offload(fn, args, kwargs)


def _coro_step(coro):
    """Advances an async handler: (True, result) when it ends, or (False, the
    _Offload it awaits)."""
    try:
        awaited = coro.send(None)
    except StopIteration as stop:
        return (True, stop.value)
    while not isinstance(awaited, _Offload):
        try:
            awaited = coro.throw(RuntimeError(
                "an async handler can await subhttpd.offload(...) only, not %r" % (awaited,)))
        except StopIteration as stop:
            return (True, stop.value)
    return (False, awaited)


def _run_coroutine(coro):
    """An async handler on the loop: runs it to its end."""
    try:
        while True:
            awaited = coro.send(None)
            if awaited is not None and hasattr(awaited, "_subhttpd_wait"):
                awaited._subhttpd_wait()
                continue
            raise RuntimeError("an async handler awaited %r, which cannot complete inside subhttpd" % (awaited,))
    except StopIteration as stop:
        return stop.value
    finally:
        coro.close()


def _python_import(module_name, callable_name, root):
    """PythonImport: `module` or `module::callable`, in this interpreter."""
    _current_dirs.append(root)
    try:
        module = import_module(module_name)
    finally:
        _current_dirs.pop()
    if callable_name:
        obj = module
        for part in callable_name.split("."):
            obj = getattr(obj, part)
        obj()
    return None


# ---------------------------------------------------------------------------
# WSGI (PEP 3333): the app loader and the plain-Python parts of the adapter.
# The environ, wsgi.input and start_response are native (interp/wsgi.cpp).

_wsgi_plain_mtimes = {}   # module name -> mtime of its file when last (re)loaded


def _split_wsgi_spec(spec):
    """"pkg.mod:app" -> ("pkg.mod", "app"); "app.wsgi" -> ("app.wsgi", "")."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr or "/" in attr or _os.sep in attr:
        return spec, ""
    if not all(part.isidentifier() for part in attr.split(".")):
        return spec, ""
    return target, attr


def _import_plain(name, module_dir, autoreload):
    """A module (usually a package's) by its dotted name through the normal import
    system, so relative imports and the package's real name keep working; the
    handler directory goes on sys.path when the package lives there."""
    import importlib
    top = name.split(".", 1)[0]
    if module_dir and _find_file(top, [module_dir]) and module_dir not in _sys.path:
        _sys.path.insert(0, module_dir)
    module = _sys.modules.get(name)
    if module is None:
        module = importlib.import_module(name)
        _wsgi_plain_mtimes[name] = _mtime(getattr(module, "__file__", None) or "")
    elif autoreload:
        path = getattr(module, "__file__", None)
        if path:
            now = _mtime(path)
            before = _wsgi_plain_mtimes.setdefault(name, now)
            if now != before:
                module = importlib.reload(module)
                _wsgi_plain_mtimes[name] = now
    return module


def _resolve_wsgi(spec, module_dir, autoreload):
    """(callable, script file) for a `wsgi` setting (called by the server).

    "module:callable" looks the module up in module_dir first (through the
    importer: cached by absolute path, re-imported when its file changes), then on
    sys.path; "pkg.mod:callable" imports the package normally. A path to a .wsgi
    or .py file (relative to module_dir) is loaded as a module and its
    `application` (or the callable named after a ':') is used, as mod_wsgi does.
    """
    target, attr = _split_wsgi_spec(spec)
    attr = attr or "application"
    path = target if _os.path.isabs(target) else _os.path.join(module_dir, target)
    dotted = all(part.isidentifier() for part in target.split("."))
    # "mysite.wsgi" is a module unless a file of that name is there.
    if "/" in target or _os.sep in target or _os.path.isfile(path) or not dotted:
        path = _os.path.abspath(path)
        if not _os.path.isfile(path):
            raise ImportError("WSGI script %s does not exist" % path, path=path)
        module = _import_path(path, autoreload)
    else:
        found = _find_file(target, [module_dir]) if "." not in target else None
        if found is not None:
            module = _import_path(found, autoreload)
        else:
            module = _import_plain(target, module_dir, autoreload)
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError("WSGI app %r: module %s (%s) has no attribute %r"
                                 % (spec, target, getattr(module, "__file__", "?"), attr)) from None
    if not callable(obj):
        raise TypeError("WSGI app %r: %r is not callable" % (spec, obj))
    return (obj, getattr(module, "__file__", None) or "")


_SUBINTERP_WORDS = ("subinterpreter", "sub-interpreter", "one interpreter per process",
                    "once per interpreter process", "interpreter change detected")


def _subinterp_refusal(exc):
    """The package an ImportError (anywhere in exc's chain) says refuses to load
    in a subinterpreter, or None."""
    import re
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ImportError):
            text = str(exc)
            low = text.lower()
            if any(w in low for w in _SUBINTERP_WORDS):
                name = exc.name
                if not name:
                    m = re.search(r"""module\s+['"]?([A-Za-z_][\w.]*)""", text)
                    name = m.group(1) if m else None
                if not name and exc.path:
                    name = _os.path.basename(exc.path).split(".", 1)[0]
                return (name or "unknown").split(".", 1)[0]
        exc = exc.__cause__ or exc.__context__
    return None


class _FileWrapper(object):
    """wsgi.file_wrapper: the server sends the file itself (sendfile) when it can
    find the file behind `filelike`; otherwise it iterates blocks like this."""

    __slots__ = ("filelike", "blksize")

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration

    def close(self):
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def _wsgi_file_target(wrapper):
    """(path, offset, length) of the regular file behind a _FileWrapper, or None."""
    import stat
    f = wrapper.filelike
    try:
        fd = f.fileno()
    except Exception:
        fd = None
    try:
        if isinstance(fd, int) and fd >= 0:
            st = _os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            offset = f.tell() if hasattr(f, "tell") else _os.lseek(fd, 0, _os.SEEK_CUR)
            path = "/proc/self/fd/%d" % fd
            if not _os.path.exists(path):
                name = getattr(f, "name", None)
                if not isinstance(name, str) or not _os.path.isfile(name):
                    return None
                path = name
            return (path, offset, max(0, st.st_size - offset))
        name = getattr(f, "name", None)
        if isinstance(name, str) and _os.path.isabs(name) and _os.path.isfile(name) and hasattr(f, "tell"):
            offset = f.tell()
            return (name, offset, max(0, _os.stat(name).st_size - offset))
    except (OSError, ValueError, TypeError):
        return None
    return None


_wsgi_errors = None


def _wsgi_errors_stream():
    """wsgi.errors: one stream per interpreter, into the error log with its name."""
    global _wsgi_errors
    if _wsgi_errors is None:
        _wsgi_errors = _LogStream("error")
    return _wsgi_errors


# ---------------------------------------------------------------------------
# Debug error pages (PythonDebug): the server renders what this returns.

def _error_report(exc_type, exc, tb, context=3):
    """The pieces of a debug error page for one exception (called by the server).

    Returns (type name, message, traceback text, frames, syntax) where frames is a
    list of (filename, lineno, function, [(lineno, source line), ...]) with
    `context` lines either side, innermost last, and syntax is None or
    (filename, lineno, offset, end_offset, text, msg) for a SyntaxError.
    """
    import traceback
    import linecache
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    frames = []
    for fs in traceback.extract_tb(tb):
        lineno = fs.lineno or 0
        lines = []
        if lineno > 0:
            linecache.checkcache(fs.filename)  # autoreload may have changed it
            for n in range(max(1, lineno - context), lineno + context + 1):
                line = linecache.getline(fs.filename, n)
                if not line:
                    break
                lines.append((n, line.rstrip("\r\n")))
        frames.append((fs.filename, lineno, fs.name, lines))
    # The server's own importer frames above the first user frame are noise
    # (a SyntaxError in a handler module has nothing else); the text keeps them.
    while frames and (frames[0][0] == __file__ or frames[0][0].startswith("<frozen ")):
        del frames[0]
    syntax = None
    if isinstance(exc, SyntaxError):
        end = getattr(exc, "end_offset", None) or 0
        if getattr(exc, "end_lineno", None) not in (None, exc.lineno):
            end = 0
        syntax = (exc.filename or "", exc.lineno or 0, exc.offset or 0, end,
                  (exc.text or "").rstrip("\r\n"), exc.msg or "")
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable %s>" % exc_type.__name__
    name = exc_type.__qualname__
    if exc_type.__module__ not in ("builtins", "__main__"):
        name = "%s.%s" % (exc_type.__module__, name)
    return (name, message, text, frames, syntax)

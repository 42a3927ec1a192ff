"""req members written in Python, added to the native request type by
subhttpd_runtime._extend_request_type: connection, server, finfo, and the methods that
are plain Python (get_basic_auth_pw, construct_url, add_common_vars, ...)."""

import os as _os
import time as _time

from subhttpd_runtime import (AP_CONN_UNKNOWN, APLOG_ERR, APLOG_INFO, APLOG_WARNING, HTTP_NOT_MODIFIED,  # noqa: F401
                       HTTP_PRECONDITION_FAILED, METHODS, OK, REQ_PROXY_NONE, table)
import subhttpd_runtime as _subhttpd

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
        self.base_server = main_server
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
        _subhttpd._native._log("error" if level <= APLOG_ERR else "warn" if level == APLOG_WARNING
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
        """The directives set for the site itself (the virtual host), not the
        directory's."""
        return self._req._site_config()

    def register_cleanup(self, req, callable, data=None):
        req.register_cleanup(callable, data)

    def log_error(self, message, level=APLOG_ERR):
        self._req.log_error(message, level)


class _main_server(object):
    """apache.main_server and req.connection.base_server: the server outside
    every site (Apache's main server_rec). It has no PythonOptions and no
    directives of its own: those belong to sites."""

    server_hostname = "localhost"
    defn_name = ""
    server_admin = "webmaster@localhost"
    port = 0
    is_virtual = 0
    error_fname = None
    timeout = 0
    keep_alive = 1
    path = ""
    pathlen = 0
    defn_line_number = 0
    loglevel = APLOG_INFO
    keep_alive_timeout = 0
    keep_alive_max = 0
    limit_req_line = 8190
    limit_req_fieldsize = 8190
    limit_req_fields = 100
    names = ()
    wild_names = ()

    def get_options(self):
        return table()

    def get_config(self):
        return table()

    def register_cleanup(self, req, callable, data=None):
        req.register_cleanup(callable, data)

    def log_error(self, message, level=APLOG_ERR):
        _subhttpd._native._log("error" if level <= APLOG_ERR else "warn" if level == APLOG_WARNING
                               else "info" if level <= APLOG_INFO else "debug", str(message))

    def __repr__(self):
        return "<main server>"


main_server = _main_server()


class hlist(object):
    """req.hlist: the handler being run, as mod_python 3.5 describes it.
    `directory` is the folder of the block that set the handler (with a
    trailing '/'; None for a handler set at site level, as in Apache), or a
    location's URL prefix with `is_location` = 1."""

    __slots__ = ("handler", "directory", "parent", "is_location", "silent")

    def __init__(self, handler, directory, is_location):
        self.handler = handler
        self.directory = directory
        self.parent = None
        self.is_location = is_location
        self.silent = 0

    def __repr__(self):
        return "<hlist handler=%r directory=%r is_location=%r>" % (self.handler, self.directory, self.is_location)


def _req_hlist(self):
    handler, directory, is_location = self._hlist_info()  # the server knows which block set it
    return hlist(handler, directory, is_location)


def _req_get_session(self):
    """The request's Session.Session, made on first use and kept in req.session."""
    sess = self.__dict__.get("session")
    if sess is None:
        from mod_python import Session
        sess = self.__dict__["session"] = Session.Session(self)
    return sess


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
        "SERVER_PORT": info["server_port"],
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


# req.finfo / apache.stat(): APR's file types (the constants live in subhttpd_runtime).
from subhttpd_runtime import (APR_NOFILE, APR_REG, APR_DIR, APR_CHR, APR_BLK, APR_PIPE, APR_LNK,  # noqa: E402,F401
                       APR_SOCK, APR_UNKFILE, FINFO_MODE, FINFO_INO, FINFO_DEV, FINFO_NLINK, FINFO_UID,
                       FINFO_GID, FINFO_SIZE, FINFO_ATIME, FINFO_MTIME, FINFO_CTIME, FINFO_FNAME, FINFO_NAME,
                       FINFO_FILETYPE)


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


def _req_drain(self):
    """Await it in an async handler: resumes once the client has taken most of
    what the handler wrote (back-pressure for large streamed answers)."""
    return _subhttpd._Drain()


def _extend_request_type(t):
    t.drain = _req_drain
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
    t.hlist = property(_req_hlist, doc="the handler being run (handler, directory, is_location, ...)")
    t.get_session = _req_get_session
    t.finfo = property(_req_finfo, _req_set_finfo, doc="stat() of req.filename (mp_finfo)")
    t.parsed_uri = property(lambda self: (None, None, None, None, self.hostname, self.connection.local_addr[1],
                                           self.uri, self.args, None))



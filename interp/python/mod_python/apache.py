"""mod_python.apache for subhttpd: return codes, table, import_module and the
module-level helpers mod_python handlers use, so `from mod_python import apache`
runs unmodified."""

import sys as _sys

import subhttpd_runtime as _subhttpd
from subhttpd_runtime import *  # noqa: F401,F403  return codes, APLOG_*, M_*, ...
from subhttpd_runtime import SERVER_RETURN, table, import_module  # noqa: F401

try:
    import subhttpd as _native
except ImportError:  # outside the server (tests, tools)
    _native = None

make_table = table  # mod_python's old name


def log_error(message, level=APLOG_ERR, server=None):  # noqa: F405
    """Writes `message` to the server's error log with this interpreter's name."""
    name = {APLOG_EMERG: "error", APLOG_ALERT: "error", APLOG_CRIT: "error",  # noqa: F405
            APLOG_ERR: "error", APLOG_WARNING: "warn", APLOG_NOTICE: "info",  # noqa: F405
            APLOG_INFO: "info", APLOG_DEBUG: "debug"}.get(level & 7, "error")  # noqa: F405
    if _native is not None:
        _native._log(name, str(message))
    else:
        _sys.stderr.write(str(message) + "\n")


def build_cgi_env(req):
    """The CGI environment for `req` (mod_python's apache.build_cgi_env)."""
    req.add_common_vars()
    env = dict(req.subprocess_env.items())
    if req.path_info:
        env["SCRIPT_NAME"] = req.uri[:-len(req.path_info)]
    else:
        env["SCRIPT_NAME"] = req.uri
    env["GATEWAY_INTERFACE"] = "Python-CGI/1.1"
    return env


def setup_cgi(req):
    """mod_python 3.5's CGI emulation for the calling thread only: from now on
    this thread's sys.stdout writes the response (CGI headers first),
    sys.stdin reads the body and os.environ holds the CGI variables. Returns
    what restore_nocgi() needs."""
    from mod_python import cgihandler
    return cgihandler.enter_cgi(req)


def restore_nocgi(sav_env, si, so):
    """Ends setup_cgi() for this thread."""
    from mod_python import cgihandler
    cgihandler.leave_cgi((sav_env, si, so))


def parse_qs(qs, keep_blank_values=0, strict_parsing=0):
    from mod_python import util
    return util.parse_qs(qs, keep_blank_values, strict_parsing)


def parse_qsl(qs, keep_blank_values=0, strict_parsing=0):
    from mod_python import util
    return util.parse_qsl(qs, keep_blank_values, strict_parsing)


def register_cleanup(callable, data=None):
    """Server-level cleanup: runs when this interpreter's process stops."""
    import atexit
    atexit.register(callable, data)


class _InterpreterName(str):
    """apache.interpreter: this interpreter's name, a str as in mod_python 3.5.
    Calling it (`apache.interpreter()`, an older subhttpd spelling) gives the
    same name."""

    def __call__(self):
        return str(self)


def _interpreter_name():
    try:
        return _native.interpreter_name() if _native is not None else "main_interpreter"
    except Exception:
        return "main_interpreter"


interpreter = _InterpreterName(_interpreter_name())


def exists_config_define(name):
    """Apache's -D defines: there are none."""
    return False


exists_config = exists_config_define  # the name mod_python's documentation uses


def mpm_query(code):
    return 0


def server_root():
    import os
    return os.getcwd()


def stat(fname, wanted=0):
    """An mp_finfo for `fname` (assignable to req.finfo); APR_FINFO_LINK in
    `wanted` stats a symlink itself."""
    return _subhttpd.finfo(fname, link=bool(wanted & APR_FINFO_LINK))


def config_tree():
    """Apache's parsed configuration tree: there is none (the config is TOML)."""
    return []


main_server = _subhttpd.main_server  # the process-wide server; req.server is the site


# ---- constants mod_python's apache module defines, kept for source compatibility

REQ_PROCEED = OK  # noqa: F405
REQ_NOACTION = DECLINED  # noqa: F405
REQ_ABORTED = HTTP_INTERNAL_SERVER_ERROR  # noqa: F405
REQ_EXIT = "REQ_EXIT"

REMOTE_HOST, REMOTE_NAME, REMOTE_NOLOOKUP, REMOTE_DOUBLE_REV = range(4)

(URI_SCHEME, URI_HOSTINFO, URI_USER, URI_PASSWORD, URI_HOSTNAME, URI_PORT, URI_PATH, URI_QUERY,
 URI_FRAGMENT) = range(9)

PROXYREQ_NONE, PROXYREQ_PROXY, PROXYREQ_REVERSE, PROXYREQ_RESPONSE = range(4)

(M_PROPFIND, M_PROPPATCH, M_MKCOL, M_COPY, M_MOVE, M_LOCK, M_UNLOCK, M_VERSION_CONTROL, M_CHECKOUT,
 M_UNCHECKOUT, M_CHECKIN, M_UPDATE, M_LABEL, M_REPORT, M_MKWORKSPACE, M_MKACTIVITY, M_BASELINE_CONTROL,
 M_MERGE, M_INVALID) = range(8, 27)

AP_REQ_ACCEPT_PATH_INFO, AP_REQ_REJECT_PATH_INFO, AP_REQ_DEFAULT_PATH_INFO = range(3)

CGI_MAGIC_TYPE = "application/x-httpd-cgi"
INCLUDES_MAGIC_TYPE = "text/x-server-parsed-html"
INCLUDES_MAGIC_TYPE3 = "text/x-server-parsed-html3"
DIR_MAGIC_TYPE = "httpd/unix-directory"

REQUEST_NO_BODY, REQUEST_CHUNKED_ERROR, REQUEST_CHUNKED_DECHUNK = range(3)

APR_FINFO_LINK = 0x00000001
APR_FINFO_MTIME = 0x00000010
APR_FINFO_CTIME = 0x00000020
APR_FINFO_ATIME = 0x00000040
APR_FINFO_SIZE = 0x00000100
APR_FINFO_CSIZE = 0x00000200
APR_FINFO_DEV = 0x00001000
APR_FINFO_INODE = 0x00002000
APR_FINFO_NLINK = 0x00004000
APR_FINFO_TYPE = 0x00008000
APR_FINFO_USER = 0x00010000
APR_FINFO_GROUP = 0x00020000
APR_FINFO_UPROT = 0x00100000
APR_FINFO_GPROT = 0x00200000
APR_FINFO_WPROT = 0x00400000
APR_FINFO_ICASE = 0x01000000
APR_FINFO_NAME = 0x02000000
APR_FINFO_MIN = 0x00008170
APR_FINFO_IDENT = 0x00003000
APR_FINFO_OWNER = 0x00030000
APR_FINFO_PROT = 0x00700000
APR_FINFO_NORM = 0x0073b170
APR_FINFO_DIRENT = 0x02000000


# mod_python exposes the module that is being imported/autoreloaded under these.
version = "3.5.0 (subhttpd)"
mpm_query_constants = {}
AP_MPMQ_NOT_SUPPORTED = 0
AP_MPMQ_STATIC = 1
AP_MPMQ_DYNAMIC = 2
(AP_MPMQ_MAX_DAEMON_USED, AP_MPMQ_IS_THREADED, AP_MPMQ_IS_FORKED, AP_MPMQ_HARD_LIMIT_DAEMONS,
 AP_MPMQ_HARD_LIMIT_THREADS, AP_MPMQ_MAX_THREADS, AP_MPMQ_MIN_SPARE_DAEMONS, AP_MPMQ_MIN_SPARE_THREADS,
 AP_MPMQ_MAX_SPARE_DAEMONS, AP_MPMQ_MAX_SPARE_THREADS, AP_MPMQ_MAX_REQUESTS_DAEMON,
 AP_MPMQ_MAX_DAEMONS) = range(1, 13)

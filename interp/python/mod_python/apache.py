"""mod_python.apache for subhttpd: return codes, table, import_module and the
module-level helpers mod_python handlers use, so `from mod_python import apache`
runs unmodified."""

import sys as _sys

import _subhttpd
from _subhttpd import *  # noqa: F401,F403  return codes, APLOG_*, M_*, ...
from _subhttpd import SERVER_RETURN, table, import_module  # noqa: F401

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


def interpreter():
    return _native.interpreter_name() if _native is not None else "main_interpreter"


def exists_config_define(name):
    return False


def mpm_query(code):
    return 0


def server_root():
    import os
    return os.getcwd()


def stat(fname, wanted=0):
    import os
    return os.stat(fname)


# mod_python exposes the module that is being imported/autoreloaded under these.
version = "3.5.0 (subhttpd)"
mpm_query_constants = {}
AP_MPMQ_IS_THREADED = 2
AP_MPMQ_IS_FORKED = 3
AP_MPMQ_NOT_SUPPORTED = 0
AP_MPMQ_STATIC = 1
AP_MPMQ_DYNAMIC = 2

"""mod_python.wsgi: mod_python 3.5's WSGI handler, over the mod_python `req`.

    [[site.location]]
    path = "/wsgiapps"
    handler = "mod_python.wsgi"
    options = { "mod_python.wsgi.application" = "mysite.wsgi::application" }

The option names the module (found like apache.import_module finds it) and,
after "::", its callable ("application" when omitted). The base URI, which
becomes SCRIPT_NAME, is the `location` path, or the `mod_python.wsgi.base_uri`
option when set (it wins; it may not end with '/'). A request outside the base
URI, or a missing application, is DECLINED with a warning in the log.

subhttpd's own `wsgi = "module:callable"` setting runs the same apps faster and
with the whole of PEP 3333 (streaming, wsgi.file_wrapper with sendfile).
"""

import sys

from mod_python import apache

_OPTION_APP = "mod_python.wsgi.application"
_OPTION_BASE = "mod_python.wsgi.base_uri"


class _Input(object):
    """wsgi.input over req.read/readline, bounded by what the body holds."""

    def __init__(self, req):
        self._req = req

    def read(self, size=-1):
        if size is None or size < 0:
            return self._req.read()
        return self._req.read(size)

    def readline(self, size=-1):
        if size is None or size < 0:
            return self._req.readline()
        return self._req.readline(size)

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class _Errors(object):
    """wsgi.errors: whole lines into the error log (req.log_error)."""

    def __init__(self, req):
        self._req = req
        self._buf = ""

    def write(self, s):
        self._buf += s
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            self._req.log_error(line, apache.APLOG_ERR)

    def writelines(self, seq):
        for s in seq:
            self.write(s)

    def flush(self):
        if self._buf:
            self._req.log_error(self._buf, apache.APLOG_ERR)
            self._buf = ""


def _base_uri(req):
    """The base URI (no trailing '/'), or raise ValueError for a bad option."""
    base = req.get_options().get(_OPTION_BASE)
    if base is not None and base != "":
        if base.endswith("/"):
            raise ValueError("PythonOption %r (%r) must not end with '/'" % (_OPTION_BASE, base))
        return base
    if base == "":
        return ""
    return req._route_info()["mount"].rstrip("/")


def _environ(req, base):
    env = req.build_cgi_env()
    uri = req.uri
    if base:
        if uri != base and not uri.startswith(base + "/"):
            return None
        path_info = uri[len(base):]
    else:
        path_info = uri
    env["SCRIPT_NAME"] = base
    env["PATH_INFO"] = path_info
    env.pop("PATH_TRANSLATED", None)
    env.setdefault("QUERY_STRING", "")
    scheme = "https" if req.is_https() else "http"
    env.update({
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": _Input(req),
        "wsgi.errors": _Errors(req),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "mod_python.request": req,
    })
    return env


def handler(req):
    options = req.get_options()
    spec = options.get(_OPTION_APP)
    app = None
    if spec:
        module_name, _, callable_name = spec.partition("::")
        config = req.get_config()
        autoreload = config.get("PythonAutoReload", "1") == "1"
        log = config.get("PythonDebug", "0") == "1"
        module = apache.import_module(module_name, autoreload=autoreload, log=log)
        app = getattr(module, callable_name or "application", None)
    if app is None:
        req.log_error("WSGI handler: %s (%r) not found, declining." % (_OPTION_APP, spec), apache.APLOG_WARNING)
        return apache.DECLINED

    base = _base_uri(req)
    env = _environ(req, base)
    if env is None:
        req.log_error("WSGI handler: req.uri (%r) does not start with %s (%r), declining."
                      % (req.uri, _OPTION_BASE, base), apache.APLOG_WARNING)
        return apache.DECLINED

    state = {"started": False, "sent": False}

    def start_response(status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if state["sent"]:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif state["started"]:
            raise AssertionError("start_response() called again without exc_info")
        code, _, reason = status.partition(" ")
        req.status = int(code)
        req.status_line = status
        req.headers_out.clear()
        for name, value in headers:
            if name.lower() == "content-type":
                req.content_type = value
            else:
                req.headers_out.add(name, value)
        state["started"] = True
        return write

    def write(data):
        if not state["started"]:
            raise AssertionError("write() before start_response()")
        state["sent"] = True
        req.write(data)

    response = app(env, start_response)
    try:
        for block in response:
            if block:
                write(block)
        if not state["started"]:
            raise AssertionError("the application returned without calling start_response()")
    finally:
        if not isinstance(response, (list, tuple)):
            close = getattr(response, "close", None)
            if close is not None:
                close()
    return apache.OK

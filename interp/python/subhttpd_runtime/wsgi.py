"""WSGI (PEP 3333): the app loader and the plain-Python parts of the adapter.

The environ, wsgi.input and start_response are native (interp/wsgi_*.cpp); the
server reaches these names through the subhttpd_runtime package."""

import os as _os
import sys as _sys

import subhttpd_runtime as _subhttpd
from subhttpd_runtime import _LogStream, _dotted_attr, _find_file, _import_path, _mtime, import_module  # noqa: F401
# ---------------------------------------------------------------------------
# WSGI (PEP 3333): the app loader and the plain-Python parts of the adapter.
# The environ, wsgi.input and start_response are native (interp/wsgi_*.cpp).

_wsgi_plain_mtimes = {}   # module name -> mtime of its file when last (re)loaded


def _parse_wsgi_spec(spec):
    """"pkg.mod:app" -> ("pkg.mod", "app", None); "app.wsgi" -> ("app.wsgi", "", None);
    "pkg:make(1, k='x')" -> ("pkg", "make", "1, k='x'"). The colon that splits is
    the last one before any '(' (conf/wsgi_spec.cpp applies the same rule)."""
    spec = spec.strip()
    paren = spec.find("(")
    head = spec if paren < 0 else spec[:paren]
    target, sep, _ = head.rpartition(":")
    if not sep:
        return spec, "", None
    expr = spec[len(target) + 1:].strip()
    target = target.strip()
    args = None
    name = expr
    if "(" in expr:
        if not expr.endswith(")"):
            raise ValueError("WSGI app %r: factory call %r must end with ')'" % (spec, expr))
        p = expr.index("(")
        name, args = expr[:p].strip(), expr[p + 1:-1]
    if not name or not all(part.isidentifier() for part in name.split(".")):
        if args is None and ("/" in name or _os.sep in name):
            return spec, "", None
        raise ValueError("WSGI app %r: %r is not a Python name" % (spec, name))
    return target, name, args


def _literal_args(spec, text):
    """(args, kwargs) from "1, 'a', k=[2]": literals only, as ast.literal_eval."""
    import ast
    try:
        call = ast.parse("f(%s)" % text, mode="eval").body
    except SyntaxError as e:
        raise ValueError("WSGI app %r: bad factory arguments %r: %s" % (spec, text, e.msg)) from None
    if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args) \
            or any(k.arg is None for k in call.keywords):
        raise ValueError("WSGI app %r: bad factory arguments %r" % (spec, text))
    try:
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except ValueError:
        raise ValueError("WSGI app %r: factory arguments %r must be literals" % (spec, text)) from None
    return args, kwargs


# (spec, module_dir) -> (module, factory result): a factory runs once per
# interpreter (and again only when autoreload re-imports its module).
_wsgi_factory_apps = {}


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


# id(app) -> (app, the app as served in dev mode): each app is adjusted once.
_wsgi_dev_apps = {}


def _framework_of(app):
    """"flask", "django" or None: the framework an app object comes from."""
    mod = type(app).__module__ or ""
    top = mod.split(".", 1)[0]
    if top == "flask" or (top != "django" and hasattr(app, "config") and hasattr(app, "wsgi_app")
                          and "flask" in _sys.modules and isinstance(app, _sys.modules["flask"].Flask)):
        return "flask"
    if mod.startswith("django.core.handlers"):
        return "django"
    return None


def _dev_app(app, debugger):
    """The app as dev mode serves it. Flask: PROPAGATE_EXCEPTIONS on, so the
    error reaches the server's debug page instead of Flask's generic 500 (or,
    with the block option wsgi_debugger = "werkzeug", Werkzeug's interactive
    debugger wraps the app); templates reload. Django: settings.DEBUG on, so its
    technical 500 and 404 pages show."""
    hit = _wsgi_dev_apps.get(id(app))
    if hit is not None and hit[0] is app and hit[1] == debugger:
        return hit[2]
    served = app
    kind = _framework_of(app)
    if kind == "flask":
        app.config["PROPAGATE_EXCEPTIONS"] = True
        app.config["TEMPLATES_AUTO_RELOAD"] = True
        if debugger == "werkzeug":
            from werkzeug.debug import DebuggedApplication
            app.debug = True
            served = DebuggedApplication(app, evalex=True)
    elif kind == "django":
        from django.conf import settings
        settings.DEBUG = True
    _wsgi_dev_apps[id(app)] = (app, debugger, served)
    return served


def _resolve_wsgi(spec, module_dir, autoreload, dev=False, debugger=""):
    """(callable, script file) for a `wsgi` setting (called by the server).

    "module:callable" looks the module up in module_dir first (through the
    importer: cached by absolute path, re-imported when its file changes), then on
    sys.path; "pkg.mod:callable" imports the package normally. A path to a .wsgi
    or .py file (relative to module_dir) is loaded as a module and its
    `application` (or the callable named after a ':') is used, as mod_wsgi does.
    """
    target, attr, args = _parse_wsgi_spec(spec)
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
    if args is not None:
        key = (spec, module_dir)
        hit = _wsgi_factory_apps.get(key)
        if hit is not None and hit[0] is module:
            app = _dev_app(hit[1], debugger) if dev else hit[1]
            return (app, getattr(module, "__file__", None) or "")
    try:
        obj = _dotted_attr(module, attr)
    except AttributeError:
        raise AttributeError("WSGI app %r: module %s (%s) has no attribute %r"
                             % (spec, target, getattr(module, "__file__", "?"), attr)) from None
    if args is not None:
        if not callable(obj):
            raise TypeError("WSGI app %r: factory %r is not callable" % (spec, obj))
        pos, kw = _literal_args(spec, args)
        obj = obj(*pos, **kw)
        if not callable(obj):
            raise TypeError("WSGI app %r: the factory returned %r, which is not a WSGI callable" % (spec, obj))
        _wsgi_factory_apps[(spec, module_dir)] = (module, obj)
    if not callable(obj):
        raise TypeError("WSGI app %r: %r is not callable" % (spec, obj))
    if dev:
        obj = _dev_app(obj, debugger)
    return (obj, getattr(module, "__file__", None) or "")


# Folders whose files frameworks read (and may cache) at run time: a change in
# one reloads the app even though no module was imported from it.
_APP_DATA_FOLDERS = ("templates", "locale", "jinja2")


def _app_change(paths):
    """The first of `paths` (files changed under the app's folders) that this
    interpreter depends on: a module it imported (also through the handler
    importer), or a file under a templates/locale folder; "*" when the watcher
    lost track. None when no change matters (called by the server, autoreload = "app")."""
    loaded = set()
    for m in list(_sys.modules.values()):
        f = getattr(m, "__file__", None)
        if isinstance(f, str):
            loaded.add(f)
    loaded.update(_subhttpd._modules.keys())
    real = {_os.path.realpath(f) for f in loaded}
    for p in paths:
        if p == "*":
            return p
        if p in loaded or _os.path.realpath(p) in real:
            return p
        if p.endswith((".py", ".pyc")):
            continue
        parts = p.split(_os.sep)
        if any(folder in parts[:-1] for folder in _APP_DATA_FOLDERS):
            return p
    return None


# What C extensions that cannot live in several interpreters of one process say
# when a second interpreter imports them: Cython's, PyO3's, numpy's, and
# CPython 3.12+'s check of single-phase modules.
_SUBINTERP_WORDS = ("subinterpreter", "sub-interpreter", "one interpreter per process",
                    "once per interpreter process", "interpreter change detected",
                    "does not support loading in subinterpreters")


def _package_of(exc):
    """The top-level package whose import failed: the deepest frame of the
    traceback inside an installed package (dist-/site-packages), else the
    ImportError's own name or path."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        for marker in ("/dist-packages/", "/site-packages/"):
            at = path.rfind(marker)
            if at >= 0:
                first = path[at + len(marker):].split("/", 1)[0]
                found = first.split(".", 1)[0] if first.endswith(".py") or "." in first else first
        tb = tb.tb_next
    if found and found not in ("_distutils_hack",):
        return found
    name = getattr(exc, "name", None)
    if name:
        return name.split(".", 1)[0]
    path = getattr(exc, "path", None)
    if path:
        return _os.path.basename(path).split(".", 1)[0]
    return None


def _subinterp_refusal(exc):
    """The package that refused to load in this (sub)interpreter, judged from
    an exception anywhere in exc's chain, or None."""
    seen = set()
    outer = exc
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ImportError, RuntimeError, UserWarning)):
            low = str(exc).lower()
            if any(w in low for w in _SUBINTERP_WORDS):
                return _package_of(exc) or _package_of(outer) or "unknown"
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



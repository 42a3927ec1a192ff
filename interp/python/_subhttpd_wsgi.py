"""WSGI (PEP 3333): the app loader and the plain-Python parts of the adapter.

The environ, wsgi.input and start_response are native (interp/wsgi.cpp); the
server reaches these names through the _subhttpd module."""

import os as _os
import sys as _sys

import _subhttpd
from _subhttpd import _LogStream, _find_file, _import_path, _mtime, import_module  # noqa: F401
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



"""The handler importer: modules loaded by file path and cached per
interpreter (mod_python 3.3+ semantics), with the dependency tracking autoreload
needs; handler resolution for the server; PythonImport. Part of subhttpd_runtime,
which re-exports these names (the server and mod_python.apache use them there)."""

import os as _os
import sys as _sys
import time as _time

import subhttpd_runtime as _rt  # _native, set per interpreter at set-up


# ---------------------------------------------------------------------------
# The importer: handler modules cached by absolute file path (mod_python 3.3+).

# The frozen import machinery every interpreter already has does the loading:
# importlib.util would pull in contextlib, collections, functools, ... in each one.

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
    import _frozen_importlib as _bootstrap
    import _frozen_importlib_external as _external
    try:
        from _md5 import md5  # built in; hashlib would load OpenSSL (milliseconds)
    except ImportError:
        from hashlib import md5
    digest = md5(path.encode("utf-8", "surrogateescape")).hexdigest()
    modname = "_mp_" + digest
    spec = _external.spec_from_file_location(modname, path)
    if spec is None and not path.endswith(".py"):
        # mod_wsgi's .wsgi scripts: Python source under another suffix.
        spec = _external.spec_from_file_location(modname, path,
                                                 loader=_external.SourceFileLoader(modname, path))
    if spec is None:
        raise ImportError("cannot import %s" % path, path=path)
    module = _bootstrap.module_from_spec(spec)
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
        # A stat of the module's file (and its children's) on every import: an
        # edit is seen by the very next request.
        now = _time.monotonic()
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
        _rt._native._log("info", "importing %s from %s" % (module_name, found))
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
    return _resolve_in(module_name, module_dir, callable_name, autoreload)[0]


def _resolve_in(module_name, module_dir, callable_name, autoreload):
    """(callable, module) for a handler entry."""
    _add_handler_dir(module_dir)
    _current_dirs.append(module_dir)
    try:
        module = import_module(module_name, autoreload=autoreload)
    finally:
        _current_dirs.pop()
    try:
        obj = _dotted_attr(module, callable_name)
    except AttributeError:
        raise AttributeError("module '%s' (%s) has no attribute '%s'"
                             % (module_name, getattr(module, "__file__", "?"), callable_name))
    return obj, module


def _dotted_attr(obj, dotted):
    """obj.a.b for "a.b" (a handler's callable, a WSGI app); AttributeError at
    the first part that is missing."""
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _files_of(entry, out, seen):
    if entry.path in seen:
        return
    seen.add(entry.path)
    out.append((entry.path, entry.mtime if entry.mtime is not None else -1))
    for child in entry.children:
        _files_of(child, out, seen)


def _resolve_with_files(module_name, module_dir, callable_name, autoreload):
    """(callable, files) for the server's handler cache: `files` lists the
    handler module's file and those of the modules it imported through
    import_module, each with the mtime (ns) it was loaded at; the server stats
    them before reusing the callable. [] for modules outside that cache."""
    obj, module = _resolve_in(module_name, module_dir, callable_name, autoreload)
    files = []
    if autoreload:
        path = getattr(module, "__mp_path__", None)
        entry = _modules.get(path) if path else None
        if entry is not None:
            _files_of(entry, files, set())
    return obj, files


def _loaded_modules():
    return len(_modules)


def _python_import(module_name, callable_name, root):
    """PythonImport: `module` or `module::callable`, in this interpreter."""
    _current_dirs.append(root)
    try:
        module = import_module(module_name)
    finally:
        _current_dirs.pop()
    _sys.modules.setdefault(module_name, module)  # `import name` finds it, as in mod_python
    if callable_name:
        obj = module
        for part in callable_name.split("."):
            obj = getattr(obj, part)
        obj()
    return None

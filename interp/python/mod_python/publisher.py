"""mod_python.publisher: maps URLs to objects in Python modules and publishes them.

Behaviour follows mod_python 3.5's documentation and publishing rules:
``/dir/module.py/a/b`` (or ``/dir/module/a/b``) imports ``dir/module.py`` through
apache.import_module and traverses ``a`` then ``b`` from it; the module defaults
to ``index`` and the object to ``index``. Names starting with ``_`` give 403;
missing names 404; modules, classes and builtins may not be traversed or
published (403); builtin values (functions, strings, lists...) may be published
but not traversed into. Callables are called with the form fields they accept;
generators and other iterators are published item by item; anything else is
str()'d, encoded (UTF-8 unless the handler's content type names a charset) and
written, with text/html or text/plain guessed unless the handler chose a type.
"""

import base64
import binascii
import dis
import os
import re
import types

from mod_python import apache, util

_ALLOWED_METHODS = ["GET", "POST", "HEAD"]
_AUTH_NAMES = ("__auth__", "__access__", "__auth_realm__")

_re_html_end = re.compile(r"</html\s*>\s*$", re.I)
_re_html_start = re.compile(r"^\s*(<!doctype\s+html|<html[\s>])", re.I)
_re_charset = re.compile(r"charset\s*=\s*\"?([^\s;\"]+)", re.I)


def handler(req):
    req.allow_methods(_ALLOWED_METHODS)
    if req.method not in _ALLOWED_METHODS:
        raise apache.SERVER_RETURN(apache.HTTP_METHOD_NOT_ALLOWED)
    state = _OutputState(req)

    module_file, func_path = _locate(req)
    req.filename = module_file
    # By absolute path: a dotted file name (a.b.py) must not be read as a package.
    module = apache.import_module(module_file, path=[os.path.dirname(module_file)])

    realm, user, passwd = process_auth(req, module)
    obj = resolve_object(req, module, func_path, realm, user, passwd)

    if not publish_object(req, obj, state):
        if _debug(req):
            req.log_error("mod_python.publisher: nothing to publish.", apache.APLOG_NOTICE)
    return apache.OK


def _locate(req):
    """(module file, dotted object path) for the request, or SERVER_RETURN(404)."""
    filename = req.filename or ""
    path_info = req.path_info or ""
    while filename and path_info.strip("/") and os.path.isdir(filename):
        # Apache ends req.filename at the first missing segment (/dir/name +
        # /rest); a router that stops at a directory gives /dir + /name/rest
        # instead. Both mean module or object 'name'.
        seg, _, rest = path_info.lstrip("/").partition("/")
        if seg in (".", ".."):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        filename = os.path.join(filename, seg)
        path_info = "/" + rest if rest else ""
    if not filename:
        path, module_name = req.document_root(), "index"
    elif filename.endswith("/") or os.path.isdir(filename):
        path, module_name = filename.rstrip("/") or "/", "index"
    else:
        path, module_name = os.path.split(filename)
        stem, ext = os.path.splitext(module_name)
        if ext and stem:
            module_name = stem   # the extension that selected this handler

    func_path = path_info[1:]
    if func_path.endswith("/"):
        func_path = func_path[:-1]

    module_file = os.path.join(path, module_name + ".py")
    if not os.path.isfile(module_file):
        # /dir/name[/rest] with no name.py: 'name' is an object in dir/index.py
        func_path = module_name + "/" + func_path if func_path else module_name
        module_file = os.path.join(path, "index.py")
        if not os.path.isfile(module_file):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
    return os.path.normpath(module_file), (func_path or "index").replace("/", ".")


# ---------------------------------------------------------------- traversal

def _traversable(obj):
    t = type(obj)
    return not (isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType))
                or t.__module__ == "builtins")


def _publishable(obj):
    return not isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType))


def resolve_object(req, obj, object_str, realm=None, user=None, passwd=None):
    """Walks the dotted `object_str` from `obj`, checking __auth__/__access__ at each step."""
    first = True
    for name in object_str.split("."):
        if not name:
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        if name[0] == "_":
            req.log_error("Cannot traverse %s in %s because it starts with an underscore"
                          % (name, req.unparsed_uri), apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        if not first and not _traversable(obj):
            req.log_error("Cannot traverse %s in %s because %r is not a traversable object"
                          % (name, req.unparsed_uri, obj), apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        first = False
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        realm, user, passwd = process_auth(req, obj, realm, user, passwd)

    if not _publishable(obj):
        req.log_error("Cannot publish %s in %s because %r is not publishable"
                      % (object_str, req.unparsed_uri, obj), apache.APLOG_WARNING)
        raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
    return obj


# ---------------------------------------------------------------- authentication

_UNKNOWN = object()         # a name is assigned, but not to something we can evaluate
_spec_cache = {}


def _local_specs(code):
    """What the function body assigns to __auth__/__access__/__auth_realm__.

    Function objects cannot be given these names as attributes from inside, so
    mod_python reads them out of the function's code: constants, nested
    functions and (here also) lists, tuples and dicts of constants. Returns
    {name: value | ('code', codeobj, defaults) | _UNKNOWN}.
    """
    try:
        return _spec_cache[code]
    except (KeyError, TypeError):
        pass
    specs = {}
    stack = []

    def pop():
        return stack.pop() if stack else _UNKNOWN

    def popn(n):
        vals = [pop() for _ in range(n)][::-1]
        return _UNKNOWN if any(v is _UNKNOWN for v in vals) else vals

    for ins in dis.get_instructions(code):
        op, arg = ins.opname, ins.arg
        if op == "LOAD_CONST":
            stack.append(ins.argval)
        elif op in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET"):
            vals = popn(arg)
            if vals is not _UNKNOWN:
                vals = {"BUILD_LIST": list, "BUILD_TUPLE": tuple, "BUILD_SET": set}[op](vals)
            stack.append(vals)
        elif op in ("LIST_EXTEND", "SET_UPDATE") and arg == 1:
            extra, base = pop(), pop()
            if extra is _UNKNOWN or base is _UNKNOWN:
                stack.append(_UNKNOWN)
            else:
                base = list(base) + list(extra) if op == "LIST_EXTEND" else set(base) | set(extra)
                stack.append(base)
        elif op == "LIST_TO_TUPLE":
            v = pop()
            stack.append(_UNKNOWN if v is _UNKNOWN else tuple(v))
        elif op == "BUILD_MAP":
            vals = popn(2 * arg)
            stack.append(_UNKNOWN if vals is _UNKNOWN else dict(zip(vals[::2], vals[1::2])))
        elif op == "BUILD_CONST_KEY_MAP":
            keys = pop()
            vals = popn(arg)
            ok = keys is not _UNKNOWN and vals is not _UNKNOWN
            stack.append(dict(zip(keys, vals)) if ok else _UNKNOWN)
        elif op == "MAKE_FUNCTION":
            fcode = pop()
            if isinstance(fcode, str):          # before 3.11 the qualname came first
                fcode = pop()
            flags = arg or 0
            closure = pop() if flags & 0x08 else None
            if flags & 0x04:
                pop()
            if flags & 0x02:
                pop()
            defaults = pop() if flags & 0x01 else None
            if not isinstance(fcode, types.CodeType) or flags & 0x08 or defaults is _UNKNOWN:
                stack.append(_UNKNOWN)
            else:
                stack.append(("code", fcode, defaults))
        elif op == "SET_FUNCTION_ATTRIBUTE":     # 3.13+: attribute, function on the stack
            func, attr = pop(), pop()
            if func is _UNKNOWN or arg & 0x08:
                stack.append(_UNKNOWN)
            elif arg & 0x01 and attr is not _UNKNOWN:
                stack.append(("code", func[1], attr))
            else:
                stack.append(func)
        elif op in ("STORE_FAST", "STORE_NAME", "STORE_DEREF", "STORE_GLOBAL"):
            v = pop()
            if ins.argval in _AUTH_NAMES:
                specs[ins.argval] = v
        elif op in ("RESUME", "NOP", "CACHE", "EXTENDED_ARG", "MAKE_CELL", "COPY_FREE_VARS"):
            pass
        else:
            stack = [_UNKNOWN] * 8     # stack effect unknown: distrust what is there
    try:
        _spec_cache[code] = specs
    except TypeError:
        pass
    return specs


def _function_auth(func):
    """(found, value) for each of _AUTH_NAMES, from a function's body or attributes."""
    code = func.__code__
    names = set(code.co_varnames) | set(code.co_names) | set(code.co_cellvars)
    specs = _local_specs(code) if names.intersection(_AUTH_NAMES) else {}
    out = {}
    for name in _AUTH_NAMES:
        if name in func.__dict__:
            out[name] = func.__dict__[name]
        elif name in specs:
            v = specs[name]
            if isinstance(v, tuple) and len(v) == 3 and v[0] == "code":
                f = types.FunctionType(v[1], func.__globals__, v[1].co_name)
                if v[2]:
                    f.__defaults__ = tuple(v[2])
                v = f
            out[name] = v
    return out


def _credentials(req):
    """(user, password) from a Basic Authorization header, (None, None) if absent."""
    header = req.headers_in.get("Authorization")
    if isinstance(header, list):
        header = header[0]
    if not header:
        return None, None
    scheme, _, data = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        raw = base64.b64decode(data.strip().encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if ":" not in text:
        raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
    user, passwd = text.split(":", 1)
    return user, passwd


def _challenge(req, realm):
    realm = str(realm).replace("\\", "\\\\").replace('"', '\\"')
    req.err_headers_out["WWW-Authenticate"] = 'Basic realm="%s"' % realm
    raise apache.SERVER_RETURN(apache.HTTP_UNAUTHORIZED)


def process_auth(req, object, realm="unknown", user=None, passwd=None):
    """Applies `object`'s __auth__ / __access__ / __auth_realm__, if any.

    Returns (realm, user, passwd) for the next traversal step; raises
    SERVER_RETURN(401) with a Basic challenge or SERVER_RETURN(403).
    """
    if isinstance(object, (types.FunctionType, types.MethodType)):
        func = object.__func__ if isinstance(object, types.MethodType) else object
        found = _function_auth(func)
    else:
        found = {}
        for name in _AUTH_NAMES:
            try:
                found[name] = getattr(object, name)
            except AttributeError:
                pass
            except Exception:
                raise apache.SERVER_RETURN(apache.HTTP_INTERNAL_SERVER_ERROR)

    if "__auth_realm__" in found and found["__auth_realm__"] is not _UNKNOWN:
        realm = found["__auth_realm__"]
    if "__auth__" not in found and "__access__" not in found:
        return realm, user, passwd

    if not user:
        user, passwd = _credentials(req)

    if "__auth__" in found:
        auth = found["__auth__"]
        if not user:
            _challenge(req, realm)
        if auth is _UNKNOWN:
            rc = False
        elif callable(auth):
            rc = auth(req, user, passwd)
        elif isinstance(auth, dict):
            rc = user in auth and auth[user] == passwd
        else:
            rc = auth
        if not rc:
            _challenge(req, realm)
        if not getattr(req, "user", None):
            try:
                req.user = user
            except (AttributeError, TypeError):
                pass

    if "__access__" in found:
        access = found["__access__"]
        who = user if user else getattr(req, "user", None)
        if access is _UNKNOWN:
            rc = False
        elif callable(access):
            rc = access(req, who)
        elif isinstance(access, (list, tuple, set, frozenset)):
            rc = who in access
        else:
            rc = access
        if not rc:
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)

    return realm, user, passwd


# ---------------------------------------------------------------- output

class _OutputState(object):
    """Remembers the handler's content type on entry, to tell whether it set one."""

    def __init__(self, req):
        self.initial = req.content_type

    def type_set(self, req):
        flag = getattr(req, "_content_type_set", None)
        if isinstance(flag, bool):
            return flag
        return req.content_type != self.initial


def _debug(req):
    try:
        return str(req.get_config().get("PythonDebug", "0")).lower() in ("1", "on", "true")
    except Exception:
        return False


def publish_object(req, obj, state=None):
    """Publishes `obj`; returns True if something was written."""
    if state is None:
        state = _OutputState(req)
    if callable(obj) and not isinstance(obj, type):
        form = getattr(req, "form", None)
        if not isinstance(form, util.FieldStorage):
            form = util.FieldStorage(req, keep_blank_values=1)
            try:
                req.form = form
            except (AttributeError, TypeError):
                pass
        return publish_object(req, util.apply_fs_data(obj, form, req=req), state)

    if isinstance(obj, types.GeneratorType) or (
            hasattr(obj, "__next__") and hasattr(obj, "__iter__")
            and not isinstance(obj, (str, bytes, bytearray))):
        published = False
        for item in obj:
            published = publish_object(req, item, state) or published
        return published

    if obj is None:
        return False

    if isinstance(obj, (bytes, bytearray)):
        data, charset = bytes(obj), None
        sample = data[-200:].decode("latin-1") if not state.type_set(req) else ""
        head = data[:200].decode("latin-1") if not state.type_set(req) else ""
    else:
        text = obj if isinstance(obj, str) else str(obj)
        if state.type_set(req):
            m = _re_charset.search(req.content_type or "")
            if m:
                charset = m.group(1)
            else:
                charset = "utf-8"
                req.content_type = (req.content_type or "text/plain") + "; charset=utf-8"
        else:
            charset = "utf-8"
        try:
            data = text.encode(charset)
        except LookupError:
            data = text.encode("utf-8")
        sample, head = text[-200:], text[:200]

    if not state.type_set(req):
        looks_html = _re_html_end.search(sample) or _re_html_start.match(head)
        ctype = "text/html" if looks_html else "text/plain"
        if charset is not None:
            ctype += "; charset=%s" % charset
        req.content_type = ctype
        state.initial = object()     # from now on the type counts as chosen

    # Written for HEAD too: the server drops the body but keeps its length,
    # as Apache does for mod_python (MODPYTHON-105).
    req.write(data, 0)
    return True

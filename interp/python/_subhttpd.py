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

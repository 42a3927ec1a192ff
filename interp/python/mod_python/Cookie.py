"""mod_python.Cookie: one object per cookie, optionally HMAC-signed or marshalled.

Behaviour follows mod_python 3.5's documentation (Netscape-style cookies, as
browsers actually use them). A Cookie is one name=value pair plus attributes;
str(cookie) is a Cookie / Set-Cookie header value. SignedCookie prefixes the
value with an HMAC-MD5 of name+value (32 hex digits, the format mod_python
writes, so cookies set by a mod_python server keep verifying); MarshalCookie
signs a base64 marshal dump and unmarshals only after the signature checks.
"""

import base64
import binascii
import calendar
import hmac
import marshal
import re
import time


class CookieError(Exception):
    pass


_VALID_ATTRS = ("version", "path", "domain", "secure", "comment", "expires",
                "max_age", "commentURL", "discard", "port", "httponly")
_FLAGS = ("secure", "discard", "httponly")
# Header spelling of attribute names that differ from the Python name.
_WIRE_NAMES = {"max_age": "Max-Age", "commentURL": "CommentURL", "httponly": "HttpOnly"}
# Lower-cased wire (or $-less RFC 2965) name -> attribute, for parsing.
_PARSE_NAMES = dict((a.lower(), a) for a in _VALID_ATTRS)
_PARSE_NAMES["max-age"] = "max_age"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Netscape's 'Wdy, DD-Mon-YYYY HH:MM:SS GMT'; the RFC 1123 form with spaces is
# accepted too since browsers and other servers send it.
_EXPIRES_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2})([- ])(%s)\3(\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$"
    % "|".join(_MONTHS))


def _format_expires(t):
    g = time.gmtime(t)
    return "%s, %02d-%s-%04d %02d:%02d:%02d GMT" % (
        _DAYS[g.tm_wday], g.tm_mday, _MONTHS[g.tm_mon - 1], g.tm_year,
        g.tm_hour, g.tm_min, g.tm_sec)


def _check_expires(s):
    m = _EXPIRES_RE.match(s)
    if not m:
        raise ValueError("Invalid expires time: %s" % s)
    _, day, _, mon, year, hh, mm, ss = m.groups()
    month = _MONTHS.index(mon) + 1
    if not (1 <= int(day) <= calendar.monthrange(int(year), month)[1]
            and int(hh) < 24 and int(mm) < 60 and int(ss) < 61):
        raise ValueError("Invalid expires time: %s" % s)


class Cookie(object):
    """A single cookie: name, value and the attributes named in _valid_attr.

    Setting any other attribute raises AttributeError, as mod_python's
    __slots__-based class does. `expires` takes seconds since the epoch or a
    'Wdy, DD-Mon-YYYY HH:MM:SS GMT' string; `__data__` is a free dict for
    subclasses.
    """

    DOWNGRADE = 0
    IGNORE = 1
    EXCEPTION = 3

    _valid_attr = _VALID_ATTRS

    def __init__(self, name, value, **kw):
        self.__data__ = {}
        self.name = name
        self.value = value
        for k, v in kw.items():
            setattr(self, k.lower() if k.lower() != "commenturl" else "commentURL", v)

    def __setattr__(self, name, value):
        if name == "expires":
            object.__setattr__(self, name, value)     # the property checks it
            return
        if name not in ("name", "value", "__data__") and name not in self._valid_attr:
            raise AttributeError("'%s' is not a valid cookie attribute" % name)
        self.__dict__[name] = value

    @property
    def expires(self):
        try:
            return self.__dict__["_expires"]
        except KeyError:
            raise AttributeError("expires")

    @expires.setter
    def expires(self, value):
        if isinstance(value, str):
            _check_expires(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = _format_expires(value)
        else:
            raise ValueError("Invalid expires time: %r" % (value,))
        self.__dict__["_expires"] = value

    @expires.deleter
    def expires(self):
        self.__dict__.pop("_expires", None)

    @classmethod
    def parse(cls, str, **kw):
        """Parses a Cookie or Set-Cookie header value into a dict name -> cls."""
        return _parse_cookie(str, cls, **kw)

    def _attr_strings(self):
        out = []
        for a in self._valid_attr:
            if not hasattr(self, a):
                continue
            v = getattr(self, a)
            wire = _WIRE_NAMES.get(a, a)
            if a in _FLAGS:
                if v:
                    out.append(wire)
            elif a == "max_age" and isinstance(v, float):
                out.append("%s=%d" % (wire, v))
            else:
                out.append("%s=%s" % (wire, v))
        return out

    def _wire_value(self):
        return "%s" % (self.value,)

    def __str__(self):
        """The header value, without the header name."""
        return "; ".join(["%s=%s" % (self.name, self._wire_value())] + self._attr_strings())

    def __repr__(self):
        return "<%s: %s>" % (self.__class__.__name__, str(self))


class SignedCookie(Cookie):
    """A cookie whose value carries an HMAC of its name and value."""

    def __init__(self, name, value, secret=None, **kw):
        Cookie.__init__(self, name, value, **kw)
        self.__data__["secret"] = secret

    @classmethod
    def parse(cls, s, secret, mismatch=Cookie.DOWNGRADE, **kw):
        """Parses and verifies; a cookie that fails is downgraded to a plain
        Cookie (default), dropped (IGNORE) or raises CookieError (EXCEPTION)."""
        cookies = _parse_cookie(s, cls, **kw)
        for name in list(cookies):
            c = cookies[name]
            raw = c.value
            try:
                c._verify(secret)
            except CookieError:
                c.value = raw
                if mismatch == Cookie.EXCEPTION:
                    raise
                if mismatch == Cookie.IGNORE:
                    del cookies[name]
                else:
                    cookies[name] = _downgrade(c)
        return cookies

    def _verify(self, secret):
        self.unsign(secret)

    def hexdigest(self, str):
        secret = self.__data__.get("secret")
        if not secret:
            raise CookieError("Cannot sign without a secret")
        return _mac(secret, self.name, str)

    def _wire_value(self):
        v = "%s" % (self.value,)
        return self.hexdigest(v) + v

    def unsign(self, secret):
        """Checks and strips the signature; CookieError if it does not match."""
        raw = "%s" % (self.value,)
        sig, val = raw[:32], raw[32:]
        if not secret or not hmac.compare_digest(_mac(secret, self.name, val), sig):
            raise CookieError("Incorrectly Signed Cookie: %s=%s" % (self.name, raw))
        self.value = val
        self.__data__["secret"] = secret


class MarshalCookie(SignedCookie):
    """A signed cookie whose value is any marshallable object."""

    def _wire_value(self):
        m = base64.b64encode(marshal.dumps(self.value)).decode("ascii")
        return self.hexdigest(m) + m

    def _verify(self, secret):
        self.unmarshal(secret)

    def unmarshal(self, secret):
        self.unsign(secret)
        try:
            data = base64.b64decode(self.value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise CookieError("Cannot base64 Decode Cookie: %s=%s" % (self.name, self.value))
        try:
            self.value = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            raise CookieError("Cannot Unmarshal Cookie: %s=%s" % (self.name, self.value))


def _mac(secret, name, value):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    m = hmac.new(secret, ("%s" % (name,)).encode("utf-8"), "md5")
    m.update(value.encode("utf-8"))
    return m.hexdigest()


def _downgrade(c):
    """A plain Cookie with the same raw value and attributes as `c`."""
    plain = Cookie(c.name, c.value)
    for a in Cookie._valid_attr:
        if hasattr(c, a):
            setattr(plain, a, getattr(c, a))
    return plain


def _split(s):
    """Splits at ';' outside double quotes."""
    parts, cur, quoted, escaped = [], [], False, False
    for ch in s:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _parse_cookie(s, Class, names=None):
    """name=value pairs start cookies; known attribute names (case-insensitive,
    with or without RFC 2965's '$') attach to the cookie before them."""
    result = {}
    current = None          # the cookie attributes attach to (None: skip them)
    started = False         # a first pair is always a cookie, whatever its name
    for part in _split(s):
        key, eq, val = part.partition("=")
        key = key.strip().lstrip(", ")
        val = val.strip()
        if not key:
            continue
        lkey = key.lower()
        attr = _PARSE_NAMES.get(lkey[1:] if lkey[0] == "$" else lkey)
        if attr is not None and (started or key[0] == "$"):
            if current is not None:
                try:
                    setattr(current, attr, True if attr in _FLAGS and not eq else val)
                except (ValueError, AttributeError):
                    pass
            continue
        if key[0] == "$":
            continue
        started = True
        if names is not None and key not in names:
            current = None
            continue
        current = Class(key, val)
        result[key] = current
    return result


parse_cookie = _parse_cookie


def parse(str, Class=None, **kw):
    """Module-level shorthand for Class.parse(str, **kw) (Class defaults to Cookie)."""
    return (Class or Cookie).parse(str, **kw)


def get_cookies(req, Class=Cookie, **kw):
    """All cookies of the request's Cookie header(s), parsed by Class.parse."""
    if "cookie" not in req.headers_in:
        return {}
    cookies = req.headers_in["cookie"]
    if isinstance(cookies, list):
        cookies = "; ".join(cookies)
    return Class.parse(cookies, **kw)


def get_cookie(req, name, Class=Cookie, **kw):
    """The named cookie of the request, or None."""
    return get_cookies(req, Class, names=[name], **kw).get(name)


def add_cookie(req, cookie, value="", **kw):
    """Adds a Set-Cookie header; `cookie` is a Cookie, or a name to build one from."""
    if not isinstance(cookie, Cookie):
        cookie = Cookie(cookie, value, **kw)
    if "Set-Cookie" not in req.headers_out:
        req.headers_out.add("Cache-Control", 'no-cache="set-cookie"')
    req.headers_out.add("Set-Cookie", str(cookie))

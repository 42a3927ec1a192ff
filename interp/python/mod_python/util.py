"""mod_python.util: form data (FieldStorage), query strings, redirects.

Behaviour follows mod_python 3.5's documentation. The request body is read only
through req.read(n), in blocks of at most READ_BLOCK bytes, so a body of any size
passes through bounded memory: a multipart delimiter split across two reads is
still found, and file uploads stay in memory only up to SPOOL_THRESHOLD bytes
before they are spooled to a temporary file.
"""

import html
import inspect
import io
import tempfile
import urllib.parse

import subhttpd_runtime as apache  # the core (SERVER_RETURN, table, codes): no import cycle through mod_python.apache

READ_BLOCK = 64 * 1024          # largest single req.read()
readBlockSize = READ_BLOCK       # mod_python's name
PY2 = False
SPOOL_THRESHOLD = 64 * 1024     # uploads larger than this go to a temporary file
MAX_PART_HEADER_BYTES = 64 * 1024
_MAX_PADDING = 1024             # transport padding allowed after a delimiter


# ---------------------------------------------------------------- query strings

def parse_qsl(qs, keep_blank_values=0, strict_parsing=0):
    """Parses a query string (str or bytes) into a list of (name, value) str pairs.

    '+' means space and %XX escapes are decoded as UTF-8 (invalid sequences
    become U+FFFD). Only '&' separates pairs, as browsers send them.
    """
    if not qs:
        return []
    if isinstance(qs, (bytes, bytearray)):
        # latin-1 maps bytes 1:1, so raw bytes and %XX escapes are both decoded
        # as UTF-8 by the second step.
        pairs = urllib.parse.parse_qsl(bytes(qs).decode("latin-1"),
                                       keep_blank_values=bool(keep_blank_values),
                                       strict_parsing=bool(strict_parsing), encoding="latin-1")
        return [(k.encode("latin-1").decode("utf-8", "replace"),
                 v.encode("latin-1").decode("utf-8", "replace")) for k, v in pairs]
    return urllib.parse.parse_qsl(qs, keep_blank_values=bool(keep_blank_values),
                                  strict_parsing=bool(strict_parsing))


def parse_qs(qs, keep_blank_values=0, strict_parsing=0):
    """Like parse_qsl, but returns a dict mapping each name to its list of values."""
    result = {}
    for k, v in parse_qsl(qs, keep_blank_values, strict_parsing):
        result.setdefault(k, []).append(v)
    return result


# ---------------------------------------------------------------- header values

def _split_params(s):
    """Splits 'a; b="x;y"; c' at semicolons that are not inside quotes."""
    parts, cur, quoted, escaped = [], [], False, False
    for ch in s:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            cur.append(ch)
            escaped = True
        elif ch == '"':
            cur.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_header(line):
    """Parses 'main/type; k=v; k2="v 2"' into ('main/type', {'k': 'v', 'k2': 'v 2'}).

    The main value and the option names are lower-cased. Inside quotes only \\\\
    and \\" are unescaped, so Windows paths sent by old browsers survive.
    An RFC 2231 'name*' option also fills 'name' when that is absent.
    """
    parts = _split_params(line)
    main = parts[0].strip().lower()
    options = {}
    extended = {}
    for p in parts[1:]:
        if "=" not in p:
            continue
        k, v = p.split("=", 1)
        k = k.strip().lower()
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = v[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if k.endswith("*"):
            extended[k[:-1]] = v
        options[k] = v
    for k, v in extended.items():
        if k in options:
            continue
        charset, _, rest = v.partition("'")
        _, _, encoded = rest.partition("'")
        try:
            options[k] = urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="replace")
        except LookupError:
            options[k] = urllib.parse.unquote(encoded, errors="replace")
    return main, options


def _header_text(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode(data, charset):
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


# ---------------------------------------------------------------- fields

class Field(object):
    """One form input that is a file upload (or a field built by old code).

    `file` is a binary file object positioned at 0; `value` reads it whole.
    """

    filename = None
    type = None
    type_options = {}
    disposition = None
    disposition_options = {}
    headers = {}
    file = None

    def __init__(self, name, *args, **kwargs):
        self.name = name
        # Older third-party code builds Fields itself with these arguments.
        if args or kwargs:
            self._legacy_init(*args, **kwargs)

    def _legacy_init(self, file, ctype, type_options, disp, disp_options, headers={}):
        self.file = file
        self.type = ctype
        self.type_options = type_options
        self.disposition = disp
        self.disposition_options = disp_options
        self.filename = disp_options.get("filename")
        self.headers = headers

    @property
    def value(self):
        if "_value" in self.__dict__:
            return self.__dict__["_value"]
        if self.file is None:
            return None
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data

    @value.setter
    def value(self, v):
        self.__dict__["_value"] = v

    def __repr__(self):
        return "Field(%r, %r)" % (self.name, self.value)


class StringField(str):
    """A form value: a str with the attributes of a Field (for cgi compatibility)."""

    name = None
    filename = None
    type = "text/plain"
    type_options = {}
    disposition = None
    disposition_options = {}
    headers = {}

    def __new__(cls, value, name=None):
        if isinstance(value, (bytes, bytearray)):
            value = _decode(bytes(value), "utf-8")
        obj = str.__new__(cls, value)
        if name is not None:
            obj.name = name
        return obj

    @property
    def value(self):
        return str.__str__(self)

    def __repr__(self):
        # mod_python 3.5's: a form value shows as a Field
        return "Field(%r, %r)" % (self.name, str.__str__(self))

    @property
    def file(self):
        f = self.__dict__.get("_file")
        if f is None:
            f = self.__dict__["_file"] = io.BytesIO(self.encode("utf-8"))
        return f

    @file.setter
    def file(self, f):
        self.__dict__["_file"] = f


# ---------------------------------------------------------------- body reading

class _Body(object):
    """A buffer over req.read(n), limited to `remaining` bytes (None: until EOF)."""

    def __init__(self, req, remaining):
        self.req = req
        self.remaining = remaining
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        """Appends one more block to buf; False at the end of the body."""
        if self.eof:
            return False
        n = READ_BLOCK if self.remaining is None else min(READ_BLOCK, self.remaining)
        data = self.req.read(n) if n > 0 else b""
        if not data:
            self.eof = True
            return False
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.buf += data
        if self.remaining is not None:
            self.remaining -= len(data)
        return True

    def read_all(self):
        while self.fill():
            pass
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def readline(self, limit):
        """One line including its b'\\n' (b'' at the end); 400 past `limit` bytes."""
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
            start = len(self.buf)
            if not self.fill():
                line = bytes(self.buf)
                self.buf.clear()
                return line

    def drain(self):
        self.buf.clear()
        while self.fill():
            self.buf.clear()


class _Multipart(object):
    """Splits a multipart body into parts, streaming each part's content."""

    NEXT, LAST, NOT_DELIM, NEED_MORE = range(4)

    def __init__(self, body, boundary):
        self.body = body
        self.delim = b"--" + boundary
        self.pattern = b"\n" + self.delim

    def _kind(self, end):
        """Classifies what follows a delimiter ending at `end`: (kind, consumed_to)."""
        buf = self.body.buf
        if len(buf) < end + 2 and not self.body.eof:
            return self.NEED_MORE, 0
        if buf[end:end + 2] == b"--":
            return self.LAST, end + 2
        k = end
        while k < len(buf) and buf[k] in b" \t" and k - end < _MAX_PADDING:
            k += 1
        if k >= len(buf):
            if self.body.eof:
                return self.LAST, k      # truncated body: end it here
            return self.NEED_MORE, 0
        if buf[k:k + 2] == b"\r\n":
            return self.NEXT, k + 2
        if buf[k] == 0x0A:
            return self.NEXT, k + 1
        if buf[k] == 0x0D and k + 1 == len(buf) and not self.body.eof:
            return self.NEED_MORE, 0
        return self.NOT_DELIM, 0

    def skip_preamble(self):
        """Consumes everything up to the first delimiter; True if a part follows."""
        return self.read_content(None) == self.NEXT

    def read_content(self, out):
        """Copies content into `out` (or drops it) up to the next delimiter.

        Returns NEXT (another part follows) or LAST (close delimiter or end of
        body). The line break just before the delimiter belongs to it and is
        not copied; every other CR and LF is.
        """
        body, buf = self.body, self.body.buf
        pattern, keep = self.pattern, len(self.pattern) + 1
        # The content may open with the delimiter itself (an empty first line).
        while len(buf) < len(self.delim) and body.fill():
            pass
        if buf.startswith(self.delim):
            kind, stop = self._kind(len(self.delim))
            while kind == self.NEED_MORE:
                body.fill()
                kind, stop = self._kind(len(self.delim))
            if kind != self.NOT_DELIM:
                del buf[:stop]
                return kind
        pos = 0
        while True:
            i = buf.find(pattern, pos)
            if i >= 0:
                kind, stop = self._kind(i + len(pattern))
                if kind == self.NEED_MORE:
                    if body.fill():
                        continue
                    kind, stop = self._kind(i + len(pattern))
                if kind == self.NOT_DELIM:
                    pos = i + 1
                    continue
                cut = i - 1 if i > 0 and buf[i - 1] == 0x0D else i
                if out is not None:
                    out.write(bytes(buf[:cut]))
                del buf[:stop]
                return kind
            safe = len(buf) - keep
            if safe > 0:
                if out is not None:
                    out.write(bytes(buf[:safe]))
                del buf[:safe]
            pos = 0
            if not body.fill():
                if out is not None:
                    out.write(bytes(buf))
                buf.clear()
                return self.LAST

    def read_headers(self):
        """Reads one part's header block into an apache.table."""
        headers = apache.table()
        lines = []
        total = 0
        while True:
            line = self.body.readline(MAX_PART_HEADER_BYTES)
            total += len(line)
            if total > MAX_PART_HEADER_BYTES:
                raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
            if not line or line in (b"\r\n", b"\n"):
                break
            text = _header_text(line).rstrip("\r\n")
            if text[:1] in (" ", "\t") and lines:
                lines[-1] = lines[-1] + " " + text.strip()
            else:
                lines.append(text)
        for text in lines:
            if ":" not in text:
                continue
            k, v = text.split(":", 1)
            headers.add(k.strip(), v.strip())
        return headers


# ---------------------------------------------------------------- FieldStorage

class FieldList(list):
    """FieldStorage.list: every field in arrival order."""


class FieldStorage(apache._multi_map):  # [] / get / getfirst over _values
    """All form data of a request: query string arguments, then the POST body.

    Acts like a dict of name -> StringField (plain values), Field (uploads) or a
    list of them when a name repeats. `list` holds every field in arrival order.
    """

    def __init__(self, req, keep_blank_values=0, strict_parsing=0,
                 file_callback=None, field_callback=None):
        self.list = FieldList()
        args = getattr(req, "args", None)
        if args:
            for k, v in parse_qsl(args, keep_blank_values, strict_parsing):
                self.add_field(k, v)

        if req.method != "POST":
            return

        headers = req.headers_in
        clen = _first(headers.get("content-length"))
        if clen is not None:
            try:
                clen = int(clen.strip())
            except ValueError:
                raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
            if clen < 0:
                raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
        ctype = _first(headers.get("content-type")) or "application/x-www-form-urlencoded"
        main, options = parse_header(ctype)
        body = _Body(req, clen)

        if main == "application/x-www-form-urlencoded":
            for k, v in parse_qsl(body.read_all(), keep_blank_values, strict_parsing):
                self.add_field(k, v)
            return
        if not main.startswith("multipart/"):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_IMPLEMENTED)

        boundary = options.get("boundary", "")
        if not boundary or len(boundary) > 200:
            raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
        try:
            boundary = boundary.encode("ascii")
        except UnicodeEncodeError:
            raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
        self._read_multipart(_Multipart(body, boundary), file_callback, field_callback)
        body.drain()

    def _read_multipart(self, mp, file_callback, field_callback):
        if not mp.skip_preamble():
            return
        while True:
            headers = mp.read_headers()
            disp, disp_options = None, {}
            ctype, type_options = "text/plain", {}
            if "content-disposition" in headers:
                disp, disp_options = parse_header(_first(headers["content-disposition"]))
            if "content-type" in headers:
                ctype, type_options = parse_header(_first(headers["content-type"]))
                if "/" not in ctype:    # old browsers send junk for suffix-less files
                    ctype = "application/octet-stream"
            name = disp_options.get("name")
            is_file = "filename" in disp_options

            if is_file:
                if callable(file_callback):
                    f = file_callback(disp_options["filename"])
                else:
                    f = tempfile.SpooledTemporaryFile(max_size=SPOOL_THRESHOLD, mode="w+b")
            else:
                f = field_callback() if callable(field_callback) else io.BytesIO()

            kind = mp.read_content(f)
            f.seek(0)

            if is_file:
                field = Field(name)
                field.filename = disp_options["filename"]
            else:
                field = StringField(_decode(f.read(), type_options.get("charset")))
                f.seek(0)
                field.name = name
            field.file = f
            field.type = ctype
            field.type_options = type_options
            field.disposition = disp
            field.disposition_options = disp_options
            field.headers = headers
            self.list.append(field)
            if kind != _Multipart.NEXT:
                return

    # -- mapping interface

    def _values(self, key):
        return [f for f in self.list if f.name == key]

    def add_field(self, key, value):
        """Adds one more value for `key` (kept alongside existing ones)."""
        item = value if isinstance(value, (Field, StringField)) else StringField(value)
        if isinstance(value, StringField) and value.name != key:
            item = StringField(value)
        item.name = key
        self.list.append(item)

    def clear(self):
        self.list = FieldList()

    def __setitem__(self, key, value):
        self.list = FieldList(f for f in self.list if f.name != key)
        self.add_field(key, value)

    def __delitem__(self, key):
        kept = FieldList(f for f in self.list if f.name != key)
        if len(kept) == len(self.list):
            raise KeyError(key)
        self.list = kept

    def getlist(self, key):
        return self._values(key)

    def has_key(self, key):
        return any(f.name == key for f in self.list)

    __contains__ = has_key

    def keys(self):
        seen = {}
        for f in self.list:
            seen.setdefault(f.name, None)
        return list(seen)

    def values(self):
        return [self[k] for k in self.keys()]

    def items(self):
        return [(f.name, f) for f in self.list]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __repr__(self):
        return "FieldStorage(%r)" % (self.list,)


def _first(v):
    """A table value may be a list when the header repeats: take the first."""
    if isinstance(v, list):
        return v[0] if v else None
    return v


# ---------------------------------------------------------------- helpers

def apply_fs_data(object, fs, **args):
    """Calls `object` with the form fields it accepts, plus `args` (e.g. req=req).

    Fields whose names the callable does not declare are dropped unless it
    takes **kwargs; repeated names give a list; uploads are passed as Fields.
    """
    try:
        sig = inspect.signature(object)
    except (TypeError, ValueError):
        return object()

    accepts_any = False
    expected = set()
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            accepts_any = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            expected.add(p.name)

    form = {}
    for field in fs.list:
        if field.name is None or field.name in args:
            continue
        value = field if field.filename else field.value
        form.setdefault(field.name, []).append(value)

    kwargs = {}
    for k, v in list(args.items()) + [(k, v[0] if len(v) == 1 else v) for k, v in form.items()]:
        if accepts_any or k in expected:
            kwargs[k] = v
    return object(**kwargs)


def redirect(req, location, permanent=0, text=None):
    """Sends a 301/302 to `location` and ends the request (SERVER_RETURN(DONE)).

    Raises IOError if the response headers have already gone out.
    """
    if getattr(req, "sent_bodyct", 0) or getattr(req, "headers_sent", False):
        raise IOError("Cannot redirect after headers have already been sent.")
    req.err_headers_out["Location"] = location
    req.status = apache.HTTP_MOVED_PERMANENTLY if permanent else apache.HTTP_MOVED_TEMPORARILY
    if text is None:
        req.content_type = "text/html"
        text = ('<p>The document has moved <a href="%s">here</a></p>\n'
                % html.escape(location, quote=True))
    req.write(text)
    raise apache.SERVER_RETURN(apache.DONE)

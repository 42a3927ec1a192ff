"""mod_python.cache: thread-safe caches whose values are built on demand and
rebuilt when their source changes, as in mod_python 3.5.

`Cache` is the base: `cache[name]` returns the value for `name`, calling
`check()` to learn whether it is stale and `build()` to (re)make it, with one
lock per entry so two threads never build the same entry at once. With
`max_size` the least recently used entry is dropped beyond that many.
Subclasses: `WeakCache` (values held by weak reference), `FileCache` (a file's
contents, re-read when its mtime changes), `ModuleCache` (a Python file run as
a module, re-run when it changes; not put in sys.modules), `HTTPCache` (an URL's
entity, honouring Cache-Control max-age, Expires, ETag and Last-Modified),
`HttpModuleCache` (a module fetched over HTTP) and `FunctionCache` (memoises a
function by its arguments)."""

import re
import time
import types
import urllib.error
import urllib.request
import weakref
from calendar import timegm  # noqa: F401  (3.5 exports it)
from email.utils import parsedate
from os import stat
from threading import Lock

NOT_INITIALIZED = object()


class Entry(object):
    """One cache slot: its key, its value (or NOT_INITIALIZED), its lock and
    the access-list links when the cache is bounded."""

    def __init__(self, key):
        self._key = key
        self._value = NOT_INITIALIZED
        self._lock = Lock()


class Cache(object):
    def __init__(self, max_size=0):
        self._maxsize = max_size
        self._dict = {}
        self._lock = Lock()
        if self._maxsize:
            # a circular list, least recently used first, most recently used last
            self._head = Entry(None)
            self._head._previous = self._head
            self._head._next = self._head

    def __setitem__(self, name, value):
        entry = self._get_entry(self.key(name))
        with entry._lock:
            self._pack(entry, value)
            self.commit()

    def __getitem__(self, name):
        return self._checkitem(name)[2]

    def __delitem__(self, name):
        with self._lock:
            del self._dict[self.key(name)]

    def _get_entry(self, key):
        with self._lock:
            entry = self._dict.get(key)
            if entry is None:
                entry = self._dict[key] = Entry(key)
                if self._maxsize:
                    entry._next = entry._previous = None
                    self._access(entry)
                    self._checklru()
            elif self._maxsize:
                self._access(entry)
            return entry

    def _checkitem(self, name):
        """(is_new, key, value, entry): is_new when the value was (re)built."""
        key = self.key(name)
        entry = self._get_entry(key)
        with entry._lock:
            value = self._unpack(entry)
            opened = self.check(key, name, entry)
            if value is NOT_INITIALIZED or opened is not None:
                value = self.build(key, name, opened, entry)
                self._pack(entry, value)
                self.commit()
                return True, key, value, entry
            return False, key, value, entry

    def mru(self):
        """The most recently used key (None when the cache is unbounded)."""
        if not self._maxsize:
            return None
        with self._lock:
            return self._head._previous._key

    def lru(self):
        """The least recently used key (None when the cache is unbounded)."""
        if not self._maxsize:
            return None
        with self._lock:
            return self._head._next._key

    def key(self, name):
        """The dictionary key for `name` (override to normalise names)."""
        return name

    def commit(self):
        """Called after every change (override to persist the cache)."""

    def clear(self):
        with self._lock:
            self._dict.clear()
            if self._maxsize:
                self._head._next = self._head
                self._head._previous = self._head

    def check(self, key, name, entry):
        """None when the entry is fresh, else an opened resource for build()."""
        return None

    def build(self, key, name, opened, entry):
        raise NotImplementedError()

    def _access(self, entry):
        # called with the cache lock held: move entry to the most-recent end
        if entry._next is self._head:
            return
        if entry._previous is not None:
            entry._previous._next = entry._next
            entry._next._previous = entry._previous
        entry._previous = self._head._previous
        entry._previous._next = entry
        entry._next = self._head
        entry._next._previous = entry
        if self._head._next is self._head:
            self._head._next = entry

    def _checklru(self):
        # called with the cache lock held: drop the least recently used entry
        if len(self._dict) > self._maxsize:
            lru = self._head._next
            lru._previous._next = lru._next
            lru._next._previous = lru._previous
            del self._dict[lru._key]

    def _pack(self, entry, value):
        entry._value = value

    def _unpack(self, entry):
        return entry._value


class WeakCache(Cache):
    """Values are held by weak reference: an entry goes once nobody else
    holds its value."""

    def _pack(self, entry, value):
        def gone(ref, key=entry._key):
            try:
                self.__delitem__(key)
            except KeyError:
                pass
        entry._value = weakref.ref(value, gone)

    def _unpack(self, entry):
        if entry._value is NOT_INITIALIZED:
            return NOT_INITIALIZED
        value = entry._value()
        return NOT_INITIALIZED if value is None else value


class FileCache(Cache):
    """The contents of a file by name, re-read when its mtime changes."""

    def __init__(self, max_size=0, mode="rb"):
        Cache.__init__(self, max_size)
        self.mode = mode

    def check(self, key, name, entry):
        timestamp = stat(key).st_mtime
        if entry._value is NOT_INITIALIZED or entry._timestamp != timestamp:
            entry._timestamp = timestamp
            return open(key, self.mode)
        return None

    def build(self, key, name, opened, entry):
        with opened:
            return opened.read()


def parseRFC822Time(t):
    return time.mktime(parsedate(t))


re_max_age = re.compile(r"max-age\s*=\s*(\d+)", re.I)


class HTTPEntity(object):
    def __init__(self, entity, metadata):
        self.entity = entity
        self.metadata = metadata

    def __repr__(self):
        return "HTTPEntity(%s, %s)" % (repr(self.entity), self.metadata)

    def __str__(self):
        e = self.entity
        return e.decode("utf-8", "replace") if isinstance(e, bytes) else e


class HTTPCache(Cache):
    """The entity at an URL; fetched again only when it expired (max-age or
    Expires) and revalidated with If-None-Match / If-Modified-Since."""

    def check(self, key, name, entry):
        if time.time() < getattr(entry, "_expires", 0):
            return None
        request = urllib.request.Request(key)
        validator = getattr(entry, "_validator", None)
        if validator:
            request.add_header(*validator)
        opened = None
        try:
            opened = urllib.request.urlopen(request)
            headers = opened.info()
            expires = None
            m = re_max_age.search(headers.get("cache-control") or "")
            if m:
                expires = time.time() + int(m.group(1))
            elif headers.get("date") and headers.get("expires"):
                try:
                    expires = time.time() + (parseRFC822Time(headers["expires"]) - parseRFC822Time(headers["date"]))
                except (TypeError, ValueError, OverflowError):
                    expires = None
            if expires is not None:
                entry._expires = expires
            if headers.get("etag"):
                entry._validator = ("If-None-Match", headers["etag"])
            elif headers.get("last-modified"):
                entry._validator = ("If-Modified-Since", headers["last-modified"])
            return opened
        except urllib.error.HTTPError as error:
            if opened is not None:
                opened.close()
            if error.code == 304:
                return None
            raise

    def build(self, key, name, opened, entry):
        with opened:
            return HTTPEntity(opened.read(), dict(opened.info()))


re_not_word = re.compile(r"\W+")


def _module_from_source(key, filename, source):
    module = types.ModuleType(re_not_word.sub("_", key))
    module.__file__ = key
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


class ModuleCache(FileCache):
    """A Python file run as a module (not put in sys.modules), run again when
    the file changes."""

    def __init__(self, max_size=0):
        FileCache.__init__(self, max_size, "rb")

    def build(self, key, name, opened, entry):
        with opened:
            return _module_from_source(key, key, opened.read())


class HttpModuleCache(HTTPCache):
    """A Python module fetched from an URL."""

    def __init__(self, max_size=0):
        HTTPCache.__init__(self, max_size)

    def build(self, key, name, opened, entry):
        with opened:
            text = opened.read().replace(b"\r\n", b"\n")
            return _module_from_source(key, name, text)


class FunctionCache(Cache):
    """Memoises `function`: `fc(*args, **kw)` computes once per argument set."""

    def __init__(self, function, max_size=0):
        Cache.__init__(self, max_size)
        self.function = function

    def __call__(self, *args, **kw):
        return self[args, tuple(kw.items())]

    def build(self, key, name, opened, entry):
        args, kw = key
        return self.function(*args, **dict(kw))

"""mod_python 3.5's filter object. The server calls _run_filter once per piece
of the body a handler writes (and once more at the end of the stream); the
filter reads the piece, writes what goes on, and may pass_on(), close() or
disable() itself. What it writes is handed on when it returns."""


class filter(object):

    def __init__(self, req, name, is_input, data, eos, handler, directory):
        self.req = req
        self.name = name
        self.is_input = 1 if is_input else 0
        self.handler = handler
        self.dir = directory
        self.closed = 0
        self.softspace = 0
        self._data = data
        self._pos = 0
        self._eos = eos
        self._out = []
        self._disabled = False

    def _check(self):
        if self.closed:
            raise ValueError("I/O operation on closed filter")

    def read(self, length=-1):
        """Up to `length` bytes of this piece (all of it by default); b"" when the
        piece is used up, None once the stream has ended."""
        self._check()
        left = len(self._data) - self._pos
        if left <= 0:
            return None if self._eos else b""
        n = left if length is None or length < 0 else min(length, left)
        chunk = self._data[self._pos:self._pos + n]
        self._pos += n
        return chunk

    def readline(self, length=-1):
        self._check()
        left = len(self._data) - self._pos
        if left <= 0:
            return None if self._eos else b""
        end = self._data.find(b"\n", self._pos)
        end = len(self._data) if end < 0 else end + 1
        if length is not None and length >= 0:
            end = min(end, self._pos + length)
        chunk = self._data[self._pos:end]
        self._pos = end
        return chunk

    def write(self, data):
        self._check()
        if isinstance(data, str):
            data = data.encode("latin-1")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("Argument to write() must be a string or bytes")
        if data:
            self._out.append(bytes(data))

    def flush(self):
        self._check()  # what was written goes on when the filter returns

    def close(self):
        """Ends this filter's stream: nothing it is given later goes on."""
        self.closed = 1

    def pass_on(self):
        """Hands the rest of this piece on unchanged."""
        if self._pos < len(self._data):
            self._out.append(self._data[self._pos:])
            self._pos = len(self._data)

    def disable(self):
        """From now on the data passes this filter untouched."""
        self._disabled = True

    def __repr__(self):
        return "<mp_filter %r%s>" % (self.name, " input" if self.is_input else "")


def _run_filter(fn, req, name, is_input, data, eos, handler, directory):
    """Called by the server: (bytes written, closed, disabled)."""
    f = filter(req, name, is_input, data, eos, handler, directory)
    fn(f)
    return b"".join(f._out), bool(f.closed), f._disabled

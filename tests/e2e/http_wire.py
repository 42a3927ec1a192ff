"""A raw-socket HTTP/1.1 client for the conformance tests: sends exact bytes and
parses the answers itself (Content-Length, chunked, close-delimited, bodiless
statuses), so a server that frames an answer wrongly shows up as a parse error
of the next answer rather than being smoothed over by a library."""

import socket
import struct


class Answer(object):
    def __init__(self, version, status, reason, headers, body, raw_head, complete=True):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in order, names as sent
        self.body = body
        self.raw_head = raw_head  # bytes of the status line and fields
        self.complete = complete  # False: the body was cut short (aborted stream)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "<Answer %s %d %r %r>" % (self.version, self.status, self.headers, self.body[:200])


def _head(buf):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise AssertionError("not an HTTP status line: %r" % buf[:200])
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise AssertionError("not a header field line: %r" % line)
        headers.append((name, value.strip(" \t")))
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers, buf[:end], end + 4


def parse_answer(buf, method="GET", eof=False):
    """One answer at the start of `buf`: (Answer, bytes used), or None when more
    bytes are needed. With eof=True a close-delimited or cut body ends here."""
    h = _head(buf)
    if h is None:
        return None
    version, status, reason, headers, raw, start = h
    answer = Answer(version, status, reason, headers, b"", raw)
    if method == "HEAD" or status < 200 or status in (204, 304):
        return answer, start
    te = answer.header("Transfer-Encoding")
    if te is not None:
        assert te.lower() == "chunked", te
        body = []
        pos = start
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                break
            size = int(buf[pos:nl].split(b";")[0], 16)
            if size == 0:
                end = buf.find(b"\r\n\r\n", nl)  # trailers, then the empty line
                if buf[nl:nl + 4] == b"\r\n\r\n":
                    end = nl
                if end < 0:
                    break
                answer.body = b"".join(body)
                return answer, end + 4
            if len(buf) < nl + 2 + size + 2:
                break
            body.append(buf[nl + 2:nl + 2 + size])
            assert buf[nl + 2 + size:nl + 4 + size] == b"\r\n", buf[nl:nl + 4 + size + 10]
            pos = nl + 4 + size
        if eof:
            answer.body = b"".join(body)
            answer.complete = False
            return answer, len(buf)
        return None
    length = answer.header("Content-Length")
    if length is not None:
        n = int(length)
        if len(buf) - start >= n:
            answer.body = buf[start:start + n]
            return answer, start + n
        if eof:
            answer.body = buf[start:]
            answer.complete = False
            return answer, len(buf)
        return None
    if eof:
        answer.body = buf[start:]
        return answer, len(buf)
    return None


class Client(object):
    """One connection. Every read is bounded by `timeout`: a server that neither
    answers nor closes fails the test with socket.timeout."""

    def __init__(self, port, timeout=15.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def _more(self, n=262144):
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(n)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def answer(self, method="GET"):
        """The next whole answer; AssertionError when the connection ends first."""
        while True:
            got = parse_answer(self.buf, method, eof=self.eof)
            if got is not None:
                answer, used = got
                self.buf = self.buf[used:]
                return answer
            if not self._more():
                if not self.buf:
                    raise AssertionError("the connection closed before an answer")
                got = parse_answer(self.buf, method, eof=True)
                if got is None:
                    raise AssertionError("the connection closed inside an answer: %r" % self.buf[:300])

    def read_until(self, marker):
        """Reads until `marker` is in what was received (not consumed)."""
        while marker not in self.buf:
            if not self._more():
                raise AssertionError("closed before %r arrived: %r" % (marker, self.buf[:300]))

    def closed(self):
        """Reads to the end: True when the server closed without sending more."""
        while self._more():
            pass
        return self.buf == b""

    def pending(self):
        """Whether any byte is waiting to be read right now (no waiting)."""
        if self.buf:
            return True
        timeout = self.sock.gettimeout()
        self.sock.settimeout(0)  # non-blocking: a timeout would make Python wait instead
        try:
            return self.sock.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return False
        finally:
            self.sock.settimeout(timeout)

    def close(self, reset=False):
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def get(path, host="h.test", version="1.1", extra=b"", method="GET"):
    head = "%s %s HTTP/%s\r\n" % (method, path, version)
    if host is not None:
        head += "Host: %s\r\n" % host
    return head.encode() + extra + b"\r\n"

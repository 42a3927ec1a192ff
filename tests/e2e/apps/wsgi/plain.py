# A WSGI app that misbehaves on purpose and counts close() calls (test_wsgi.py):
# one page per PATH_INFO.
import io
import os
import sys

closes = 0


class Counted(list):
    def close(self):
        global closes
        closes += 1


class CountedFile(io.FileIO):
    def close(self):
        global closes
        if not self.closed:
            closes += 1
        super().close()


def gen_fail():
    yield b"x"
    raise ValueError("generator failed")


def application(environ, start_response):
    path = environ["PATH_INFO"]
    text = [("Content-Type", "text/plain")]
    if path == "/closes":
        start_response("200 OK", text)
        return [str(closes).encode()]
    if path == "/fail-iter":
        start_response("200 OK", text)
        return Counted([b"a", 42])
    if path == "/fail-gen":
        start_response("200 OK", text)
        g = gen_fail()
        return g
    if path == "/bad-header":
        start_response("200 OK", [("X-Bad", "a\r\nInjected: yes")])
        return [b"no"]
    if path == "/hop":
        start_response("200 OK", [("Connection", "close")])
        return [b"no"]
    if path == "/bad-status":
        start_response("OK", text)
        return [b"no"]
    if path == "/no-start":
        return Counted([])
    if path == "/late-excinfo":
        write = start_response("200 OK", text)
        write(b"already out")
        try:
            raise KeyError("late")
        except KeyError:
            start_response("500 Oops", text, sys.exc_info())
        return [b"never"]
    if path == "/short":
        start_response("200 OK", text + [("Content-Length", "5")])
        return [b"0123456789"]
    if path == "/file":
        f = CountedFile(os.path.join(os.path.dirname(__file__), "data.txt"), "r")
        start_response("200 OK", text)
        return environ["wsgi.file_wrapper"](f, 4096)
    if path == "/file-offset":
        f = CountedFile(os.path.join(os.path.dirname(__file__), "data.txt"), "r")
        f.seek(6)
        start_response("200 OK", text)
        return environ["wsgi.file_wrapper"](f)
    if path == "/file-bytesio":
        start_response("200 OK", text)
        return environ["wsgi.file_wrapper"](io.BytesIO(b"from memory" * 3), 5)
    if path == "/errors":
        environ["wsgi.errors"].write("a line for the error log from wsgi.errors\n")
        environ["wsgi.errors"].flush()
        start_response("200 OK", text)
        return [b"logged"]
    if path == "/sysexit":
        sys.exit(3)
    start_response("200 OK", text)
    return [b"ok"]

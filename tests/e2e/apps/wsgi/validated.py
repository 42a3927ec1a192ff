# A WSGI app wrapped in wsgiref.validate, warnings turned into errors (test_wsgi.py):
# one page per PATH_INFO.
import json
import sys
import warnings
from wsgiref.validate import validator, WSGIWarning

warnings.simplefilter("error", WSGIWarning)

closes = 0


class Body(object):
    def __init__(self, parts):
        self._parts = iter(parts)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._parts)

    def close(self):
        global closes
        closes += 1


class Boom(Exception):
    pass


def stream(n):
    for i in range(n):
        yield ("part %d\n" % i).encode()


def failing_stream():
    yield b"first\n"
    raise Boom("exploded while iterating")


def raw(environ, start_response):
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    text = [("Content-Type", "text/plain; charset=utf-8")]
    if path == "/env":
        keep = {k: v for k, v in environ.items() if isinstance(v, (str, bool, tuple))}
        body = json.dumps(keep).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Body([body])
    if path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(n)
        start_response("200 OK", text)
        return Body([method.encode(), b" ", data])
    if path == "/lines":
        inp = environ["wsgi.input"]
        first = inp.readline()
        second = inp.readline(3)
        rest = [line for line in inp]
        body = json.dumps([first.decode(), second.decode(), [r.decode() for r in rest]]).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return Body([body])
    if path == "/readlines":
        lines = environ["wsgi.input"].readlines()
        start_response("200 OK", [("Content-Type", "application/json")])
        return Body([json.dumps([l.decode() for l in lines]).encode()])
    if path == "/stream":
        start_response("200 OK", text)
        return stream(5)
    if path == "/excinfo":
        start_response("200 OK", text)
        try:
            raise Boom("handled")
        except Boom:
            start_response("503 Service Unavailable", text, sys.exc_info())
        return Body([b"recovered with exc_info\n"])
    if path == "/boom":
        raise Boom("before start_response")
    if path == "/boom-late":
        start_response("200 OK", text)
        return failing_stream()
    if path == "/closes":
        start_response("200 OK", text)
        return Body([str(closes).encode()])
    if path == "/write":
        write = start_response("200 OK", text)
        write(b"written ")
        return Body([b"and returned"])
    if path == "/empty":
        start_response("204 No Content", [])
        return Body([])
    start_response("404 Not Found", text)
    return Body([b"no such page: " + path.encode("latin-1")])


application = validator(raw)

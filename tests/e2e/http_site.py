"""The sites the HTTP conformance tests run against (test_http.py,
test_http_connections.py), and helpers over http_wire: a mod_python handler
that echoes what it received and records every call in w/called, another
vhost, an async streaming handler, and an inline WSGI app with generators."""

import json
import os

from conftest import serve_tree
from http_wire import Client, get

ECHO = """
    import json, os, time
    from mod_python import apache

    here = os.path.dirname(__file__)

    def handler(req):
        with open(os.path.join(here, "called"), "a") as f:
            f.write("%s %s\\n" % (req.method, req.unparsed_uri))
        a = req.args or ""
        if a == "fixed":
            req.content_type = "text/plain"
            req.write("fixed answer\\n", 0)
            return apache.OK
        if a == "304":
            req.status = 304
            req.write("a 304 has no body", 0)
            return apache.OK
        if a == "stream":  # a first block of 64 KiB is sent at once, not held
            req.content_type = "text/plain"
            for part in ("one;" + "." * 65536, "two;", "three"):
                req.write(part, 1)
            return apache.OK
        if a == "quick":  # flushed, but the handler returns at once
            req.content_type = "text/plain"
            for part in ("one;", "two;", "three"):
                req.write(part, 1)
            req.headers_out["X-Too-Late"] = "set after the flush"
            return apache.OK
        if a == "big":
            req.write(b"y" * (8 * 1024 * 1024), 0)
            return apache.OK
        if a == "inject":
            tried = []
            for table, name, value in ((req.headers_out, "X-Bad1", "a\\r\\nX-Injected: 1"),
                                       (req.headers_out, "X-Bad2\\r\\nX-Injected", "2"),
                                       (req.err_headers_out, "X-Bad3", "c\\nX-Injected: 3"),
                                       (req.headers_out, "X-Bad4", "d\\rX-Injected: 4")):
                try:
                    table[name] = value
                    tried.append("set")
                except ValueError:
                    tried.append("ValueError")
            try:
                req.content_type = "text/plain\\r\\nX-Injected: 5"
                tried.append("set")
            except ValueError:
                tried.append("ValueError")
            req.headers_out["X-Good"] = "fine"
            req.write(",".join(tried), 0)
            return apache.OK
        if a == "flush":
            req.content_type = "text/plain"
            req.write("first part;", 1)
            flag = os.path.join(here, "go")
            for _ in range(800):  # at most 8 s, under handler_timeout
                if os.path.exists(flag):
                    break
                time.sleep(0.01)
            req.write("flag seen" if os.path.exists(flag) else "flag never seen", 0)
            return apache.OK
        body = req.read()
        req.content_type = "application/json"
        req.write(json.dumps({
            "method": req.method, "uri": req.uri, "args": req.args, "unparsed_uri": req.unparsed_uri,
            "hostname": req.hostname, "protocol": req.protocol, "body": body.decode("latin-1"),
            "headers": [[k, req.headers_in[k]] for k in req.headers_in.keys()],
        }), 0)
        return apache.OK
"""

OTHER = """
    from mod_python import apache

    def handler(req):
        req.content_type = "text/plain"
        req.write("other vhost %s %s %s" % (req.hostname, req.uri, req.args), 0)
        return apache.OK
"""

ASYNC = """
    import os
    from mod_python import apache

    here = os.path.dirname(__file__)

    async def handler(req):
        req.content_type = "application/octet-stream"
        n = int(req.args or "4")
        for i in range(n):
            req.write((b"%08d" % i).ljust(65536, b"."))
            await req.drain()
        open(os.path.join(here, "done-%d" % n), "w").close()
        return apache.OK
"""

WSGI = """
    import json, os
    from urllib.parse import parse_qs

    here = os.path.dirname(__file__)

    def blocks(n, size, tag):
        for i in range(n):
            yield (b"%08d" % i).ljust(size, b".")
        if tag:
            open(os.path.join(here, "done-" + tag), "w").close()

    def failing(size):
        yield b"first block".ljust(size, b".")
        raise RuntimeError("failed after the first block")

    def application(environ, start_response):
        path = environ["PATH_INFO"]
        q = {k: v[0] for k, v in parse_qs(environ["QUERY_STRING"]).items()}
        if path == "/env":
            body = json.dumps({k: environ.get(k) for k in (
                "PATH_INFO", "QUERY_STRING", "SCRIPT_NAME", "REQUEST_URI", "HTTP_HOST", "SERVER_NAME")}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/gen":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return blocks(int(q.get("n", "3")), int(q.get("size", "16")), q.get("tag"))
        if path == "/fail":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return failing(int(q.get("size", "65536")))
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such page"]
"""

SITES = """
[[site]]
server_name = "h.test"
default = true
document_root = "../w"
handler = "h"

[[site]]
server_name = "other.test"
document_root = "../o"
handler = "o"

[[site]]
server_name = "a.test"
document_root = "../a"
handler = "ah"

[[site]]
server_name = "w.test"
document_root = "../wa"

[[site.location]]
path = "/"
wsgi = "app:application"
"""

TREE = {"sites.d/s.toml": SITES, "w/h.py": ECHO, "o/o.py": OTHER, "a/ah.py": ASYNC, "wa/app.py": WSGI}

LIMITS = """
[limits]
max_body_bytes = "1KB"
"""

STATUS = 'status = "/server-status"'

# A valid request sent right behind a bad one: it must never be answered.
FOLLOW = get("/?after-the-error")


def module_server(tmp_path_factory, limits=LIMITS):
    """Starts one server for a whole test module; yields it, then stops it."""
    yield from serve_tree(tmp_path_factory, "http", TREE, server_extra=STATUS, limits=limits)


def called(srv):
    try:
        with open(os.path.join(srv.root, "w", "called")) as f:
            return f.read()
    except OSError:
        return ""


def one(srv, data, method="GET"):
    """Sends `data` on a fresh connection and returns the first answer."""
    with Client(srv.port) as c:
        c.send(data)
        return c.answer(method)


def echo(srv, data):
    r = one(srv, data)
    assert r.status == 200, r
    return json.loads(r.body)


def refused(srv, data, status):
    """`data` is answered `status` (HTTP/1.1, Connection: close), the request
    queued behind it is never answered, the connection closes, and the handler
    never ran. Returns the raw bytes of the answer's head."""
    before = called(srv)
    with Client(srv.port) as c:
        c.send(data + FOLLOW)
        r = c.answer()
        assert r.status == status, r
        assert r.version == "HTTP/1.1", r
        assert (r.header("Connection") or "").lower() == "close", r
        assert c.closed(), "more after the error answer: %r" % c.buf[:300]
    assert called(srv) == before, "the handler ran for a refused request"
    assert srv.proc.poll() is None
    return r.raw_head

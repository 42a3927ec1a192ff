"""Hostile input and misbehaving handlers: limits with the right status codes,
paths that try to escape, and handlers that exit, recurse, write too much or
lose their client. After each, the server serves on."""

import os
import socket

from conftest import app_source

LIMITS = """
[limits]
max_header_bytes = "4KB"
max_body_bytes = "1KB"
max_connections = 2
read_timeout = 1
"""

TREE = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "h.test"
        document_root = "../w"
        handler = "h"
    """,
    "w/h.py": app_source("hostile/h.py"),
}


def raw(port, data, timeout=5.0, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def status_of(resp):
    line = resp.split(b"\r\n", 1)[0]
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 else None


def one_response(sock):
    """Reads one whole response from a keep-alive socket (Content-Length or
    chunked), however the server splits it into packets."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    elif b"content-length:" in lower:
        n = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < n:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    return head + b"\r\n\r\n" + body


def called(srv):
    try:
        return open(os.path.join(srv.root, "w", "called")).read()
    except OSError:
        return ""


def test_limits_have_the_right_status(make_server):
    srv = make_server(dict(TREE), limits=LIMITS)
    assert srv.get("/", host="h.test").text == "ok 0"
    before = called(srv)
    assert srv.get("/", host="h.test", headers={"X-Big": "a" * 6000}).status == 431
    assert srv.get("/" + "a" * 9000, host="h.test").status == 414
    assert srv.post("/", b"z" * 5000, host="h.test").status == 413
    chunked = (b"POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n" +
               b"".join(b"400\r\n" + b"c" * 1024 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n")
    assert status_of(raw(srv.port, chunked)) == 413
    assert called(srv) == before  # the handler never ran for any of them
    assert srv.post("/", b"z" * 1000, host="h.test").text == "ok 1000"


def test_malformed_requests_get_400(make_server):
    srv = make_server(dict(TREE), limits=LIMITS)
    assert status_of(raw(srv.port, b"GARBAGE\r\n\r\n")) == 400
    assert status_of(raw(srv.port, b"GET / HTTP/1.1\r\n\r\n")) == 400  # HTTP/1.1 without Host
    assert status_of(raw(srv.port, b"GET / HTTP/1.1\r\nHost: h.test\r\nContent-Length: abc\r\n\r\n")) == 400
    assert status_of(raw(srv.port, b"GET /%zz HTTP/1.1\r\nHost: h.test\r\n\r\n")) in (400, 200)
    assert srv.get("/", host="h.test").status == 200


def test_idle_client_is_cut_off(make_server):
    srv = make_server(dict(TREE), limits=LIMITS)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: h.")  # then nothing
        # read_timeout = 1 s: the server closes the connection long before this
        # client's own 10 s timeout would raise
        data = s.recv(1024)
        assert data == b"" or status_of(data) in (400, 408)
    finally:
        s.close()
    assert srv.get("/", host="h.test").status == 200


def test_dribbling_client_is_cut_off(make_server):
    srv = make_server(dict(TREE), limits=LIMITS)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=1)
    cut = False
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: h.test\r\nX-Slow: ")
        for _ in range(40):  # one byte every 0.25 s: never idle for read_timeout (1 s)
            try:
                s.sendall(b"a")
                s.settimeout(0.25)
                if s.recv(1024) == b"":
                    cut = True
                    break
            except socket.timeout:
                continue
            except OSError:
                cut = True
                break
    finally:
        s.close()
    assert cut, "a client sending one header byte at a time kept its connection"
    # cut by the request deadline, not by the idle timeout (it never paused 1 s)
    assert srv.wait_for(lambda: "took over" in srv.log(), timeout=5), srv.log()
    assert srv.get("/", host="h.test").status == 200


def test_max_connections_leaves_existing_connections_alone(make_server):
    srv = make_server(dict(TREE), limits=LIMITS)
    conns = []
    request = b"GET / HTTP/1.1\r\nHost: h.test\r\n\r\n"
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(request)
        assert status_of(one_response(s)) == 200
        conns.append(s)
    third = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    third.sendall(request)
    conns[0].sendall(request)  # an existing connection is still served meanwhile
    assert status_of(one_response(conns[0])) == 200
    third.settimeout(0)  # a look at what has arrived, without waiting
    try:
        got = third.recv(4096, socket.MSG_PEEK)
    except BlockingIOError:
        got = None
    assert got is None  # not accepted while two connections are open
    conns[0].close()
    third.settimeout(5)
    assert status_of(one_response(third)) == 200  # accepted once a slot is free
    third.close()
    conns[1].close()


def test_paths_that_try_to_escape(make_server):
    tree = dict(TREE)
    tree["sites.d/s.toml"] = """
        [[site]]
        server_name = "st.test"
        document_root = "../htdocs"
    """
    tree["htdocs/ok.txt"] = "fine\n"
    tree["private/secret.txt"] = "secret\n"
    srv = make_server(tree)
    os.symlink(os.path.join(srv.root, "private"), os.path.join(srv.root, "htdocs", "dirlink"))
    attempts = ["/../private/secret.txt", "/%2e%2e/private/secret.txt", "/%2E%2e/private/secret.txt",
                "/.%2e/private/secret.txt", "/%2e%2e%2fprivate%2fsecret.txt", "/..%5cprivate%5csecret.txt",
                "/%c0%ae%c0%ae/private/secret.txt", "/ok.txt%00", "/ok.txt%00.html", "/dirlink/secret.txt",
                "/../server.toml", "/../sites.d/s.toml", "/../w/h.py", "/%2e%2e/w/h.py",
                "/\\../private/secret.txt"]
    for path in attempts:
        r = srv.get(path, host="st.test")
        assert r.status in (400, 403, 404), (path, r.status)
        assert b"secret" not in r.body and b"server_name" not in r.body and b"handler" not in r.body, path
    assert srv.get("/ok.txt", host="st.test").text == "fine\n"


def test_misbehaving_handlers(make_server):
    srv = make_server(dict(TREE))
    for arg, want in [("exit", 500), ("base", 500), ("kbint", 500), ("wrongtype", 500), ("recurse", 500)]:
        r = srv.get("/?" + arg, host="h.test")
        assert r.status == want, (arg, r)
        assert srv.get("/", host="h.test").status == 200, arg
    log = srv.log()
    assert "base-exception" in log and "RecursionError" in log and "SystemExit" in log
    assert "invalid return code" in log
    # a req kept past its request cannot write into another response
    assert srv.get("/?keep", host="h.test").text == "kept"
    r = srv.get("/?late", host="h.test")
    assert r.status == 500 and b"writing after return" not in r.body
    assert "request is finished" in srv.log()


def test_response_header_injection_is_refused_at_the_api(make_server):
    srv = make_server(dict(TREE))
    status, headers, body, complete = srv.exchange("GET", "/?headers", host="h.test")
    assert status == 200 and complete, srv.log()[-3000:]
    assert body == b"refused 15"  # five bad fields, each refused by set, add and err_headers_out
    assert "injected" not in headers and "x-bad" not in headers and "x-nul" not in headers
    assert headers["x-latin"] == "caf\xe9"  # Latin-1 text goes out as its bytes


def test_huge_write_is_refused_not_buffered(make_server):
    srv = make_server(dict(TREE))
    r = srv.get("/?huge", host="h.test", timeout=120)
    assert r.status == 500
    assert "response too large" in srv.log()
    assert srv.get("/", host="h.test").status == 200


def test_client_that_disconnects_mid_response(make_server):
    srv = make_server(dict(TREE))
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(b"GET /?big HTTP/1.1\r\nHost: h.test\r\n\r\n")
        s.recv(1000)  # read a little of the 8 MB, then vanish
        s.close()
    assert srv.get("/", host="h.test").status == 200
    assert srv.proc.poll() is None

"""Streamed answers with back-pressure: a producer never runs far ahead of a
client that does not read, whether it runs inline on the loop (a WSGI
iterable pulled as the socket drains), off the loop (an offloaded writer that
blocks), or in an async handler awaiting req.drain(). Every stream is then read
to its end and checked byte for byte."""

import hashlib
import os
import socket
import time

BLOCK = 64 * 1024
BLOCKS = 1200  # 75 MiB: far more than any socket buffer and the high-water mark

TREE = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "inline.test"
        document_root = "../w"
        [[site.location]]
        path = "/"
        wsgi = "app:application"

        [[site]]
        server_name = "offload.test"
        document_root = "../w"
        offload = true
        [[site.location]]
        path = "/"
        wsgi = "app:application"

        [[site]]
        server_name = "mp.test"
        document_root = "../w"
        handler = "mp"
        offload = true

        [[site]]
        server_name = "async.test"
        document_root = "../w"
        handler = "amp"

        [[site]]
        server_name = "plain.test"
        document_root = "../w"
    """,
    "w/hello.txt": "hello\n",
    "w/app.py": """
        import os
        here = os.path.dirname(__file__)

        def block(i):
            return (b"%%08d" %% i) * (%(block)d // 8)

        def application(environ, start_response):
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            counter = os.path.join(here, "made-" + environ["HTTP_HOST"])
            def gen():
                for i in range(%(blocks)d):
                    with open(counter, "w") as f:
                        f.write(str(i + 1))
                    yield block(i)
            return gen()
    """ % {"block": BLOCK, "blocks": BLOCKS},
    "w/mp.py": """
        import os
        from mod_python import apache
        here = os.path.dirname(__file__)

        def handler(req):
            req.content_type = "application/octet-stream"
            for i in range(%(blocks)d):
                with open(os.path.join(here, "made-" + req.hostname), "w") as f:
                    f.write(str(i + 1))
                req.write((b"%%08d" %% i) * (%(block)d // 8))
            return apache.OK
    """ % {"block": BLOCK, "blocks": BLOCKS},
    "w/amp.py": """
        import os
        from mod_python import apache
        here = os.path.dirname(__file__)

        async def handler(req):
            req.content_type = "application/octet-stream"
            for i in range(%(blocks)d):
                with open(os.path.join(here, "made-" + req.hostname), "w") as f:
                    f.write(str(i + 1))
                req.write((b"%%08d" %% i) * (%(block)d // 8))
                await req.drain()
            return apache.OK
    """ % {"block": BLOCK, "blocks": BLOCKS},
}


def expected_digest():
    h = hashlib.sha256()
    for i in range(BLOCKS):
        h.update((b"%08d" % i) * (BLOCK // 8))
    return h.hexdigest()


def made(srv, host):
    try:
        return int(open(os.path.join(srv.root, "w", "made-" + host)).read() or 0)
    except (OSError, ValueError):
        return 0


def settled(srv, host, rounds=20):
    """The producer's count once it has started and then stopped moving
    (bounded polling; a loaded machine only makes it take longer)."""
    for _ in range(600):
        if made(srv, host) > 0:
            break
        time.sleep(0.05)
    last, same = -1, 0
    for _ in range(600):
        now = made(srv, host)
        same = same + 1 if now == last else 0
        if same >= rounds:
            return now
        last = now
        time.sleep(0.05)
    return made(srv, host)


def read_chunked(sock):
    """Reads a chunked response to its end; returns (head, sha256, length)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, buf = buf.partition(b"\r\n\r\n")
    h, total = hashlib.sha256(), 0
    while True:
        while b"\r\n" not in buf:
            buf += sock.recv(65536)
        size_line, _, buf = buf.partition(b"\r\n")
        n = int(size_line, 16)
        if n == 0:
            return head, h.hexdigest(), total
        while len(buf) < n + 2:
            more = sock.recv(1 << 20)
            assert more, "stream cut after %d bytes" % total
            buf += more
        h.update(buf[:n])
        total += n
        buf = buf[n + 2:]


def stream_with_a_stalled_client(srv, host):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    try:
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
        # The client reads nothing: the producer must stop well short of the end.
        ahead = settled(srv, host)
        assert 0 < ahead < BLOCKS // 4, "produced %d of %d blocks for a client that reads nothing" % (ahead, BLOCKS)
        # Meanwhile the server answers others.
        other = srv.get("/hello.txt", host="plain.test", timeout=10)
        assert other.status == 200 and other.body == b"hello\n"
        head, digest, total = read_chunked(s)
    finally:
        s.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert total == BLOCK * BLOCKS and digest == expected_digest()
    return ahead


def test_inline_wsgi_iterable_waits_for_the_socket(make_server):
    srv = make_server(dict(TREE))
    stream_with_a_stalled_client(srv, "inline.test")


def test_offloaded_wsgi_iterable_blocks_its_pool_thread(make_server):
    srv = make_server(dict(TREE))
    stream_with_a_stalled_client(srv, "offload.test")


def test_offloaded_mod_python_writer_blocks_above_high_water(make_server):
    srv = make_server(dict(TREE))
    stream_with_a_stalled_client(srv, "mp.test")


def test_async_handler_awaits_drain(make_server):
    srv = make_server(dict(TREE))
    stream_with_a_stalled_client(srv, "async.test")

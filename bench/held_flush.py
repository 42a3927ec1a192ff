#!/usr/bin/env python3
"""Held flushes: how often an inline mod_python handler that flushes three
small writes and returns at once is answered in one piece (Content-Length)
rather than streamed (chunked). The server holds a flushed head for a couple
of milliseconds, or until the handler returns or blocks; whether the handler
returns inside that window depends on the machine's load, so it is measured
here and never asserted by a test (tests/e2e/test_http_connections.py checks
only the answer itself).
Usage: bench/held_flush.py [BUILD_BINARY] [REQUESTS, default 2000]
Small and bounded: one client, one connection per request."""

import os
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import conftest  # noqa: E402

QUICK = """
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    for part in ("one;", "two;", "three"):
        req.write(part, 1)
    return apache.OK
"""


def one_request(port):
    """(framing, seconds): framing is "length", "chunked" or "other"."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    took = time.monotonic() - t0
    head = data.partition(b"\r\n\r\n")[0].lower()
    if b"transfer-encoding: chunked" in head:
        return "chunked", took
    if b"content-length: 13" in head:
        return "length", took
    return "other", took


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else conftest.BINARY
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    conftest.BINARY = binary
    tmp = tempfile.mkdtemp(prefix="subhttpd-held-flush-")
    conftest.write_tree(tmp, {
        "server.toml": conftest.server_toml(access_log="off"),
        "sites.d/a.toml": '[[site]]\nserver_name = "localhost"\ndocument_root = "../app"\nhandler = "quick"\n',
        "app/quick.py": QUICK,
    })
    srv = conftest.Server(tmp, os.path.join(tmp, "server.toml"), conftest.free_port())
    srv.start()
    try:
        one_request(srv.port)  # warm: the interpreter and the module
        counts = {"length": 0, "chunked": 0, "other": 0}
        times = []
        for _ in range(requests):
            framing, took = one_request(srv.port)
            counts[framing] += 1
            times.append(took)
        print("requests  one piece (Content-Length)  streamed (chunked)  other  median ms")
        print("%8d  %26.1f%%  %17.1f%%  %5d  %9.3f" % (
            requests, 100.0 * counts["length"] / requests, 100.0 * counts["chunked"] / requests,
            counts["other"], statistics.median(times) * 1000))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()

"""Static files as nginx serves them: ETag beside Last-Modified, conditional
requests (304/412, RFC 9110 13.2.2), byte ranges (206, multipart/byteranges,
416, If-Range), HEAD, and large files, against the real binary."""

import email.utils
import os
import random
import re
import socket

import pytest

TEXT = "".join("line %03d: the quick brown fox\n" % i for i in range(100))  # 3000 bytes
MTIME = 1700000000  # Tue, 14 Nov 2023 22:13:20 GMT

TREE = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "static.test"
        document_root = "../htdocs"
        index = ["index.html"]
    """,
    "htdocs/index.html": "<h1>home</h1>\n",
    "htdocs/data.txt": TEXT,
    "htdocs/empty.txt": "",
    "htdocs/sub/x.css": "body{}\n",
    "secret.txt": "secret\n",
}


@pytest.fixture
def srv(make_server):
    s = make_server(dict(TREE))
    os.utime(os.path.join(s.root, "htdocs", "data.txt"), (MTIME, MTIME))
    return s


def etag_of(srv):
    return srv.get("/data.txt").headers["ETag"]


def test_etag_is_nginx_format_and_stable(srv):
    r = srv.get("/data.txt")
    assert r.status == 200 and r.text == TEXT
    assert r.headers["ETag"] == '"%x-%x"' % (MTIME, len(TEXT))
    assert r.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert srv.get("/data.txt").headers["ETag"] == r.headers["ETag"]
    path = os.path.join(srv.root, "htdocs", "data.txt")
    with open(path, "a") as f:
        f.write("more\n")
    os.utime(path, (MTIME, MTIME))
    assert srv.get("/data.txt").headers["ETag"] == '"%x-%x"' % (MTIME, len(TEXT) + 5)


def test_if_none_match(srv):
    etag = etag_of(srv)
    for value in [etag, '"nope", %s' % etag, '"a" ,\t%s , "b"' % etag, "W/" + etag, "*"]:
        r = srv.get("/data.txt", headers={"If-None-Match": value})
        assert r.status == 304 and r.body == b"", value
        assert r.headers["ETag"] == etag and r.headers["Last-Modified"]
    r = srv.request("HEAD", "/data.txt", headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b""
    for value in ['"nope"', '"%x-0"' % MTIME, etag[:-1]]:
        r = srv.get("/data.txt", headers={"If-None-Match": value})
        assert r.status == 200 and r.text == TEXT, value


def test_if_none_match_overrides_if_modified_since(srv):
    lm = srv.get("/data.txt").headers["Last-Modified"]
    assert srv.get("/data.txt", headers={"If-Modified-Since": lm}).status == 304
    r = srv.get("/data.txt", headers={"If-Modified-Since": lm, "If-None-Match": '"other"'})
    assert r.status == 200 and r.text == TEXT


def test_if_match_and_if_unmodified_since(srv):
    etag = etag_of(srv)
    r = srv.get("/data.txt", headers={"If-Match": '"other"'})
    assert r.status == 412 and "Precondition" in r.text
    assert srv.get("/data.txt", headers={"If-Match": "W/" + etag}).status == 412  # strong comparison
    assert srv.get("/data.txt", headers={"If-Match": etag}).text == TEXT
    assert srv.get("/data.txt", headers={"If-Match": '"x", ' + etag}).status == 200
    assert srv.get("/data.txt", headers={"If-Match": "*"}).status == 200
    before = email.utils.formatdate(MTIME - 1, usegmt=True)
    assert srv.get("/data.txt", headers={"If-Unmodified-Since": before}).status == 412
    at = email.utils.formatdate(MTIME, usegmt=True)
    assert srv.get("/data.txt", headers={"If-Unmodified-Since": at}).status == 200
    assert srv.get("/data.txt", headers={"If-Unmodified-Since": "garbage"}).status == 200
    # If-Match decides; If-Unmodified-Since is then not evaluated.
    assert srv.get("/data.txt", headers={"If-Match": etag, "If-Unmodified-Since": before}).status == 200
    # A failed precondition wins over a matching If-None-Match.
    assert srv.get("/data.txt", headers={"If-Match": '"x"', "If-None-Match": etag}).status == 412


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-9", 0, 9),            # first bytes
    ("bytes=100-199", 100, 199),    # middle
    ("bytes=-50", 2950, 2999),      # suffix
    ("bytes=2990-", 2990, 2999),    # open-ended
    ("bytes=2990-99999", 2990, 2999),  # beyond the end: clipped
    ("bytes=-99999", 0, 2999),      # suffix longer than the file
    ("Bytes=5-5", 5, 5),            # the unit is case-insensitive
])
def test_single_range(srv, spec, first, last):
    r = srv.get("/data.txt", headers={"Range": spec})
    assert r.status == 206, r
    assert r.body == TEXT.encode()[first:last + 1]
    assert r.headers["Content-Range"] == "bytes %d-%d/%d" % (first, last, len(TEXT))
    assert r.headers["Content-Length"] == str(last + 1 - first)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["ETag"] == '"%x-%x"' % (MTIME, len(TEXT))


def test_unsatisfiable_range_is_416(srv):
    for spec in ["bytes=3000-", "bytes=5000-6000", "bytes=-0", "bytes=4000-,5000-"]:
        r = srv.get("/data.txt", headers={"Range": spec})
        assert r.status == 416, spec
        assert r.headers["Content-Range"] == "bytes */3000"
        assert TEXT[:20] not in r.text


@pytest.mark.parametrize("spec", [
    "bytes=abc", "bytes=5-3", "bytes=", "bytes 0-5", "bytes=0-5;x", "items=0-5", "bytes=0-0,x",
    "bytes=" + ",".join("%d-%d" % (i, i) for i in range(17)),  # more than 16 ranges
    "bytes=0-,0-",  # overlapping ranges that ask for more than the file
])
def test_ignored_range_serves_the_whole_file(srv, spec):
    r = srv.get("/data.txt", headers={"Range": spec})
    assert r.status == 200 and r.text == TEXT, spec
    assert "Content-Range" not in r.headers


def test_range_on_empty_file_is_200(srv):
    r = srv.get("/empty.txt", headers={"Range": "bytes=0-"})
    assert r.status == 200 and r.body == b""


def parse_multipart(r):
    m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", r.headers["Content-Type"])
    assert m, r.headers["Content-Type"]
    boundary = m.group(1).encode()
    assert r.body.endswith(b"\r\n--" + boundary + b"--\r\n")
    chunks = r.body[:-len(b"\r\n--" + boundary + b"--\r\n")].split(b"\r\n--" + boundary + b"\r\n")
    assert chunks[0] == b""  # nothing before the first delimiter
    parts = []
    for chunk in chunks[1:]:
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        parts.append((fields, data))
    return parts


def test_multipart_ranges(srv):
    r = srv.get("/data.txt", headers={"Range": "bytes=0-9, 2990-"})
    assert r.status == 206
    assert "Content-Range" not in r.headers
    assert r.headers["Content-Length"] == str(len(r.body))
    parts = parse_multipart(r)
    assert len(parts) == 2
    (f1, d1), (f2, d2) = parts
    assert f1[b"Content-Type"].startswith(b"text/plain") and f1[b"Content-Range"] == b"bytes 0-9/3000"
    assert d1 == TEXT.encode()[0:10]
    assert f2[b"Content-Range"] == b"bytes 2990-2999/3000" and d2 == TEXT.encode()[2990:]
    # Unsatisfiable parts are dropped; one satisfiable range left is a plain 206.
    r = srv.get("/data.txt", headers={"Range": "bytes=5000-6000,10-19"})
    assert r.status == 206 and r.headers["Content-Range"] == "bytes 10-19/3000"
    assert r.body == TEXT.encode()[10:20]


def test_if_range(srv):
    first = srv.get("/data.txt")
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    rng = {"Range": "bytes=0-4"}
    r = srv.get("/data.txt", headers=dict(rng, **{"If-Range": etag}))
    assert r.status == 206 and r.body == TEXT.encode()[:5]
    r = srv.get("/data.txt", headers=dict(rng, **{"If-Range": '"stale"'}))
    assert r.status == 200 and r.text == TEXT
    r = srv.get("/data.txt", headers=dict(rng, **{"If-Range": "W/" + etag}))
    assert r.status == 200 and r.text == TEXT
    r = srv.get("/data.txt", headers=dict(rng, **{"If-Range": lm}))
    assert r.status == 206 and r.body == TEXT.encode()[:5]
    later = email.utils.formatdate(MTIME + 60, usegmt=True)
    r = srv.get("/data.txt", headers=dict(rng, **{"If-Range": later}))
    assert r.status == 200 and r.text == TEXT


def test_head_has_the_get_headers(srv):
    get = srv.get("/data.txt")
    head = srv.request("HEAD", "/data.txt")
    assert head.status == 200 and head.body == b""
    for name in ["Content-Type", "Content-Length", "Last-Modified", "ETag", "Accept-Ranges"]:
        assert head.headers[name] == get.headers[name], name
    assert head.headers["Content-Length"] == "3000"
    # A range on HEAD answers as GET would (206), as nginx does.
    head = srv.request("HEAD", "/data.txt", headers={"Range": "bytes=10-19"})
    assert head.status == 206 and head.body == b""
    assert head.headers["Content-Range"] == "bytes 10-19/3000" and head.headers["Content-Length"] == "10"


def raw_exchange(port, request, timeout=10.0):
    """Sends one request with Connection: close and reads the reply to EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def test_raw_range_reply_is_framed_exactly(srv):
    reply = raw_exchange(srv.port, b"GET /data.txt HTTP/1.1\r\nHost: static.test\r\nRange: bytes=-7\r\n"
                                   b"Connection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206 ")
    assert b"\r\nContent-Length: 7" in head and b"\r\nContent-Range: bytes 2993-2999/3000" in head
    assert body == TEXT.encode()[-7:]


def test_large_file_ranges_byte_for_byte(make_server, tmp_path):
    srv = make_server(dict(TREE))
    data = random.Random(12).randbytes(5 * 1024 * 1024 + 123)
    with open(os.path.join(srv.root, "htdocs", "big.bin"), "wb") as f:
        f.write(data)
    r = srv.get("/big.bin", headers={"Range": "bytes=1000000-3999999"})
    assert r.status == 206 and r.headers["Content-Length"] == "3000000"
    assert r.body == data[1000000:4000000]
    r = srv.get("/big.bin", headers={"Range": "bytes=-100000"})
    assert r.body == data[-100000:]
    r = srv.get("/big.bin", headers={"Range": "bytes=10-20,4000000-4200000"})
    (f1, d1), (f2, d2) = parse_multipart(r)
    assert d1 == data[10:21] and d2 == data[4000000:4200001]
    assert f2[b"Content-Type"] == b"application/octet-stream"
    r = srv.get("/big.bin")
    assert r.status == 200 and r.body == data


def test_escape_checks_still_hold_with_ranges(srv):
    os.symlink(os.path.join(srv.root, "secret.txt"), os.path.join(srv.root, "htdocs", "link.txt"))
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt", "/link.txt",
                 "/data.txt%00.css", "/sub/%2e%2e/%2e%2e/secret.txt", "/../server.toml"]:
        for headers in [{}, {"Range": "bytes=0-"}, {"If-None-Match": "*"}, {"If-Match": "*"}]:
            r = srv.get(path, headers=headers)
            assert r.status in (400, 403, 404), (path, headers, r)
            assert b"secret" not in r.body and b"server_name" not in r.body, path


def test_non_file_answers_are_unchanged(srv):
    assert srv.get("/sub", headers={"Range": "bytes=0-1"}).status == 301
    assert srv.get("/missing.txt", headers={"If-Match": "*"}).status == 404
    assert srv.post("/data.txt", b"x", headers={"Range": "bytes=0-1"}).status == 405
    r = srv.get("/", headers={"Range": "bytes=0-3"})
    assert r.status == 206 and r.body == b"<h1>"

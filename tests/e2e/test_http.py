"""HTTP/1.1 request parsing of subhttpd's own HTTP layer (RFC 9110/9112), end
to end over raw sockets against the real binary: the request line, target
forms, fields, Content-Length, Transfer-Encoding and chunked bodies, Expect
and request bodies. Every framing error must answer its exact status, close
the connection (a request queued behind it is never answered) and never reach
the handler (which records each call in a file). Connections, the response
writer and streaming are in test_http_connections.py."""

import json

import pytest

from http_site import called, echo, module_server, one, refused
from http_wire import Client, get


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from module_server(tmp_path_factory)


# ---------------------------------------------------------------- request line

BAD_REQUEST_LINES = [
    ("two-spaces", b"GET  / HTTP/1.1\r\nHost: h.test\r\n\r\n", 400),
    ("leading-space", b" GET / HTTP/1.1\r\nHost: h.test\r\n\r\n", 400),
    ("trailing-space", b"GET / HTTP/1.1 \r\nHost: h.test\r\n\r\n", 400),
    ("tab-separator", b"GET\t/\tHTTP/1.1\r\nHost: h.test\r\n\r\n", 400),
    ("lowercase-version", b"GET / http/1.1\r\nHost: h.test\r\n\r\n", 400),
    ("negative-version", b"GET / HTTP/-1.1\r\nHost: h.test\r\n\r\n", 400),
    ("version-0.99", b"GET / HTTP/0.99\r\nHost: h.test\r\n\r\n", 400),
    ("version-1.2", b"GET / HTTP/1.2\r\nHost: h.test\r\n\r\n", 505),
    ("version-2.0", b"GET / HTTP/2.0\r\nHost: h.test\r\n\r\n", 505),
    ("asterisk-with-get", b"GET * HTTP/1.1\r\nHost: h.test\r\n\r\n", 400),
    ("bare-lf-line-ends", b"GET / HTTP/1.1\nHost: h.test\n\n", 400),
]


@pytest.mark.parametrize("data,status", [c[1:] for c in BAD_REQUEST_LINES], ids=[c[0] for c in BAD_REQUEST_LINES])
def test_bad_request_line(srv, data, status):
    head = refused(srv, data, status)
    version = data.split(b"\r\n")[0].split(b"\n")[0].rsplit(b" ", 1)[-1].strip()
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    if version and version != b"HTTP/1.1":
        assert version not in head, "the bad version was echoed: %r" % head


def test_origin_form(srv):
    e = echo(srv, get("/dir/page?x=1&y=%20"))
    assert (e["uri"], e["args"], e["unparsed_uri"], e["hostname"]) == ("/dir/page", "x=1&y=%20", "/dir/page?x=1&y=%20",
                                                                       "h.test")


def test_absolute_form_takes_host_from_the_uri_and_routes_there(srv):
    r = one(srv, b"GET http://other.test/p/q?k=v HTTP/1.1\r\nHost: h.test\r\n\r\n")
    assert r.status == 200 and r.body == b"other vhost other.test /p/q k=v", r
    # without any Host field, and with no path at all
    r = one(srv, b"GET http://other.test HTTP/1.1\r\n\r\n")
    assert r.status == 200 and r.body == b"other vhost other.test / None", r
    e = json.loads(one(srv, b"GET http://w.test/env?a=b HTTP/1.1\r\nHost: h.test\r\n\r\n").body)
    assert (e["PATH_INFO"], e["QUERY_STRING"], e["SERVER_NAME"]) == ("/env", "a=b", "w.test"), e
    assert e["HTTP_HOST"] == "w.test", "the app sees another host than the one that routed it: %r" % e


def test_options_asterisk(srv):
    before = called(srv)
    with Client(srv.port) as c:
        c.send(b"OPTIONS * HTTP/1.1\r\nHost: h.test\r\n\r\n" + get("/?fixed"))
        r = c.answer()
        assert r.status == 200, r
        assert "GET" in r.header("Allow") and "OPTIONS" in r.header("Allow"), r
        assert c.answer().body == b"fixed answer\n"  # the connection goes on
    assert called(srv) == before + "GET /?fixed\n"


def test_fragment_never_reaches_path_or_query(srv):
    e = echo(srv, get("/frag/x?a=1#section?b=2"))
    assert (e["uri"], e["args"], e["unparsed_uri"]) == ("/frag/x", "a=1", "/frag/x?a=1"), e
    e = echo(srv, get("/frag/y#only"))
    assert (e["uri"], e["args"]) == ("/frag/y", None), e
    w = json.loads(one(srv, get("/env?q=1#frag", host="w.test")).body)
    assert (w["PATH_INFO"], w["QUERY_STRING"]) == ("/env", "q=1"), w
    assert "#" not in (w["REQUEST_URI"] or ""), w


# ---------------------------------------------------------------- fields

BAD_FIELDS = [
    ("space-before-colon", b"X-Test : 1\r\n", 400),
    ("host-space-before-colon", b"Host : h.test\r\n", 400),
    ("obs-fold", b"X-Test: a\r\n folded\r\n", 400),
    ("obs-fold-htab", b"X-Test: a\r\n\tfolded\r\n", 400),
    ("nul-in-value", b"X-Test: a\x00b\r\n", 400),
    ("cr-in-value", b"X-Test: a\rb\r\n", 400),
    ("lf-in-value", b"X-Test: a\nb\r\n", 400),
    ("duplicate-host", b"Host: other.test\r\n", 400),
    ("empty-name", b": value\r\n", 400),
]


@pytest.mark.parametrize("field,status", [c[1:] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS])
def test_bad_field(srv, field, status):
    refused(srv, b"GET / HTTP/1.1\r\nHost: h.test\r\n" + field + b"\r\n", status)


def test_http11_without_host_is_refused(srv):
    refused(srv, b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400)


def test_http10_without_host_is_served(srv):
    r = one(srv, b"GET /?fixed HTTP/1.0\r\n\r\n")
    assert r.status == 200 and r.body == b"fixed answer\n", r


def test_ows_trimmed_from_field_values(srv):
    e = echo(srv, get("/", extra=b"X-Lead:\t\tvalue one\r\nX-Trail: value two \t \r\nX-Both: \t three\t\r\n"))
    h = dict(e["headers"])
    assert (h["X-Lead"], h["X-Trail"], h["X-Both"]) == ("value one", "value two", "three"), h


# ---------------------------------------------------------------- Content-Length

BAD_LENGTHS = [
    ("minus-zero", b"Content-Length: -0\r\n", 400),
    ("plus-five", b"Content-Length: +5\r\n", 400),
    ("inner-space", b"Content-Length: 5 5\r\n", 400),
    ("hex", b"Content-Length: 0x5\r\n", 400),
    ("empty", b"Content-Length: \r\n", 400),
    ("differing-list", b"Content-Length: 5,6\r\n", 400),
    ("differing-fields", b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
    ("overflow", b"Content-Length: 99999999999999999999999\r\n", 400),
    ("two-to-the-64", b"Content-Length: 18446744073709551616\r\n", 400),
    ("over-max-body", b"Content-Length: 5000\r\n", 413),
    ("huge-but-valid", b"Content-Length: 18446744073709551615\r\n", 413),
]


@pytest.mark.parametrize("field,status", [c[1:] for c in BAD_LENGTHS], ids=[c[0] for c in BAD_LENGTHS])
def test_bad_content_length(srv, field, status):
    refused(srv, b"POST / HTTP/1.1\r\nHost: h.test\r\n" + field + b"\r\nhello", status)


GOOD_LENGTHS = [
    ("leading-ows", b"Content-Length:   5\r\n"),
    ("identical-list", b"Content-Length: 5,5\r\n"),
    ("identical-list-ows", b"Content-Length: 5 , 5\r\n"),
    ("identical-fields", b"Content-Length: 5\r\nContent-Length: 5\r\n"),
]


@pytest.mark.parametrize("field", [c[1] for c in GOOD_LENGTHS], ids=[c[0] for c in GOOD_LENGTHS])
def test_content_length_accepted(srv, field):
    with Client(srv.port) as c:
        c.send(b"POST /?len HTTP/1.1\r\nHost: h.test\r\n" + field + b"\r\nhello" + get("/?fixed"))
        r = c.answer()
        assert r.status == 200 and json.loads(r.body)["body"] == "hello", r
        assert c.answer().body == b"fixed answer\n"  # framed right: the next request parses


# ---------------------------------------------------------------- Transfer-Encoding

def chunked_post(body_bytes, te=b"chunked", version=b"1.1", extra=b""):
    return (b"POST /?te HTTP/" + version + b"\r\nHost: h.test\r\nTransfer-Encoding: " + te + b"\r\n" + extra +
            b"\r\n" + body_bytes)


BAD_TE = [
    ("gzip-then-chunked", chunked_post(b"5\r\nhello\r\n0\r\n\r\n", te=b"gzip, chunked"), 501),
    ("gzip-alone", chunked_post(b"hello", te=b"gzip"), 501),
    ("chunked-then-gzip", chunked_post(b"5\r\nhello\r\n0\r\n\r\n", te=b"chunked, gzip"), 400),
    ("chunked-twice", chunked_post(b"5\r\nhello\r\n0\r\n\r\n", te=b"chunked, chunked"), 400),
    ("on-http10", chunked_post(b"5\r\nhello\r\n0\r\n\r\n", version=b"1.0"), 400),
    ("with-content-length", chunked_post(b"5\r\nhello\r\n0\r\n\r\n", extra=b"Content-Length: 15\r\n"), 400),
    ("size-plus", chunked_post(b"+5\r\nhello\r\n0\r\n\r\n"), 400),
    ("size-0x", chunked_post(b"0x5\r\nhello\r\n0\r\n\r\n"), 400),
    ("size-minus", chunked_post(b"-1\r\nhello\r\n0\r\n\r\n"), 400),
    ("size-17-digits", chunked_post(b"00000000000000005\r\nhello\r\n0\r\n\r\n"), 400),
    ("size-empty", chunked_post(b"\r\nhello\r\n0\r\n\r\n"), 400),
    ("data-without-crlf", chunked_post(b"5\r\nhelloXX0\r\n\r\n"), 400),
    ("bad-extension", chunked_post(b"5;=x\r\nhello\r\n0\r\n\r\n"), 400),
    ("over-max-body", chunked_post(b"".join(b"100\r\n" + b"c" * 256 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"), 413),
]


@pytest.mark.parametrize("data,status", [c[1:] for c in BAD_TE], ids=[c[0] for c in BAD_TE])
def test_bad_transfer_encoding(srv, data, status):
    refused(srv, data, status)


GOOD_CHUNKED = [
    ("plain", b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
    ("upper-hex-and-zeros", b"0005\r\nhello\r\n00006\r\n world\r\n000\r\n\r\n"),
    ("extension", b"5;name=value\r\nhello\r\n6;a;b=c\r\n world\r\n0;last\r\n\r\n"),
    ("quoted-extension", b'5;name="quoted;value"\r\nhello\r\n6;q="a\\"b"\r\n world\r\n0\r\n\r\n'),
    ("trailers", b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"),
]


@pytest.mark.parametrize("body", [c[1] for c in GOOD_CHUNKED], ids=[c[0] for c in GOOD_CHUNKED])
def test_chunked_body_delivered(srv, body):
    with Client(srv.port) as c:
        c.send(chunked_post(body) + get("/?fixed"))
        r = c.answer()
        assert r.status == 200, r
        e = json.loads(r.body)
        assert e["body"] == "hello world", e
        names = [k.lower() for k, _ in e["headers"]]
        assert "x-trailer" not in names and "x-other" not in names  # trailers are ignored
        assert c.answer().body == b"fixed answer\n"


# ---------------------------------------------------------------- bodies

def test_expect_100_continue(srv):
    with Client(srv.port) as c:
        c.send(b"POST /?expect HTTP/1.1\r\nHost: h.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = c.answer()
        assert interim.status == 100 and interim.version == "HTTP/1.1", interim
        c.send(b"hello")
        r = c.answer()
        assert r.status == 200 and json.loads(r.body)["body"] == "hello", r


def test_expect_100_continue_over_max_body(srv):
    head = refused(srv, b"POST /?expect HTTP/1.1\r\nHost: h.test\r\nContent-Length: 5000\r\n"
                        b"Expect: 100-continue\r\n\r\n", 413)
    assert b" 100 " not in head


def test_get_body_is_read_and_the_next_request_parsed(srv):
    with Client(srv.port) as c:
        c.send(b"GET /?a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 11\r\n\r\nGET /?x HTT" + get("/?b"))
        first = json.loads(c.answer().body)
        assert (first["args"], first["body"]) == ("a", "GET /?x HTT"), first
        second = json.loads(c.answer().body)
        assert (second["args"], second["body"]) == ("b", ""), second

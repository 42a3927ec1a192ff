"""util.FieldStorage through the real server (issue 5): query and
urlencoded fields, multipart bodies with CR and LF inside values, file and
field callbacks, delimiters cut across TCP writes and across util's 64 KiB read
blocks, and large uploads spooled to a file. The handler is
apps/modpython/forms/forms.py."""

import os

import pytest

from conftest import app_tree, multipart, post_raw
from modpython_site import HOST, mp_server

BLOCKS = """
[[site.directory]]
path = "forms"
handler = "forms"
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from mp_server(tmp_path_factory, BLOCKS, app_tree("modpython/forms", "mp/forms"))


def post_form(srv, path, body, ctype, **kw):
    return post_raw(srv, path, body, ctype, HOST, **kw)


def test_fieldstorage_query_and_urlencoded(srv):
    r = srv.post("/forms/f?a=q1&a=q2&e=", b"b=posted+value&a=body&c=%C3%A9",
                 headers={"Content-Type": "application/x-www-form-urlencoded"}, host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    assert d["keys"] == ["a", "e", "b", "c"]
    assert d["a_list"] == ["q1", "q2", "body"] and d["getfirst_a"] == "q1"
    vals = {f["name"]: f["value"] for f in d["fields"]}
    assert vals["b"] == "posted value" and vals["c"] == "\u00e9" and vals["e"] == ""
    assert all(f["is_str"] and f["cls"] == "StringField" for f in d["fields"])
    assert d["parse_qs"] == {"x": ["1", "2"], "y": [""]}
    assert d["parse_qsl"] == [["x", "1"], ["x", "2"]]


TRICKY = (b"line one\rcr only\nlf only\r\ncrlf\r\n\r\n--not-the-boundary\r\n"
          b"\r\n--BOUNDAR\r\n--BOUNDARYX is not it either\r\n\x00\xff binary end\r")


def test_fieldstorage_multipart_with_embedded_cr_lf(srv):
    boundary = b"BOUNDARY"
    body = multipart([("a", b"plain value", None, None),
                      ("text", b"multi\r\nline\rvalue\n", None, None),
                      ("up", TRICKY, "t\u00e9st.bin".encode().decode("latin-1"), "application/octet-stream"),
                      ("empty", b"", "empty.txt", "text/plain"),
                      ("b", b"", None, None)], boundary)
    r = post_form(srv, "/forms/f", body, "multipart/form-data; boundary=BOUNDARY")
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    fields = {f["name"]: f for f in d["fields"]}
    assert fields["a"]["value"] == "plain value"
    assert fields["text"]["value"] == "multi\r\nline\rvalue\n"
    up = fields["up"]
    assert up["data"].encode("latin-1") == TRICKY
    assert up["len"] == len(TRICKY) and up["value_same"] and up["type"] == "application/octet-stream"
    assert up["disp"] == "form-data" and up["cls"] == "Field"
    assert fields["empty"]["len"] == 0 and fields["empty"]["filename"] == "empty.txt"
    assert fields["b"]["value"] == "" and d["has_b"]


def test_fieldstorage_file_and_field_callbacks(srv):
    body = multipart([("u", TRICKY, "cb.bin", "application/octet-stream"), ("v", b"val\r\n", None, None)],
                     b"CbBoundary")
    r = post_form(srv, "/forms/f?callbacks", body, "multipart/form-data; boundary=CbBoundary")
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    assert d["saved"] == ["cb-cb.bin", "field"]
    assert d["contents"][0].encode("latin-1") == TRICKY
    assert d["values"] == ["val\r\n"]


def test_fieldstorage_boundary_split_across_tcp_writes(srv):
    boundary = b"----splitBOUNDARY42"
    body = multipart([("first", b"1\r\n2\r3\n", None, None),
                      ("up", TRICKY * 3, "x.bin", "application/octet-stream"),
                      ("last", b"end", None, None)], boundary)
    # cut inside every delimiter (and between its CR and LF), sent with pauses
    cuts = []
    start = 0
    while True:
        i = body.find(b"\r\n--" + boundary, start)
        if i < 0:
            break
        cuts += [i + 1, i + 5, i + 9]
        start = i + 1
    r = post_form(srv, "/forms/f", body, "multipart/form-data; boundary=" + boundary.decode(),
                 pieces=sorted(set(cuts)), delay=0.02)
    assert r.status == 200, (r, srv.log()[-2000:])
    fields = {f["name"]: f for f in r.json()["fields"]}
    assert fields["first"]["value"] == "1\r\n2\r3\n"
    assert fields["up"]["data"].encode("latin-1") == TRICKY * 3
    assert fields["last"]["value"] == "end"


@pytest.mark.parametrize("shift", [-14, -9, -3, -2, -1, 0, 1])
def test_fieldstorage_boundary_split_across_read_blocks(srv, shift):
    # util reads the body in 64 KiB blocks: put a delimiter across a block border
    boundary = b"BlockBorder"
    head = multipart([("up", b"", "big.bin", "application/octet-stream")], boundary)
    prefix_len = head.index(b"\r\n\r\n") + 4
    size = 65536 - prefix_len + shift
    content = (b"ab\r\ncd\re\n" * (size // 9 + 1))[:size]
    body = multipart([("up", content, "big.bin", "application/octet-stream"), ("tail", b"t", None, None)],
                     boundary)
    r = post_form(srv, "/forms/f", body, "multipart/form-data; boundary=BlockBorder")
    assert r.status == 200, (r, srv.log()[-2000:])
    fields = {f["name"]: f for f in r.json()["fields"]}
    assert fields["up"]["len"] == size and fields["tail"]["value"] == "t"


def test_fieldstorage_large_upload_is_spooled_to_a_file(srv):
    content = os.urandom(1024) * 700   # 700 KiB
    body = multipart([("up", content, "big.bin", "application/octet-stream"), ("x", b"y", None, None)],
                     b"SpoolBoundary")
    r = post_form(srv, "/forms/f", body, "multipart/form-data; boundary=SpoolBoundary",
                 pieces=list(range(100000, len(body), 100000)), delay=0.01)
    assert r.status == 200, (r, srv.log()[-2000:])
    fields = {f["name"]: f for f in r.json()["fields"]}
    assert fields["up"]["len"] == len(content) and fields["up"]["value_same"]
    assert fields["up"]["on_disk"] is True
    assert fields["x"]["value"] == "y"

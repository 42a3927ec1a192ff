import os

import pytest

from conftest import FakeReq
from mod_python import apache, util

BOUNDARY = "----subhttpdTestBoundary7MA4YWxk"


def multipart(parts, boundary=BOUNDARY, preamble=b"", epilogue=b""):
    """parts: (name, value bytes/str) or (name, filename, content bytes, ctype)."""
    out = [preamble]
    for p in parts:
        out.append(b"--" + boundary.encode() + b"\r\n")
        if len(p) == 2:
            name, value = p
            if isinstance(value, str):
                value = value.encode("utf-8")
            out.append(b'Content-Disposition: form-data; name="%s"\r\n\r\n' % name.encode())
            out.append(value)
        else:
            name, filename, content, ctype = p
            out.append(b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                       % (name.encode(), filename.encode()))
            out.append(b"Content-Type: %s\r\n\r\n" % ctype.encode())
            out.append(content)
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    out.append(epilogue)
    return b"".join(out)


def post_multipart(body, boundary=BOUNDARY, chunk=7, args=None, **kw):
    req = FakeReq("POST", args=args, body=body, chunk=chunk,
                  headers={"Content-Type": "multipart/form-data; boundary=%s" % boundary})
    return req, util.FieldStorage(req, **kw)


# ---------------------------------------------------------------- query strings

def test_parse_qsl_and_qs():
    assert util.parse_qsl("a=1&b=2&a=3") == [("a", "1"), ("b", "2"), ("a", "3")]
    assert util.parse_qs("a=1&b=2&a=3") == {"a": ["1", "3"], "b": ["2"]}
    assert util.parse_qsl("a=&b=x") == [("b", "x")]
    assert util.parse_qsl("a=&b=x", 1) == [("a", ""), ("b", "x")]
    assert util.parse_qsl("x=hello+world%21&y=%C3%A9t%C3%A9") == [
        ("x", "hello world!"), ("y", "\u00e9t\u00e9")]
    assert util.parse_qsl(b"k=%E2%82%AC") == [("k", "\u20ac")]
    assert util.parse_qsl("") == [] and util.parse_qsl(None) == []


def test_query_string_only_on_get():
    req = FakeReq("GET", args="name=joe&tag=a&tag=b&empty=")
    fs = util.FieldStorage(req)
    assert fs["name"] == "joe"
    assert isinstance(fs["name"], util.StringField)
    assert fs["name"].value == "joe" and type(fs["name"].value) is str
    assert fs.getlist("tag") == ["a", "b"]
    assert fs["tag"] == ["a", "b"]
    assert "empty" not in fs
    assert fs.keys() == ["name", "tag"]
    assert len(fs) == 2
    assert req.read_calls == 0          # GET bodies are not form data


def test_keep_blank_values():
    fs = util.FieldStorage(FakeReq("GET", args="a=&b=1"), keep_blank_values=1)
    assert fs["a"] == "" and fs.getfirst("a") == ""
    assert fs.keys() == ["a", "b"]


def test_urlencoded_body_merged_with_query():
    body = b"name=Jos%C3%A9&color=red&color=blue&blank="
    req = FakeReq("POST", args="page=2&color=green", body=body, chunk=5,
                  headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    fs = util.FieldStorage(req)
    assert fs["page"] == "2"
    assert fs["name"] == "Jos\u00e9"
    assert fs.getlist("color") == ["green", "red", "blue"]
    assert fs.getfirst("color") == "green"
    assert "blank" not in fs
    assert [f.name for f in fs.list] == ["page", "color", "name", "color", "color"]


def test_post_without_content_type_is_urlencoded():
    fs = util.FieldStorage(FakeReq("POST", body=b"a=1"))
    assert fs["a"] == "1"


def test_unknown_content_type_is_501():
    req = FakeReq("POST", body=b"{}", headers={"Content-Type": "application/json"})
    with pytest.raises(apache.SERVER_RETURN) as e:
        util.FieldStorage(req)
    assert e.value.args[0] == apache.HTTP_NOT_IMPLEMENTED


def test_bad_content_length_is_400():
    req = FakeReq("POST", body=b"a=1", headers={"Content-Length": "x"})
    with pytest.raises(apache.SERVER_RETURN) as e:
        util.FieldStorage(req)
    assert e.value.args[0] == apache.HTTP_BAD_REQUEST


def test_reads_no_more_than_content_length():
    req = FakeReq("POST", body=b"a=1&b=2TRAILING", headers={"Content-Length": "7"})
    fs = util.FieldStorage(req)
    assert fs["b"] == "2"
    assert req._body.read() == b"TRAILING"


# ---------------------------------------------------------------- multipart

TRICKY = (b"first line\r\n"
          b"bare CR here:\r and bare LF here:\n"
          b"--" + BOUNDARY.encode() + b"X not a boundary\r\n"
          b"--" + BOUNDARY.encode()[:-3] + b"\r\n"
          b"\r\n--" + BOUNDARY.encode() + b" trailing text\r\n"
          b"ends with CRLF\r\n")


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 100000])
def test_multipart_fields_and_files(chunk):
    body = multipart([
        ("title", "Hello \u00e9"),
        ("tag", "a"),
        ("tag", "b"),
        ("empty", ""),
        ("upload", "tricky.bin", TRICKY, "application/octet-stream"),
        ("upload", "second.txt", b"\r\n\r\n", "text/plain"),
        ("nul", "zero.bin", b"", "application/octet-stream"),
    ], preamble=b"This is the preamble.\r\n", epilogue=b"and an epilogue\r\n")
    req, fs = post_multipart(body, chunk=chunk, args="q=1")
    assert fs.keys() == ["q", "title", "tag", "empty", "upload", "nul"]
    assert fs["title"] == "Hello \u00e9"
    assert fs["tag"] == ["a", "b"]
    assert fs["empty"] == ""         # multipart values are kept even when blank
    ups = fs.getlist("upload")
    assert [u.filename for u in ups] == ["tricky.bin", "second.txt"]
    assert ups[0].value == TRICKY
    assert ups[0].file.read() == TRICKY
    assert ups[1].value == b"\r\n\r\n"
    assert ups[1].type == "text/plain"
    assert fs["nul"].value == b""
    assert isinstance(fs["upload"], list)
    assert isinstance(ups[0], util.Field) and not isinstance(ups[0], str)
    assert ups[0].disposition == "form-data"
    assert ups[0].disposition_options == {"name": "upload", "filename": "tricky.bin"}
    assert ups[0].headers["content-type"] == "application/octet-stream"
    assert ups[0].type_options == {}
    assert fs["title"].filename is None
    assert fs["title"].disposition_options == {"name": "title"}


def test_boundary_split_at_every_position():
    content = b"x" * 50 + b"\r\n" + b"y" * 10
    body = multipart([("f", "a.txt", content, "text/plain"), ("after", "ok")])
    for chunk in range(1, 40):
        _, fs = post_multipart(body, chunk=chunk)
        assert fs["f"].value == content, chunk
        assert fs["after"] == "ok", chunk


def test_file_ending_in_cr_and_lf():
    for content in (b"a\r", b"a\n", b"a\r\n", b"\r", b"\n", b"\r\r\n\n", b"--", b"-"):
        body = multipart([("f", "x", content, "text/plain"), ("g", "y", content, "text/plain")])
        for chunk in (1, 3, 1000):
            _, fs = post_multipart(body, chunk=chunk)
            assert fs["f"].value == content
            assert fs["g"].value == content


def test_large_upload_is_spooled_to_disk():
    content = os.urandom(300 * 1024) + b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n" + os.urandom(1000)
    body = multipart([("big", "big.bin", content, "application/octet-stream"), ("x", "1")])
    req, fs = post_multipart(body, chunk=65536)
    f = fs["big"].file
    assert f._rolled is True                        # SpooledTemporaryFile went to disk
    assert os.fstat(f.fileno()).st_size == len(content)
    assert fs["big"].value == content
    assert fs["x"] == "1"


def test_small_upload_stays_in_memory():
    _, fs = post_multipart(multipart([("f", "s.txt", b"small", "text/plain")]))
    assert fs["f"].file._rolled is False
    assert fs["f"].value == b"small"


def test_quoted_boundary_and_options():
    b = "simple boundary"
    body = multipart([("a", "1")], boundary=b)
    req = FakeReq("POST", body=body, headers={
        "Content-Type": 'multipart/form-data; charset=utf-8; boundary="%s"' % b})
    assert util.FieldStorage(req)["a"] == "1"


def test_missing_boundary_is_400():
    req = FakeReq("POST", body=b"xx", headers={"Content-Type": "multipart/form-data"})
    with pytest.raises(apache.SERVER_RETURN) as e:
        util.FieldStorage(req)
    assert e.value.args[0] == apache.HTTP_BAD_REQUEST


def test_lf_only_and_padding_tolerated():
    body = (b"--B \t\n"
            b"Content-Disposition: form-data; name=\"a\"\n\n"
            b"one\n"
            b"--B\n"
            b"Content-Disposition: form-data;\n name=\"b\"\n\n"
            b"two\n"
            b"--B--")
    _, fs = post_multipart(body, boundary="B", chunk=2)
    assert fs["a"] == "one" and fs["b"] == "two"


def test_part_starting_with_delimiter_and_no_name():
    body = (b"--B\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n--B\r\n"
            b"Content-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--B--\r\n")
    _, fs = post_multipart(body, boundary="B", chunk=1)
    assert fs["e"] == "" and fs["f"] == "v"


def test_truncated_body_keeps_what_arrived():
    body = multipart([("a", "1"), ("f", "x", b"partial data", "text/plain")])
    body = body[:body.index(b"partial") + 7]
    _, fs = post_multipart(body)
    assert fs["a"] == "1"
    assert fs["f"].value == b"partial"


def test_filename_variants():
    body = (b"--B\r\n"
            b"Content-Disposition: form-data; name=\"w\"; filename=\"C:\\\\dir\\\\a b;c.txt\"\r\n"
            b"Content-Type: weird\r\n\r\nX\r\n"
            b"--B\r\n"
            b"Content-Disposition: form-data; name=\"u\"; filename*=UTF-8''%E2%82%AC.txt\r\n\r\nY\r\n"
            b"--B--\r\n")
    _, fs = post_multipart(body, boundary="B")
    assert fs["w"].filename == "C:\\dir\\a b;c.txt"
    assert fs["w"].type == "application/octet-stream"
    assert fs["u"].filename == "\u20ac.txt"


def test_callbacks():
    made = []

    class Store(object):
        def __init__(self, advisory_filename):
            import io
            self.advisory_filename = advisory_filename
            self.buf = io.BytesIO()
            made.append(self)

        def write(self, b):
            return self.buf.write(b)

        def seek(self, *a):
            return self.buf.seek(*a)

        def read(self, *a):
            return self.buf.read(*a)

    fields = []

    def field_cb():
        import io
        fields.append(io.BytesIO())
        return fields[-1]

    body = multipart([("f", "name.txt", b"data", "text/plain"), ("v", "val")])
    _, fs = post_multipart(body, file_callback=Store, field_callback=field_cb)
    assert made[0].advisory_filename == "name.txt"
    assert fs["f"].file is made[0] and fs["f"].value == b"data"
    assert fs["v"] == "val" and fs["v"].file is fields[0]


# ---------------------------------------------------------------- mapping API

def test_mapping_api():
    fs = util.FieldStorage(FakeReq("GET", args="a=1&b=2&a=3"))
    assert fs.get("a") == ["1", "3"]
    assert fs.get("zz", "dflt") == "dflt"
    assert fs.getfirst("zz") is None and fs.getfirst("zz", 5) == 5
    assert fs.getlist("zz") == []
    assert fs.has_key("b") and "b" in fs and "zz" not in fs
    assert fs.items() == [("a", "1"), ("b", "2"), ("a", "3")]
    with pytest.raises(KeyError):
        fs["zz"]
    fs.add_field("b", "4")
    assert fs["b"] == ["2", "4"]
    fs["b"] = "5"
    assert fs["b"] == "5"
    del fs["a"]
    assert fs.keys() == ["b"]
    assert list(fs) == ["b"]
    fs.clear()
    assert len(fs) == 0


def test_stringfield():
    s = util.StringField("abc")
    assert isinstance(s, str) and s == "abc" and s.value == "abc"
    assert s.file.read() == b"abc"
    assert s.filename is None


# ---------------------------------------------------------------- apply_fs_data

def test_apply_fs_data_filters_arguments():
    fs = util.FieldStorage(FakeReq("GET", args="a=1&b=2&b=3&c=4&req=evil"))

    def f(req, a, b=None):
        return (req, a, b)

    assert apply(f, fs) == ("REQ", "1", ["2", "3"])

    def g(a, **kw):
        return a, kw

    assert apply(g, fs) == ("1", {"req": "REQ", "b": ["2", "3"], "c": "4"})

    class C(object):
        def __init__(self, c):
            self.c = c

        def meth(self, a):
            return a

        def __call__(self, b):
            return b

    assert apply(C, fs).c == "4"
    assert apply(C("x").meth, fs) == "1"
    assert apply(C("x"), fs) == ["2", "3"]
    assert util.apply_fs_data(dict, fs) == {}      # no signature: called bare


def apply(fn, fs, **kw):
    kw.setdefault("req", "REQ")
    return util.apply_fs_data(fn, fs, **kw)


def test_apply_fs_data_passes_upload_field():
    body = multipart([("up", "f.txt", b"content", "text/plain")])
    _, fs = post_multipart(body)
    got = util.apply_fs_data(lambda up: up, fs)
    assert isinstance(got, util.Field) and got.value == b"content"


# ---------------------------------------------------------------- redirect

@pytest.mark.parametrize("permanent,status", [(0, 302), (1, 301)])
def test_redirect(permanent, status):
    req = FakeReq()
    with pytest.raises(apache.SERVER_RETURN) as e:
        util.redirect(req, "/new?a=1&b=<2>", permanent=permanent)
    assert e.value.args[0] == apache.DONE
    assert req.status == status
    assert req.err_headers_out["Location"] == "/new?a=1&b=<2>"
    assert b'href="/new?a=1&amp;b=&lt;2&gt;"' in bytes(req.out)


def test_redirect_custom_text_and_after_headers_sent():
    req = FakeReq()
    with pytest.raises(apache.SERVER_RETURN):
        util.redirect(req, "http://x/", text="moved!")
    assert req.text == "moved!"
    req = FakeReq()
    req.sent_bodyct = 1
    with pytest.raises(IOError):
        util.redirect(req, "http://x/")

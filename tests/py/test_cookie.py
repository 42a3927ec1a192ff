import time

import pytest

from conftest import FakeReq
from mod_python import Cookie


def test_cookie_output_with_attributes():
    c = Cookie.Cookie("spam", "eggs", path="/", domain=".example.com", secure=True,
                      httponly=True, max_age=300, version=1, comment="hi")
    s = str(c)
    assert s.startswith("spam=eggs; ")
    parts = s.split("; ")
    for p in ("version=1", "path=/", "domain=.example.com", "secure", "comment=hi",
              "Max-Age=300", "HttpOnly"):
        assert p in parts, p
    assert repr(c) == "<Cookie: %s>" % s


def test_false_flags_are_not_written():
    assert str(Cookie.Cookie("a", "b", secure=False)) == "a=b"


def test_expires_number_and_string():
    c = Cookie.Cookie("a", "b")
    c.expires = 0
    assert c.expires == "Thu, 01-Jan-1970 00:00:00 GMT"
    c.expires = 1055558556
    assert c.expires == "Sat, 14-Jun-2003 02:42:36 GMT"
    c.expires = "Sat, 14-Jun-2003 02:42:36 GMT"
    assert "expires=Sat, 14-Jun-2003 02:42:36 GMT" in str(c)
    c.expires = "Sat, 14 Jun 2003 02:42:36 GMT"
    for bad in ("tomorrow", "Sat, 31-Feb-2003 02:42:36 GMT", "Sat, 14-Jun-2003 25:00:00 GMT", None):
        with pytest.raises(ValueError):
            c.expires = bad
    c2 = Cookie.Cookie("x", "y", expires=time.time() + 300)
    assert c2.expires.endswith(" GMT")


def test_only_valid_attributes():
    c = Cookie.Cookie("a", "b")
    with pytest.raises(AttributeError):
        c.color = "red"
    with pytest.raises(AttributeError):
        Cookie.Cookie("a", "b", bogus=1)
    assert not hasattr(c, "path")
    c.__data__["anything"] = 1


def test_parse_request_header():
    d = Cookie.Cookie.parse("spam=eggs; foo=bar baz;  empty=; q=\"a;b\"")
    assert sorted(d) == ["empty", "foo", "q", "spam"]
    assert d["spam"].value == "eggs" and d["spam"].name == "spam"
    assert d["foo"].value == "bar baz"
    assert d["empty"].value == ""
    assert d["q"].value == '"a;b"'
    assert all(type(c) is Cookie.Cookie for c in d.values())


def test_parse_set_cookie_attributes_and_rfc2965():
    d = Cookie.Cookie.parse("spam=eggs; expires=Sat, 14-Jun-2003 02:42:36 GMT; Path=/x; Secure")
    assert list(d) == ["spam"]
    c = d["spam"]
    assert c.expires == "Sat, 14-Jun-2003 02:42:36 GMT" and c.path == "/x" and c.secure is True
    d = Cookie.Cookie.parse('$Version="1"; a=1; $Path="/"; b=2')
    assert sorted(d) == ["a", "b"]
    assert d["a"].path == '"/"'


def test_round_trip():
    c = Cookie.Cookie("sess", "abc123", path="/app")
    back = Cookie.parse(str(c))["sess"]
    assert back.value == "abc123" and back.path == "/app"


def test_signed_cookie_round_trip_and_tamper():
    c = Cookie.SignedCookie("user", "joe", "s3cret", path="/")
    s = str(c)
    name, _, rest = s.partition("=")
    wire = rest.split(";")[0]
    assert len(wire) == 32 + 3 and wire.endswith("joe")
    d = Cookie.SignedCookie.parse(wire and "user=" + wire, "s3cret")
    assert type(d["user"]) is Cookie.SignedCookie and d["user"].value == "joe"

    tampered = "user=" + wire[:-3] + "bob"
    d = Cookie.SignedCookie.parse(tampered, "s3cret")
    assert type(d["user"]) is Cookie.Cookie         # downgraded: signature failed
    assert d["user"].value == wire[:-3] + "bob"
    assert Cookie.SignedCookie.parse(tampered, "s3cret", mismatch=Cookie.Cookie.IGNORE) == {}
    with pytest.raises(Cookie.CookieError):
        Cookie.SignedCookie.parse(tampered, "s3cret", mismatch=Cookie.Cookie.EXCEPTION)
    # wrong secret, or the signature moved to another name
    assert type(Cookie.SignedCookie.parse("user=" + wire, "other")["user"]) is Cookie.Cookie
    assert type(Cookie.SignedCookie.parse("admin=" + wire, "s3cret")["admin"]) is Cookie.Cookie


def test_signed_cookie_needs_secret():
    with pytest.raises(Cookie.CookieError):
        str(Cookie.SignedCookie("a", "b"))


def test_marshal_cookie():
    value = {"egg_count": 32, "color": "white", "list": [1, 2.5, "x"], "t": (None, True)}
    c = Cookie.MarshalCookie("spam", value, "secret007")
    header = str(c)
    d = Cookie.MarshalCookie.parse(header, "secret007")
    assert type(d["spam"]) is Cookie.MarshalCookie
    assert d["spam"].value == value
    raw = header.split("=", 1)[1]
    assert Cookie.MarshalCookie.parse("spam=" + raw[:-4] + "AAAA", "secret007",
                                      mismatch=Cookie.Cookie.IGNORE) == {}
    bad = Cookie.MarshalCookie.parse(header, "wrong")["spam"]
    assert type(bad) is Cookie.Cookie and bad.value == raw


def test_marshal_cookie_signed_garbage_is_rejected():
    c = Cookie.SignedCookie("m", "!!not base64!!", "k")
    d = Cookie.MarshalCookie.parse(str(c), "k")
    assert type(d["m"]) is Cookie.Cookie
    c = Cookie.SignedCookie("m", "AAAA", "k")       # valid base64, bad marshal data
    assert type(Cookie.MarshalCookie.parse(str(c), "k")["m"]) is Cookie.Cookie


def test_add_cookie_and_get_cookies():
    req = FakeReq()
    Cookie.add_cookie(req, Cookie.Cookie("a", "1", path="/"))
    Cookie.add_cookie(req, "b", "2", max_age=60)
    assert req.headers_out.getall("Set-Cookie") == ["a=1; path=/", "b=2; Max-Age=60"]
    assert req.headers_out.getall("Cache-Control") == ['no-cache="set-cookie"']

    req = FakeReq(headers={"Cookie": "a=1; b=2"})
    req.headers_in.add("Cookie", "c=3")
    cookies = Cookie.get_cookies(req)
    assert sorted(cookies) == ["a", "b", "c"]
    assert Cookie.get_cookie(req, "b").value == "2"
    assert Cookie.get_cookie(req, "zz") is None
    assert Cookie.get_cookies(FakeReq()) == {}


def test_get_cookie_signed_and_marshal():
    value = [1, "two"]
    req = FakeReq(headers={"Cookie": "plain=x; %s; %s" % (
        Cookie.SignedCookie("s", "v", "k"), Cookie.MarshalCookie("m", value, "k"))})
    s = Cookie.get_cookie(req, "s", Cookie.SignedCookie, secret="k")
    assert type(s) is Cookie.SignedCookie and s.value == "v"
    m = Cookie.get_cookies(req, Cookie.MarshalCookie, secret="k")
    assert m["m"].value == value
    assert type(m["plain"]) is Cookie.Cookie

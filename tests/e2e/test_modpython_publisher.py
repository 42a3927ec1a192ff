"""mod_python.publisher, Cookie and the sample application through the real
server (issue 5): publisher dispatch, what it refuses, __auth__ / __access__,
uploads, cookies set and read back, and samples/ as shipped. The published
modules are apps/modpython/publisher/ and apps/modpython/cookies/."""

import pytest

from conftest import app_tree, basic_auth, multipart, post_raw, send_raw
from modpython_site import HOST, get, mp_server

BLOCKS = """
[[site.directory]]
path = "pub"
handler = "mod_python.publisher"

[[site.directory]]
path = "cookies"
handler = "cookies"
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    files = app_tree("modpython/publisher", "mp/pub")
    files.update(app_tree("modpython/cookies", "mp/cookies"))
    yield from mp_server(tmp_path_factory, BLOCKS, files)


# ---------------------------------------------------------------- publisher

def test_publisher_dispatch(srv):
    def page(path, **kw):
        return get(srv, "/pub/" + path, **kw)
    r = page("")
    assert r.status == 200 and r.text == "publisher index", (r, srv.log()[-2000:])
    assert page("index.py").text == "publisher index"
    assert page("index/hello?name=ann&n=3").text == "hello ann x3"
    assert page("index.py/hello").text == "hello world x1"
    assert page("hello?name=bo").text == "hello bo x1"     # an object of index.py
    assert page("index/noreq?a=A&extra=ignored").text == "a=A b=B"
    assert page("index/kw?x=1&y=2").text == "x=1,y=2"
    r = page("index/html")
    assert r.headers["Content-Type"].startswith("text/html")
    r = page("index/hello")
    assert r.headers["Content-Type"].startswith("text/plain")
    r = page("index/typed")
    assert r.headers["Content-Type"].startswith("text/csv") and r.text == "a,b\n1,2\n"
    assert page("index/gen").text == "item0;item1;item2;"
    assert page("index/number").text == "42"
    assert page("index/callme?x=7").text == "called with x=7"   # a callable instance
    assert page("index/plain").text == "plain instance"           # published as str()
    # the module's __auth__ guards every object in it
    assert page("other").status == 401
    assert page("other/echo?v=zz", headers={"Authorization": basic_auth("dave", "pw")}).text == "echo zz"
    r = srv.post("/pub/index/hello", b"name=posted", host=HOST,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.text == "hello posted x1"
    assert page("sub/open/page").text == "open page"


@pytest.mark.parametrize("path, status", [
    ("index/_private", 403), ("index/__doc__", 403), ("index/module_ref", 403),
    ("index/module_ref/path", 403), ("index/Thing", 403), ("index/missing", 404),
    ("nosuchmodule/x", 404), ("index/number/real", 403),
])
def test_publisher_refuses(srv, path, status):
    assert get(srv, "/pub/" + path).status == status


def test_publisher_method_not_allowed(srv):
    r = srv.request("PUT", "/pub/index/hello", body=b"", host=HOST)
    assert r.status == 405 and "GET" in r.headers["Allow"]


def test_publisher_auth(srv):
    r = get(srv, "/pub/index/secret")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Vault"'
    r = get(srv, "/pub/index/secret", headers={"Authorization": basic_auth("bob", "nope")})
    assert r.status == 401
    r = get(srv, "/pub/index/secret", headers={"Authorization": basic_auth("bob", "builder")})
    assert r.status == 200 and r.text == "vault opened by bob"
    assert get(srv, "/pub/index/blocked").status == 403
    # __auth__ as a callable on an instance
    r = get(srv, "/pub/index/area/page")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Area"'
    r = get(srv, "/pub/index/area/page", headers={"Authorization": basic_auth("carol", "pw")})
    assert r.status == 200 and r.text == "area page for carol"
    # module-level __auth__
    r = get(srv, "/pub/other/guarded", headers={"Authorization": basic_auth("dave", "pw")})
    assert r.status == 200 and r.text == "guarded for dave"
    r = get(srv, "/pub/other/guarded")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Other"'


def test_publisher_upload(srv):
    body = multipart([("f", b"file body\r\n", "up.txt", "text/plain")], b"PubB")
    r = post_raw(srv, "/pub/index/upload", body, "multipart/form-data; boundary=PubB", HOST)
    assert r.status == 200 and r.text == "up.txt:11", (r, srv.log()[-2000:])


# ---------------------------------------------------------------- cookies

def test_cookies_set_and_read_back(srv):
    r = get(srv, "/cookies/c/set")
    assert r.status == 200, (r, srv.log()[-2000:])
    set_cookies = r.headers.get_all("Set-Cookie")
    assert len(set_cookies) == 4
    pairs = [c.split(";")[0] for c in set_cookies]
    by_name = dict(p.split("=", 1) for p in pairs)
    assert set(by_name) == {"plain", "signed", "marsh", "simple"}
    assert any("expires=" in c.lower() for c in set_cookies if c.startswith("simple="))
    assert by_name["signed"].endswith("trusted") and len(by_name["signed"]) == 32 + len("trusted")
    cookie = "; ".join(pairs)
    d = get(srv, "/cookies/c/get", headers={"Cookie": cookie}).json()
    assert d == {"plain": "value one", "signed_cls": "SignedCookie", "signed": "trusted",
                 "marsh_cls": "MarshalCookie", "marsh": {"n": 1, "l": [1, 2]}}
    # the cookies in two Cookie headers
    raw_req = ("GET /cookies/c/get HTTP/1.1\r\nHost: mp.test\r\nConnection: close\r\n"
               "Cookie: %s; %s\r\nCookie: %s\r\n\r\n" % (pairs[0], pairs[1], pairs[2]))
    d2 = send_raw(srv, [raw_req.encode()]).json()
    assert d2 == d
    # a tampered signature: the cookie is downgraded to a plain Cookie
    bad = cookie.replace("signed=" + by_name["signed"][:4], "signed=0000")
    d = get(srv, "/cookies/c/get", headers={"Cookie": bad}).json()
    assert d["signed_cls"] == "Cookie"


# ---------------------------------------------------------------- the sample application

def sample(srv, method, path, body=None, headers=None):
    return srv.request(method, path, body=body, headers=headers, host="modpython.localhost")


def test_sample_app_publisher_pages(sample_srv):
    r = sample(sample_srv, "GET", "/")
    assert r.status == 200, (r, sample_srv.log()[-3000:])
    assert "mod_python" in r.text and r.headers["Content-Type"].startswith("text/html")
    r = sample(sample_srv, "GET", "/hello?name=Ada")
    assert r.status == 200 and "Hello, Ada" in r.text
    assert sample(sample_srv, "GET", "/_helpers").status in (403, 404)


def test_sample_app_form_and_upload(sample_srv):
    r = sample(sample_srv, "POST", "/form", body=b"name=Grace&colour=blue",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200 and "Grace" in r.text and "blue" in r.text, r
    body = multipart([("upload", b"hello\r\nworld\n", "notes.txt", "text/plain")], b"SampleB")
    r = sample(sample_srv, "POST", "/upload", body=body,
               headers={"Content-Type": "multipart/form-data; boundary=SampleB"})
    assert r.status == 200 and "notes.txt" in r.text and "13 bytes" in r.text, r


def test_sample_app_private_page(sample_srv):
    r = sample(sample_srv, "GET", "/private")
    assert r.status == 401 and 'realm="Sample"' in r.headers["WWW-Authenticate"]
    r = sample(sample_srv, "GET", "/private", headers={"Authorization": basic_auth("admin", "secret")})
    assert r.status == 200 and "Welcome, admin" in r.text


def test_sample_app_cookie(sample_srv):
    r = sample(sample_srv, "GET", "/visits")
    assert r.status == 200 and "visit 1" in r.text, r
    cookie = r.headers["Set-Cookie"].split(";")[0]
    r = sample(sample_srv, "GET", "/visits", headers={"Cookie": cookie})
    assert "visit 2" in r.text, r


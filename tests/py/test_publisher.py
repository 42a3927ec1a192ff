import base64
import os
import textwrap

import pytest

from conftest import FakeReq
from mod_python import apache, publisher

INDEX = '''
import os
from os import getpid

def index(req):
    return "We are in index()"

def hello(req):
    return "We are in hello()"

def echo(req, a, b="dflt", *, c="kw"):
    return "a=%s b=%s c=%s req=%s" % (a, b, c, req is not None)

def kwargs(**kw):
    return ",".join("%s=%s" % kv for kv in sorted(kw.items() if "req" not in kw else
                                                   [(k, v) for k, v in kw.items() if k != "req"]))

def noargs():
    return "no args"

def _private(req):
    return "secret"

def html(req):
    return "<html><body>hi</body></html>\\n"

def unicode(req):
    return "caf\\u00e9 \\u20ac"

def typed(req):
    req.content_type = "text/csv"
    return "a,b"

def latin(req):
    req.content_type = "text/plain; charset=iso-8859-1"
    return "caf\\u00e9"

def as_bytes(req):
    return b"\\x00\\x01raw"

def gen(req, n="3"):
    for i in range(int(n)):
        yield "line %d\\n" % i

def gen_html(req):
    yield "<!DOCTYPE html>"
    yield "<p>x</p>"

def number(req):
    return 42

def nothing(req):
    return None

def writes(req):
    req.write("direct")

def returns_callable(req):
    return lambda req, a="none": "inner a=" + a

class Thing(object):
    label = "a thing"
    def method(self, req, x="1"):
        return "method x=" + x
    def __str__(self):
        return "Thing!"

thing = Thing()
items = ["a", "b"]
table = {"k": "v"}
'''

HELLO = '''
def say(req, what="NOTHING"):
    return "I am saying %s" % what

def index(req):
    return "hello index"
'''

SECURE = '''
__auth_realm__ = "Members only"
__auth__ = {"eggs": "spam", "joe": "eoj"}
__access__ = ["eggs"]

def hello(req):
    return "hello " + req.user
'''

FUNCAUTH = '''
def sensitive(req):
    def __auth__(req, user, password):
        return user == "spam" and password == "eggs"
    __auth_realm__ = "Sensitive"
    return "sensitive information"

def closed(req):
    __auth__ = 0
    return "never"

def listed(req):
    __auth__ = {"u": "p"}
    __access__ = ["u", "v"]
    return "listed ok"

def open_(req):
    return "open"

class Guarded(object):
    def __auth__(self, req, user, passwd):
        return passwd == "pw"
    def __access__(self, req, user):
        return user == "ok"
    def page(self, req):
        return "guarded page"

guarded = Guarded()

def login_check(req, user, passwd):
    return user == passwd

def via_attr(req):
    return "attr ok"
via_attr.__auth__ = login_check
'''


@pytest.fixture
def site(tmp_path):
    (tmp_path / "index.py").write_text(INDEX)
    (tmp_path / "hello.py").write_text(HELLO)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "secure.py").write_text(SECURE)
    (sub / "funcauth.py").write_text(FUNCAUTH)
    (tmp_path / "empty").mkdir()
    return tmp_path


def run(site, path, path_info="", method="GET", args=None, body=b"", headers=None):
    req = FakeReq(method, uri="/" + path + path_info, args=args, body=body,
                  headers=headers, filename=os.path.join(str(site), path),
                  path_info=path_info, document_root=str(site))
    try:
        rc = publisher.handler(req)
    except apache.SERVER_RETURN as e:
        rc = e.args[0]
    return rc, req


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


# ---------------------------------------------------------------- resolution

def test_documented_example(site):
    rc, req = run(site, "hello.py", "/say")
    assert rc == apache.OK and req.text == "I am saying NOTHING"
    rc, req = run(site, "hello.py", "/say", args="what=hello")
    assert req.text == "I am saying hello"
    assert req.content_type == "text/plain; charset=utf-8"
    assert req.allowed == ["GET", "POST", "HEAD"]


@pytest.mark.parametrize("path,path_info,text", [
    ("index", "/index", "We are in index()"),
    ("index", "/", "We are in index()"),
    ("index", "", "We are in index()"),
    ("index", "/hello", "We are in hello()"),
    ("index.py", "/hello/", "We are in hello()"),
    ("hello", "", "We are in hello()"),      # no hello.py? there is: module hello, func index
    ("", "", "We are in index()"),
    ("sub/../index.py", "", "We are in index()"),
])
def test_resolution(site, path, path_info, text):
    if path == "hello":
        text = "hello index"
    rc, req = run(site, path, path_info)
    assert rc == apache.OK
    assert req.text == text


def test_directory_and_fallback_to_index(site):
    req = FakeReq(filename=str(site) + "/", path_info="", document_root=str(site))
    assert publisher.handler(req) == apache.OK and req.text == "We are in index()"
    assert req.filename == os.path.join(str(site), "index.py")
    rc, req = run(site, "noargs")            # /noargs -> index.noargs
    assert req.text == "no args"
    rc, req = run(site, "hello.html", "/say")   # extension is dropped
    assert req.text == "I am saying NOTHING"


def test_not_found(site):
    assert run(site, "spam")[0] == apache.HTTP_NOT_FOUND
    assert run(site, "index.py", "/missing")[0] == apache.HTTP_NOT_FOUND
    assert run(site, "index.py", "/thing/nosuch")[0] == apache.HTTP_NOT_FOUND
    assert run(site, "empty", "/x")[0] == apache.HTTP_NOT_FOUND   # no index.py there
    assert run(site, "index.py", "/a//b")[0] == apache.HTTP_NOT_FOUND


@pytest.mark.parametrize("path_info", [
    "/_private", "/__dict__", "/hello/__globals__", "/thing/__class__", "/_", "/os/_exit",
])
def test_underscore_forbidden(site, path_info):
    rc, req = run(site, "index.py", path_info)
    assert rc == apache.HTTP_FORBIDDEN
    assert req.out == b""


@pytest.mark.parametrize("path_info", [
    "/os",              # a module
    "/os/system",       # traversing a module
    "/os.path",         # dots traverse too
    "/Thing",           # a class
    "/getpid",          # a builtin
    "/hello/func_name",  # functions cannot be traversed
    "/items/append",    # nor builtin values
    "/thing/label/upper",
])
def test_modules_classes_builtins_refused(site, path_info):
    rc, req = run(site, "index.py", path_info)
    assert rc == apache.HTTP_FORBIDDEN, path_info
    assert req.out == b""


def test_objects_and_methods(site):
    assert run(site, "index.py", "/thing/method", args="x=5")[1].text == "method x=5"
    assert run(site, "index.py", "/thing")[1].text == "Thing!"
    assert run(site, "index.py", "/thing/label")[1].text == "a thing"
    assert run(site, "index.py", "/items")[1].text == "['a', 'b']"
    assert run(site, "index.py", "/number")[1].text == "42"


def test_method_not_allowed(site):
    assert run(site, "index.py", "/hello", method="PUT")[0] == apache.HTTP_METHOD_NOT_ALLOWED


# ---------------------------------------------------------------- arguments

def test_arguments(site):
    rc, req = run(site, "index.py", "/echo", args="a=1&zzz=ignored&c=3")
    assert req.text == "a=1 b=dflt c=3 req=True"
    rc, req = run(site, "index.py", "/echo", method="POST", args="a=q",
                  body=b"b=posted&a=p2", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert req.text == "a=['q', 'p2'] b=posted c=kw req=True"
    assert req.form.getfirst("b") == "posted"
    rc, req = run(site, "index.py", "/kwargs", args="x=1&y=2&y=3")
    assert req.text == "x=1,y=['2', '3']"
    rc, req = run(site, "index.py", "/echo", args="a=&b=")     # blank values are kept
    assert req.text == "a= b= c=kw req=True"


def test_missing_required_argument_raises(site):
    with pytest.raises(TypeError):
        run(site, "index.py", "/echo")


def test_callable_returning_callable(site):
    assert run(site, "index.py", "/returns_callable", args="a=z")[1].text == "inner a=z"


# ---------------------------------------------------------------- output

def test_content_type_guessing_and_encoding(site):
    rc, req = run(site, "index.py", "/html")
    assert req.content_type == "text/html; charset=utf-8"
    rc, req = run(site, "index.py", "/unicode")
    assert bytes(req.out) == "caf\u00e9 \u20ac".encode("utf-8")
    rc, req = run(site, "index.py", "/typed")
    assert req.content_type == "text/csv; charset=utf-8" and req.text == "a,b"
    rc, req = run(site, "index.py", "/latin")
    assert req.content_type == "text/plain; charset=iso-8859-1"
    assert bytes(req.out) == b"caf\xe9"
    rc, req = run(site, "index.py", "/as_bytes")
    assert bytes(req.out) == b"\x00\x01raw" and req.content_type == "text/plain"


def test_generators(site):
    rc, req = run(site, "index.py", "/gen", args="n=4")
    assert rc == apache.OK
    assert req.text == "line 0\nline 1\nline 2\nline 3\n"
    assert req.content_type == "text/plain; charset=utf-8"
    rc, req = run(site, "index.py", "/gen_html")
    assert req.text == "<!DOCTYPE html><p>x</p>" and req.content_type.startswith("text/html")
    rc, req = run(site, "index.py", "/gen", args="n=0")
    assert rc == apache.OK and req.out == b""


def test_nothing_and_direct_writes(site):
    rc, req = run(site, "index.py", "/nothing")
    assert rc == apache.OK and req.out == b""
    rc, req = run(site, "index.py", "/writes")
    assert rc == apache.OK and req.text == "direct"


def test_head(site):
    rc, req = run(site, "index.py", "/hello", method="HEAD")
    assert rc == apache.OK
    assert req.content_type == "text/plain; charset=utf-8"
    # the body is produced so its length is known; the server drops it for HEAD
    assert req.text == "We are in hello()"


# ---------------------------------------------------------------- auth

def test_module_auth_dict_and_access_list(site):
    rc, req = run(site, "sub/secure.py", "/hello")
    assert rc == apache.HTTP_UNAUTHORIZED
    assert req.err_headers_out["WWW-Authenticate"] == 'Basic realm="Members only"'
    assert run(site, "sub/secure.py", "/hello", headers=basic("eggs", "wrong"))[0] == 401
    rc, req = run(site, "sub/secure.py", "/hello", headers=basic("joe", "eoj"))
    assert rc == apache.HTTP_FORBIDDEN       # authenticated, but not in __access__
    rc, req = run(site, "sub/secure.py", "/hello", headers=basic("eggs", "spam"))
    assert rc == apache.OK and req.text == "hello eggs"
    assert req.user == "eggs"


def test_bad_authorization_header(site):
    rc, _ = run(site, "sub/secure.py", "/hello", headers={"Authorization": "Basic !!!"})
    assert rc == apache.HTTP_BAD_REQUEST
    rc, _ = run(site, "sub/secure.py", "/hello", headers={"Authorization": "Bearer abc"})
    assert rc == apache.HTTP_UNAUTHORIZED


def test_auth_inside_function(site):
    rc, req = run(site, "sub/funcauth.py", "/sensitive")
    assert rc == 401 and req.err_headers_out["WWW-Authenticate"] == 'Basic realm="Sensitive"'
    assert run(site, "sub/funcauth.py", "/sensitive", headers=basic("spam", "bad"))[0] == 401
    rc, req = run(site, "sub/funcauth.py", "/sensitive", headers=basic("spam", "eggs"))
    assert rc == apache.OK and req.text == "sensitive information"
    assert run(site, "sub/funcauth.py", "/closed", headers=basic("a", "b"))[0] == 401
    assert run(site, "sub/funcauth.py", "/listed", headers=basic("u", "p"))[1].text == "listed ok"
    assert run(site, "sub/funcauth.py", "/listed", headers=basic("v", "p"))[0] == 401
    assert run(site, "sub/funcauth.py", "/open_")[1].text == "open"
    assert run(site, "sub/funcauth.py", "/via_attr", headers=basic("x", "x"))[1].text == "attr ok"
    assert run(site, "sub/funcauth.py", "/via_attr", headers=basic("x", "y"))[0] == 401


def test_auth_on_instances(site):
    assert run(site, "sub/funcauth.py", "/guarded/page")[0] == 401
    assert run(site, "sub/funcauth.py", "/guarded/page", headers=basic("ok", "no"))[0] == 401
    assert run(site, "sub/funcauth.py", "/guarded/page", headers=basic("bad", "pw"))[0] == 403
    rc, req = run(site, "sub/funcauth.py", "/guarded/page", headers=basic("ok", "pw"))
    assert rc == apache.OK and req.text == "guarded page"


def test_access_callable_and_constant(tmp_path):
    (tmp_path / "acc.py").write_text(textwrap.dedent('''
        def __access__(req, user):
            return req.args == "let=me"
        def page(req):
            return "in"
    '''))
    assert run(tmp_path, "acc.py", "/page")[0] == apache.HTTP_FORBIDDEN
    assert run(tmp_path, "acc.py", "/page", args="let=me")[1].text == "in"
    (tmp_path / "off.py").write_text("__access__ = 0\ndef page(req):\n    return 'x'\n")
    assert run(tmp_path, "off.py", "/page")[0] == apache.HTTP_FORBIDDEN


@pytest.mark.parametrize("path_info,text", [
    ("/index/hello", "We are in hello()"),
    ("/index/", "We are in index()"),
    ("/hello", "hello index"),
    ("/hello/say", "I am saying NOTHING"),
    ("/noargs", "no args"),
    ("/thing/method", "method x=1"),
    ("/sub/secure.py/hello", None),
])
def test_filename_at_last_existing_directory(site, path_info, text):
    # a router may stop req.filename at the deepest existing directory
    req = FakeReq(filename=str(site), path_info=path_info, document_root=str(site),
                  headers=basic("eggs", "spam"))
    rc = publisher.handler(req)
    assert rc == apache.OK
    assert req.text == (text or "hello eggs")

"""mod_python 3.5's test/test.py expectations for mod_python.publisher that
need nothing of Apache, one site per upstream virtual host (the published
code is ours): test_publisher_hierarchy, test_publisher_old_style_instance,
test_publisher_cache, test_publisher_auth_method_nested and
test_publisher_auth_digest."""

import os

import pytest

from conftest import basic_auth, serve_tree, vhost_text

SITES = """
[[site]]
server_name = "test_publisher"
document_root = "../htdocs"
handler = "mod_python.publisher"
debug = true

[[site]]
server_name = "test_publisher_hierarchy"
document_root = "../htdocs"
handler = "mod_python.publisher"
debug = true

[[site]]
server_name = "test_publisher_auth_method_nested"
document_root = "../htdocs"
handler = "mod_python.publisher"
debug = true

[[site]]
server_name = "test_publisher_auth_digest"
document_root = "../htdocs"
handler = "mod_python.publisher"
debug = true
"""

PAGES = '''
def index(req):
    return "test ok, interpreter=%s" % req.interpreter

def plain(req):
    return "test ok, interpreter=%s" % req.interpreter

class Node(object):
    def __init__(self, name):
        self.name = name
    def __call__(self, req):
        return "Called %s" % self.name

hierarchy_root = Node("root")
hierarchy_root.page1 = Node("page1")
hierarchy_root.page1.subpage1 = Node("subpage1")
hierarchy_root.page2 = Node("page2")

class Holder:  # no base class written, as an old-style class was
    pass

hierarchy_root_2 = Holder()
hierarchy_root_2.page1 = index
hierarchy_root_2.page2 = index

class OldStyle:
    def __call__(self, req):
        return "callable old-style instance ok"
    def traverse(self, req):
        return "traversable old-style instance ok"

old_instance = OldStyle()

class Guarded:
    def method(self, req):
        def __auth__(req, user, password):
            req.notes["auth_called"] = "1"
            return user == "spam" and password == "eggs"
        def __access__(req, user):
            req.notes["access_called"] = "1"
            return 1
        assert req.notes.get("auth_called") == "1"
        assert req.notes.get("access_called") == "1"
        return "test ok, interpreter=%s" % req.interpreter

guarded = Guarded()
'''

STAMPED = '''
import time
LOAD_TIME = time.time()

def index(req):
    return "OK %r" % LOAD_TIME
'''


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from serve_tree(tmp_path_factory, "pub", {"sites.d/up.toml": SITES, "htdocs/tests.py": PAGES,
                                                    "htdocs/temp.py": STAMPED})


def test_publisher_hierarchy(srv):
    v = "test_publisher_hierarchy"
    assert vhost_text(srv, v, "/tests.py/hierarchy_root") == "Called root"
    assert vhost_text(srv, v, "/tests.py/hierarchy_root/page1") == "Called page1"
    assert vhost_text(srv, v, "/tests.py/hierarchy_root/page1/subpage1") == "Called subpage1"
    assert vhost_text(srv, v, "/tests.py/hierarchy_root/page2") == "Called page2"
    ok = "test ok, interpreter=test_publisher_hierarchy"
    assert vhost_text(srv, v, "/tests.py/hierarchy_root_2/page1") == ok
    assert vhost_text(srv, v, "/tests.py/hierarchy_root_2/page2") == ok


def test_publisher_old_style_instance(srv):
    assert vhost_text(srv, "test_publisher", "/tests.py/old_instance") == "callable old-style instance ok"
    assert vhost_text(srv, "test_publisher", "/tests.py/old_instance/traverse") == "traversable old-style instance ok"


def test_publisher_cache(srv):
    # the module is loaded once, and again only when its file changes
    first = vhost_text(srv, "test_publisher", "/temp.py")
    assert first.startswith("OK ")
    assert vhost_text(srv, "test_publisher", "/temp.py") == first
    path = os.path.join(srv.root, "htdocs", "temp.py")
    with open(path, "a") as f:
        f.write("\n# edited\n")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 3 * 10**9))  # a new mtime, whatever the clock
    second = vhost_text(srv, "test_publisher", "/temp.py")
    assert second.startswith("OK ") and second != first
    assert vhost_text(srv, "test_publisher", "/temp.py") == second


def test_publisher_auth_method_nested(srv):
    v = "test_publisher_auth_method_nested"
    assert vhost_text(srv, v, "/tests.py/guarded/method", {"Authorization": basic_auth("spam", "eggs")}) == \
        "test ok, interpreter=" + v
    r = srv.request("GET", "/tests.py/guarded/method", host=v, headers={"Authorization": basic_auth("spam", "ham")})
    assert r.status == 401


def test_publisher_auth_digest(srv):
    # a Digest header (whatever its content) does not disturb a page without __auth__
    digest = ('Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
              'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", '
              'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    assert vhost_text(srv, "test_publisher_auth_digest", "/tests.py/plain", {"Authorization": digest}) == \
        "test ok, interpreter=test_publisher_auth_digest"

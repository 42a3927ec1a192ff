"""mod_python 3.5's test/test.py expectations for req.add_handler() in its
corner cases, one site per upstream virtual host (the handlers are ours):
test_req_add_bad_handler, test_req_add_empty_handler_string,
test_req_add_handler_empty_phase, test_req_add_handler_directory and
test_accesshandler_add_handler_to_empty_hl."""

import pytest

from conftest import serve_tree

SITES = """
[[site]]
server_name = "test_req_add_bad_handler"
document_root = "../htdocs"
python_path = ["../htdocs"]
handler = "uptests::add_bad_handler"
debug = true

[[site]]
server_name = "test_req_add_empty_handler_string"
document_root = "../htdocs"
python_path = ["../htdocs"]
handler = "uptests::add_empty_handler"
debug = true

# no content handler configured: the fixup adds one, with a directory
[[site]]
server_name = "test_req_add_handler_empty_phase"
document_root = "../htdocs"
python_path = ["../htdocs"]
interp_per_directive = true
fixup_handler = "uptests::fixup_adds_to_empty_phase"
debug = true

[[site]]
server_name = "test_req_add_handler_directory"
document_root = "../htdocs"
python_path = ["../htdocs"]
interp_per_directive = true
fixup_handler = "uptests::add_handler_directory"
debug = true

[[site]]
server_name = "test_accesshandler_add_handler_to_empty_hl"
document_root = "../htdocs"
python_path = ["../htdocs"]
access_handler = "uptests::access_adds_to_empty_list"
debug = true
"""

UPTESTS = '''
import os
from mod_python import apache

HERE = os.path.dirname(os.path.abspath(__file__))  # no trailing slash

def add_bad_handler(req):
    req.add_handler("PythonHandler", "uptests::no_such_function")
    req.write("test ok")
    return apache.OK

def add_empty_handler(req):
    try:
        req.add_handler("PythonHandler", "")
    except Exception as e:
        req.write("raised " + type(e).__name__)
        return apache.OK
    req.write("no exception")
    return apache.OK

def fixup_adds_to_empty_phase(req):
    if req.phase != "PythonHandler":
        req.add_handler("PythonHandler", "uptests::fixup_adds_to_empty_phase", HERE)
    else:
        req.write("test ok")
    return apache.OK

def add_handler_directory(req):
    if req.phase == "PythonFixupHandler":
        req.add_handler("PythonHandler", "uptests::add_handler_directory", HERE)
        return apache.OK
    d = req.hlist.directory
    ok = d.endswith("/") and os.path.normpath(d) == os.path.normpath(HERE)
    req.write("test ok" if ok else "test failed: %r" % d)
    return apache.OK

def access_adds_to_empty_list(req):
    req.secret_message = "foo"
    req.add_handler("PythonHandler", "uptests::secret")
    return apache.OK

def secret(req):
    if req.secret_message == "foo":
        req.write("test ok")
    return apache.OK
'''


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from serve_tree(tmp_path_factory, "addh", {"sites.d/up.toml": SITES, "htdocs/uptests.py": UPTESTS})


def vhost_get(srv, vhost):
    return srv.request("GET", "/tests.py", host=vhost)


def test_req_add_bad_handler(srv):
    # req.write() flushes: "test ok" has left with a 200 when the added handler
    # fails, so the response is cut short; the log names the missing function
    # (3.5 logs "module ... contains no 'bad_handler'"; the wording differs here)
    status, _, body, complete = srv.exchange("GET", "/tests.py", host="test_req_add_bad_handler")
    assert status == 200 and body.startswith(b"test ok") and not complete
    assert srv.wait_for(lambda: "no_such_function" in srv.log(), timeout=10), srv.log()[-2000:]


def test_req_add_empty_handler_string(srv):
    r = vhost_get(srv, "test_req_add_empty_handler_string")
    assert r.status == 200 and r.text == "raised ValueError", r


def test_req_add_handler_empty_phase(srv):
    r = vhost_get(srv, "test_req_add_handler_empty_phase")
    assert r.status == 200 and r.text == "test ok", (r, srv.log()[-2000:])


def test_req_add_handler_directory(srv):
    r = vhost_get(srv, "test_req_add_handler_directory")
    assert r.status == 200 and r.text == "test ok", (r, srv.log()[-2000:])


def test_accesshandler_add_handler_to_empty_hl(srv):
    r = vhost_get(srv, "test_accesshandler_add_handler_to_empty_hl")
    assert r.status == 200 and r.text == "test ok", (r, srv.log()[-2000:])

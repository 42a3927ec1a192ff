"""mod_python 3.5's phases around the router (postreadrequest, trans,
headerparser, init, type) in Apache's order with their return-code semantics,
req.internal_redirect() run within the call (req.prev / req.next), and
server.get_config() / req.hlist as 3.5 has them."""

import os
import re

import pytest

from conftest import app_source, run_cli, vhost_text

HOST = "ph.test"

SITES = """
[[site]]
server_name = "ph.test"
document_root = "../htdocs"
python_path = ["../lib"]
init_handler = "trail::init"
postreadrequest_handler = "trail::prr"
trans_handler = ["trail::tr1", "trail::tr2"]
headerparser_handler = "trail::hp"
access_handler = "trail::acc"
authen_handler = "trail::aut"
authz_handler = "trail::az"
type_handler = ["trail::ty1", "trail::ty2"]
fixup_handler = "trail::fx"
handler = "trail::h"
log_handler = "trail::log"
cleanup_handler = "trail::cl"

# init set in a block runs as the first headerparser handler
[[site]]
server_name = "blk.test"
document_root = "../htdocs"
python_path = ["../lib"]
postreadrequest_handler = "trail::prr"

[[site.directory]]
path = "d"
init_handler = "trail::init"
headerparser_handler = "trail::hp"
handler = "trail::h"
log_handler = "trail::log"

# trans maps URLs itself
[[site]]
server_name = "tr.test"
document_root = "../htdocs"
python_path = ["../lib"]
trans_handler = "mapper::trans"

[[site.directory]]
path = "app"
handler = "mapper::show"
debug = true

[[site.location]]
path = "/loc"
handler = "mapper::show"

[[site.directory]]
path = "redir"
handler = "mapper::redirect_src"

[[site.directory]]
path = "redir2"
handler = "mapper::redirect_dst"

# an internal redirect into another interpreter
[[site.directory]]
path = "xredir"
handler = "mapper::xredirect_src"
interpreter = "xsrc"

[[site.directory]]
path = "xredir2"
handler = "mapper::xredirect_dst"
interpreter = "xdst"
"""

TRAIL = app_source("mpphases/trail.py")

MAPPER = app_source("mpphases/mapper.py")


@pytest.fixture
def srv(make_server):
    return make_server({
        "sites.d/ph.toml": SITES,
        "lib/trail.py": TRAIL,
        "lib/mapper.py": MAPPER,
        "htdocs/static.txt": "static\n",
        "htdocs/app": None,
        "htdocs/d": None,
        "htdocs/redir": None,
        "htdocs/redir2": None,
        "htdocs/xredir": None,
        "htdocs/xredir2": None,
    })


def get(srv, path, host=HOST):
    return srv.request("GET", path, host=host)


def trail(srv, rid, query="", host=HOST, path="/x", status=200):
    r = get(srv, "%s?id=%s&%s" % (path, rid, query), host)
    assert r.status == status, (r, srv.log()[-2000:])
    file = os.path.join(srv.root, "lib", "trail-%s.txt" % rid)

    def check():
        try:
            with open(file) as f:
                text = f.read()
        except OSError:
            return None
        return text if "END" in text else None

    text = srv.wait_for(check, timeout=10)
    assert text, srv.log()[-2000:]
    lines = text.split()
    assert lines[-1] == "END"
    return r, lines[:-1]


def test_every_phase_runs_in_apache_order(srv):
    r, lines = trail(srv, "order")
    assert lines == [
        "init:PythonInitHandler", "prr:PythonPostReadRequestHandler",
        "tr1:PythonTransHandler", "tr2:PythonTransHandler",
        "hp:PythonHeaderParserHandler", "acc:PythonAccessHandler",
        "aut:PythonAuthenHandler", "az:PythonAuthzHandler",
        "ty1:PythonTypeHandler", "ty2:PythonTypeHandler", "fx:PythonFixupHandler",
        "h:PythonHandler", "log:PythonLogHandler", "cl:PythonCleanupHandler"]
    assert r.body == b"body"
    assert r.headers["Content-Type"] == "text/x-ty2"


def test_type_is_run_first_the_first_ok_decides(srv):
    r, lines = trail(srv, "type", "ty1=OK")
    assert [l.split(":")[0] for l in lines] == [
        "init", "prr", "tr1", "tr2", "hp", "acc", "aut", "az", "ty1", "fx", "h", "log", "cl"]
    assert r.headers["Content-Type"] == "text/x-ty1"


@pytest.mark.parametrize("query, status, ran", [
    # postreadrequest and headerparser are RUN_ALL: DECLINED goes on
    ("prr=DECLINED&hp=DECLINED", 200, "init prr tr1 tr2 hp acc aut az ty1 ty2 fx h log cl"),
    # an error in postreadrequest ends the request before trans; log and cleanup still run
    ("prr=HTTP_FORBIDDEN", 403, "init prr log cl"),
    ("init=raise:HTTP_NOT_FOUND", 404, "init log cl"),
    ("hp=HTTP_BAD_REQUEST", 400, "init prr tr1 tr2 hp log cl"),
    ("ty1=HTTP_UNSUPPORTED_MEDIA_TYPE", 415, "init prr tr1 tr2 hp acc aut az ty1 log cl"),
    # the first trans handler that returns an error ends the request
    ("tr1=HTTP_GONE", 410, "init prr tr1 log cl"),
])
def test_phase_return_codes(srv, query, status, ran):
    rid = re.sub(r"\W", "_", query)
    _, lines = trail(srv, rid, query, status=status)
    assert [l.split(":")[0] for l in lines] == ran.split()


def test_init_in_a_block_runs_as_the_first_headerparser_handler(srv):
    _, lines = trail(srv, "blk", host="blk.test", path="/d/x")
    assert lines == ["prr:PythonPostReadRequestHandler", "init:PythonInitHandler",
                     "hp:PythonHeaderParserHandler", "h:PythonHandler", "log:PythonLogHandler"]


def test_trans_ok_sets_the_filename_and_skips_url_mapping(srv):
    r = get(srv, "/virtual/anything", "tr.test")
    assert r.status == 200 and r.body == b"static\n", (r, srv.log()[-2000:])
    # the directory block holding the chosen filename applies
    r = get(srv, "/to-app/more/path", "tr.test")
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    assert d["filename"] == os.path.join(srv.root, "htdocs", "app", "page")
    assert d["path_info"] == "/more/path"
    assert d["uri"] == "/to-app/more/path"
    assert d["config_debug"] == "1"


def test_trans_declined_lets_the_router_map_the_changed_uri(srv):
    r = get(srv, "/rewrite", "tr.test")
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    assert d["uri"] == "/app/rewritten"
    assert d["filename"] == os.path.join(srv.root, "htdocs", "app", "rewritten")
    r = get(srv, "/static.txt", "tr.test")
    assert r.status == 200 and r.body == b"static\n"
    assert get(srv, "/forbidden", "tr.test").status == 403
    assert get(srv, "/missing.txt", "tr.test").status == 404


def test_server_get_config_is_the_sites_and_hlist_names_the_block(srv):
    d = get(srv, "/app/x", "tr.test").json()
    assert d["config_debug"] == "1" and d["server_debug"] == "0"
    assert d["server_trans"] == "mapper::trans"
    assert d["server_handler"] is None
    assert d["hlist"] == ["mapper::show", os.path.join(srv.root, "htdocs", "app") + "/", 0]
    d = get(srv, "/loc/y", "tr.test").json()
    assert d["hlist"] == ["mapper::show", "/loc", 1]


def test_internal_redirect_runs_within_the_call(srv):
    r = get(srv, "/redir/src", "tr.test")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"before;dst prev=/redir/src args=x=1;after next=True"
    # the new request's headers are the response's
    assert r.headers["Content-Type"] == "text/x-dst"
    assert r.headers["X-Dst"] == "yes"


def test_internal_redirect_into_another_interpreter_links_snapshots(srv):
    r = srv.request("GET", "/xredir/src", host="tr.test", headers={"X-Probe": "probe"})
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.text == (
        "before;dst in xdst prev=request_snapshot,/xredir/src,xsrc,GET /xredir/src HTTP/1.1,"
        "notes=src,out=1,in=probe,prev.prev=None,ro=yes"
        ";next=request_snapshot,/xredir2/dst,xdst,dst,y=2")


def test_site_level_phases_are_refused_in_blocks_and_route_shows_them(srv, tmp_path):
    cfg = tmp_path / "bad"
    os.makedirs(cfg / "htdocs" / "a")
    (cfg / "server.toml").write_text(
        '[server]\nlisten = ["127.0.0.1:1"]\n\n[[site]]\nserver_name = "b.test"\n'
        'document_root = "../htdocs"\n\n[[site.directory]]\npath = "a"\ntrans_handler = "m"\n'
        'postreadrequest_handler = "m"\ntype_handler = "m"\n')
    done = run_cli("check", "-c", str(cfg / "server.toml"))
    assert done.returncode == 1
    assert re.search(r"server\.toml:10:\d+: 'trans_handler' may only be set at site level", done.stderr), done.stderr
    assert re.search(r"server\.toml:11:\d+: 'postreadrequest_handler' may only be set", done.stderr), done.stderr
    assert "type_handler" not in done.stderr
    out = run_cli("route", "-c", srv.config, "http://ph.test/x").stdout
    for key, directive in [("postreadrequest_handler", "PythonPostReadRequestHandler"),
                           ("trans_handler", "PythonTransHandler"),
                           ("headerparser_handler", "PythonHeaderParserHandler"),
                           ("init_handler", "PythonInitHandler"), ("type_handler", "PythonTypeHandler")]:
        assert "%s (%s)" % (key, directive) in out, out
    assert out.index("trans_handler") < out.index("headerparser_handler") < out.index("access_handler")


# ---------------------------------------------------------------- autoreload

AR_SITE = """
[[site]]
server_name = "ar.test"
document_root = "../htdocs"

[[site.directory]]
path = "ar"
handler = "arh"

[[site.directory]]
path = "pub"
handler = "mod_python.publisher"
"""

ARH = """
from mod_python import apache
helper = apache.import_module("helper")

def handler(req):
    req.write("%s/%s" % ("{v}", helper.VALUE))
    return apache.OK
"""


def rewrite(path, text):
    """Writes `text` and gives the file an mtime it never had (no waiting on the clock)."""
    before = os.stat(path).st_mtime_ns
    with open(path, "w") as f:
        f.write(text)
    later = before + 7 * 10**9
    os.utime(path, ns=(later, later))


def test_an_edited_module_answers_the_very_next_request(make_server):
    srv = make_server({
        "sites.d/ar.toml": AR_SITE,
        "htdocs/ar/arh.py": ARH.replace("{v}", "one"),
        "htdocs/ar/helper.py": "VALUE = 'h1'\n",
        "htdocs/pub/page.py": "def hello(req):\n    return 'page one'\n",
    })
    arh = os.path.join(srv.root, "htdocs", "ar", "arh.py")
    helper = os.path.join(srv.root, "htdocs", "ar", "helper.py")
    page = os.path.join(srv.root, "htdocs", "pub", "page.py")
    assert get(srv, "/ar/x", "ar.test").body == b"one/h1"
    assert get(srv, "/pub/page.py/hello", "ar.test").body == b"page one"
    for round_ in range(3):
        rewrite(arh, ARH.replace("{v}", "two%d" % round_))
        assert get(srv, "/ar/x", "ar.test").body == ("two%d/h1" % round_).encode()
    # a module the handler module imported
    rewrite(helper, "VALUE = 'h2'\n")
    assert get(srv, "/ar/x", "ar.test").body == b"two2/h2"
    # a module the publisher serves
    rewrite(page, "def hello(req):\n    return 'page two'\n")
    assert get(srv, "/pub/page.py/hello", "ar.test").body == b"page two"


# ---------------------------------------------------------------- upstream tests
# mod_python 3.5's test/test.py expectations, one site per upstream vhost.

UP_SITES = """
[[site]]
server_name = "test_postreadrequest"
document_root = "../htdocs"
python_path = ["../htdocs"]
postreadrequest_handler = "tests::postreadrequest"
handler = "tests::never"
debug = true

[[site]]
server_name = "test_trans"
document_root = "../htdocs"
python_path = ["../htdocs"]
trans_handler = "tests::trans"
debug = true

[[site]]
server_name = "test_req_server_get_config"
document_root = "../htdocs"
debug = true

[[site.directory]]
path = "."
handler = "tests::req_server_get_config"
debug = false

[[site]]
server_name = "test_outputfilter"
document_root = "../htdocs"
python_path = ["../htdocs"]
handler = "tests::simplehandler"
output_filter = "tests::outputfilter"
debug = true

[[site]]
server_name = "test_req_register_output_filter"
document_root = "../htdocs"
python_path = ["../htdocs"]
handler = "tests::req_register_output_filter"
debug = true
"""

UP_TESTS = '''
 # the first line of tests.py, which test_trans reads back
from mod_python import apache

def postreadrequest(req):
    req.add_common_vars()
    req.subprocess_env["TEST1"] = "'"
    req.log_error("SCRIPT_FILENAME = %s" % req.subprocess_env.get("SCRIPT_FILENAME"))
    req.write("test ok")
    return apache.DONE

def never(req):
    req.write("the content handler ran")
    return apache.OK

def trans(req):
    req.filename = req.document_root() + "/tests.py"
    return apache.OK

def req_server_get_config(req):
    if req.server.get_config().get("PythonDebug", "0") != "1" or \\
            req.get_config().get("PythonDebug", "0") != "0":
        req.write("test failed")
    else:
        req.write("test ok")
    return apache.OK

def outputfilter(fltr):
    assert not hasattr(fltr, "non_existent")
    s = fltr.read()
    while s:
        fltr.write(s.upper())
        s = fltr.read()
    if s is None:
        fltr.close()
    return apache.OK

def simplehandler(req):
    if req.phase != "PythonHandler":
        req.write("test failed")
        return apache.OK
    req.write("test ok")
    return apache.OK

def req_register_output_filter(req):
    req.register_output_filter("MP_TEST_FILTER", "tests::outputfilter")
    req.add_output_filter("MP_TEST_FILTER")
    req.write("test ok")
    return apache.OK
'''


@pytest.fixture
def up(make_server):
    return make_server({"sites.d/up.toml": UP_SITES, "htdocs/tests.py": UP_TESTS})


def test_postreadrequest(up):
    assert vhost_text(up, "test_postreadrequest") == "test ok"


def test_trans(up):
    assert vhost_text(up, "test_trans", "/anything/at/all")[0:2] == " #"


def test_req_server_get_config(up):
    assert vhost_text(up, "test_req_server_get_config") == "test ok"


def test_outputfilter(up):
    assert vhost_text(up, "test_outputfilter") == "TEST OK"


def test_req_register_output_filter(up):
    assert vhost_text(up, "test_req_register_output_filter") == "TEST OK"


# ---------------------------------------------------------------- headers_in across interpreters

HIN_SITE = """
[[site]]
server_name = "hin.test"
document_root = "../htdocs"
python_path = ["../lib"]
interp_per_directive = true
fixup_handler = "hin::fixup"

[[site.directory]]
path = "d"
handler = "hin::show"
"""

HIN = """
from mod_python import apache

def fixup(req):
    req.headers_in["X-Added"] = "by fixup"
    del req.headers_in["X-Drop"]
    req.notes["fixup_interp"] = req.interpreter
    return apache.OK

def show(req):
    req.content_type = "text/plain"
    req.write("%s|%s|%s|%s|%s" % (req.notes["fixup_interp"] != req.interpreter, req.headers_in.get("X-Added"),
                                  req.headers_in.get("X-Drop"), req.headers_in.get("X-Keep"),
                                  req.headers_in.get("Host")))
    return apache.OK
"""


def test_headers_in_changed_in_one_interpreter_reach_the_next(make_server):
    srv = make_server({"sites.d/hin.toml": HIN_SITE, "lib/hin.py": HIN, "htdocs/d": None})
    r = srv.request("GET", "/d/x", host="hin.test", headers={"X-Drop": "gone", "X-Keep": "kept"})
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.text == "True|by fixup|None|kept|hin.test"

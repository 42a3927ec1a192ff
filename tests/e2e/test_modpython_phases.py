"""mod_python applications run unmodified (issue 5): every phase with mod_python's
return-code semantics, default callable names, the "| .ext" restriction, the
interpreter chosen per phase, PythonDebug in an early phase, req.add_handler and
what the log and cleanup phases see. Handlers use only the `from mod_python
import ...` names; their files are under apps/modpython/phases/ and
apps/modpython/late/."""

import os

import pytest

from conftest import app_source, app_tree, wait_file
from modpython_site import get, mp_server

BLOCKS = """
# Every phase, two handlers each (handler lists): trail/trail.py.
[[site.directory]]
path = "trail"
access_handler = ["trail::acc1", "trail::acc2"]
authen_handler = ["trail::aut1", "trail::aut2"]
authz_handler = ["trail::az1", "trail::az2"]
fixup_handler = ["trail::fx1", "trail::fx2"]
handler = ["trail::h1", "trail::h2"]
log_handler = ["trail::log1", "trail::log2"]
cleanup_handler = ["trail::cl1", "trail::cl2"]

# Default callable names: accesshandler, authenhandler, ...
[[site.directory]]
path = "defaults"
access_handler = "defs"
authen_handler = "defs"
authz_handler = "defs"
fixup_handler = "defs"
handler = "defs"
log_handler = "defs"
cleanup_handler = "defs"

# The "| .ext" restriction.
[[site.directory]]
path = "ext"
handler = "exth | .txt .py"

# The interpreter is chosen per phase: the fixup's block and the handler's
# block name two interpreters (PythonInterpPerDirective).
[[site.directory]]
path = "xi"
fixup_handler = "fix"
interp_per_directive = true

[[site.directory]]
path = "xi/sub"
handler = "show"

[[site.directory]]
path = "dbgacc"
access_handler = "acc"
handler = "acc"
debug = true

# A handler that imports its neighbour with a plain import statement.
[[site.directory]]
path = "imp"
handler = "uses_helper"
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    yield from mp_server(tmp_path_factory, BLOCKS, app_tree("modpython/phases", "mp"))


# ---------------------------------------------------------------- phases

def trail(srv, rid, query, expect_status):
    """Requests /trail/x with `query`; returns the response and the handlers'
    "name:phase" lines once the cleanup wrote END (bounded wait)."""
    r = get(srv, "/trail/x?id=%s&%s" % (rid, query))
    assert r.status == expect_status, (query, r, srv.log()[-2000:])
    text = wait_file(srv, os.path.join(srv.root, "mp", "trail", "trail-%s.txt" % rid), "END")
    assert text, srv.log()[-2000:]
    lines = text.split()
    assert lines[-1] == "END"
    return r, lines[:-1]


def names(lines):
    return [l.split(":")[0] for l in lines]


def test_all_phases_run_in_apache_order_with_req_phase(srv):
    r, lines = trail(srv, "order", "", 200)
    # authen and authz: the first OK decides; the others go on after OK
    assert lines == ["acc1:PythonAccessHandler", "acc2:PythonAccessHandler",
                     "aut1:PythonAuthenHandler", "az1:PythonAuthzHandler",
                     "fx1:PythonFixupHandler", "fx2:PythonFixupHandler",
                     "h1:PythonHandler", "h2:PythonHandler",
                     "log1:PythonLogHandler", "log2:PythonLogHandler",
                     "cl1:PythonCleanupHandler", "cl2:PythonCleanupHandler"]
    assert r.body == b"h1;h2;"


@pytest.mark.parametrize("query, status, expected", [
    # access, fixup and log go on after DECLINED too
    ("acc1=DECLINED&fx1=DECLINED&log1=DECLINED", 200,
     "acc1 acc2 aut1 az1 fx1 fx2 h1 h2 log1 log2 cl1 cl2"),
    # authen / authz go on only after DECLINED
    ("aut1=DECLINED&az1=DECLINED", 200,
     "acc1 acc2 aut1 aut2 az1 az2 fx1 fx2 h1 h2 log1 log2 cl1 cl2"),
    # an HTTP error in a phase ends the request; log and cleanup still run
    ("acc1=HTTP_FORBIDDEN", 403, "acc1 log1 log2 cl1 cl2"),
    ("aut1=unauth", 401, "acc1 acc2 aut1 log1 log2 cl1 cl2"),
    ("az2=HTTP_FORBIDDEN&az1=DECLINED", 403, "acc1 acc2 aut1 az1 az2 log1 log2 cl1 cl2"),
    ("fx2=raise:HTTP_NOT_FOUND", 404, "acc1 acc2 aut1 az1 fx1 fx2 log1 log2 cl1 cl2"),
    # the content handler list goes on only after OK
    ("h1=DONE", 200, "acc1 acc2 aut1 az1 fx1 fx2 h1 log1 log2 cl1 cl2"),
    ("h1=raise:DONE", 200, "acc1 acc2 aut1 az1 fx1 fx2 h1 log1 log2 cl1 cl2"),
    ("h1=raise:OK", 200, "acc1 acc2 aut1 az1 fx1 fx2 h1 h2 log1 log2 cl1 cl2"),
    ("aut1=raise:DECLINED", 200, "acc1 acc2 aut1 aut2 az1 fx1 fx2 h1 h2 log1 log2 cl1 cl2"),
    ("h1=HTTP_GONE", 410, "acc1 acc2 aut1 az1 fx1 fx2 h1 log1 log2 cl1 cl2"),
    ("h2=raise:HTTP_CONFLICT", 409, "acc1 acc2 aut1 az1 fx1 fx2 h1 h2 log1 log2 cl1 cl2"),
    # DONE in an early phase skips the rest up to logging
    ("acc2=DONE", 200, "acc1 acc2 log1 log2 cl1 cl2"),
    # cleanup goes on only after OK
    ("cl1=DECLINED", 200, "acc1 acc2 aut1 az1 fx1 fx2 h1 h2 log1 log2 cl1"),
    ("log1=HTTP_FORBIDDEN", 200, "acc1 acc2 aut1 az1 fx1 fx2 h1 h2 log1 cl1 cl2"),
])
def test_return_code_semantics(srv, query, status, expected):
    rid = "rc%d" % (abs(hash(query)) % 10**8)
    r, lines = trail(srv, rid, query, status)
    assert names(lines) == expected.split(), query


def test_unauthorized_from_phase_keeps_err_headers_out(srv):
    r, _ = trail(srv, "unauth", "aut1=unauth", 401)
    assert r.headers["WWW-Authenticate"] == 'Basic realm="r"'


def test_declined_content_handler_falls_back_to_static(srv):
    # /trail/x does not exist: the default handler answers 404
    r, lines = trail(srv, "decl", "h1=DECLINED", 404)
    assert "h2" not in names(lines)


def test_default_callable_names(srv):
    r = get(srv, "/defaults/anything")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.text.split("\n") == ["accesshandler=PythonAccessHandler", "authenhandler=PythonAuthenHandler",
                                  "authzhandler=PythonAuthzHandler", "fixuphandler=PythonFixupHandler",
                                  "handler=PythonHandler"]
    text = wait_file(srv, os.path.join(srv.root, "mp", "defaults", "defs.txt"), "cleanuphandler")
    assert text.split() == ["loghandler=PythonLogHandler", "cleanuphandler=PythonCleanupHandler"]


def test_extension_restriction(srv):
    r = get(srv, "/ext/a.txt")
    assert r.status == 200 and r.text == "handled a.txt"
    r = get(srv, "/ext/missing.py")
    assert r.status == 200 and r.text == "handled missing.py"
    r = get(srv, "/ext/a.html")   # not .txt / .py: no handler, the file is served
    assert r.status == 200 and r.text == "<p>static html</p>\n"


def test_interpreter_is_chosen_per_phase(srv):
    root = os.path.realpath(srv.root)
    first = get(srv, "/xi/sub/page").json()
    assert first["interpreter"] == root + "/mp/xi/sub/"
    assert first["phase"] == "PythonHandler"
    notes = first["notes"]
    assert notes["fixup_interpreter"] == root + "/mp/xi/"
    assert notes["fixup_phase"] == "PythonFixupHandler"
    assert first["headers_out"]["X-Fixup"] == "yes"
    assert first["env"] == "1"
    second = get(srv, "/xi/sub/page")
    assert second.headers["X-Fixup"] == "yes"
    # the fixup's module state lives on in its own interpreter
    assert int(second.json()["notes"]["fixup_calls"]) == int(notes["fixup_calls"]) + 1


def test_python_debug_in_an_early_phase(srv):
    assert get(srv, "/dbgacc/x").body == b"content"
    r = get(srv, "/dbgacc/x?boom")
    assert r.status == 500
    assert b"access-phase-failure" in r.body and b"PythonAccessHandler" in r.body


def test_handler_imports_its_neighbour(srv):
    # mod_python puts the handler's directory on sys.path
    r = get(srv, "/imp/x")
    assert r.status == 200 and r.body == b"hello from the neighbour", (r, srv.log()[-2000:])


# ---------------------------------------------------------------- what later phases see

LATE_TREE = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "late.test"
        document_root = "../s"
        access_handler = "late"
        handler = "late"
        log_handler = "late"
        cleanup_handler = "late"
    """,
    "s/late.py": app_source("modpython/late/late.py"),
}


def late_lines(srv, rid):
    text = wait_file(srv, os.path.join(srv.root, "s", "late-%s.txt" % rid), "cleanup")
    assert text, srv.log()[-2000:]
    return text.split("\n")[:2]


def test_log_and_cleanup_see_the_response(make_server):
    srv = make_server(LATE_TREE)
    r = srv.get("/x?ok1")
    assert r.status == 200 and r.body == b"hello"
    assert late_lines(srv, "ok1") == ["log status=200 bytes=5 phase=PythonLogHandler", "cleanup status=200"]
    r = srv.get("/x?status1")
    assert r.status == 404 and r.body == b"custom not found"
    assert late_lines(srv, "status1")[0].startswith("log status=404 ")


def test_log_phase_sees_error_status(make_server):
    srv = make_server(LATE_TREE)
    assert srv.get("/x?deny1").status == 403
    assert srv.get("/x?gone1").status == 410
    assert late_lines(srv, "deny1")[0].startswith("log status=403 ")
    assert late_lines(srv, "gone1")[0].startswith("log status=410 ")


# ---------------------------------------------------------------- req.add_handler

def test_add_handler(make_server):
    srv = make_server({
        "sites.d/s.toml": """
            [[site]]
            server_name = "s.test"
            document_root = "../s"
            fixup_handler = "dyn"
        """,
        "s/dyn.py": """
            from mod_python import apache

            def fixuphandler(req):
                req.add_handler("PythonHandler", "dyn::page")
                return apache.OK

            def page(req):
                req.write("dynamic;")
                req.add_handler("PythonHandler", "dyn::second")
                return apache.OK

            def second(req):
                req.write("second")
                return apache.OK
        """,
    })
    r = srv.get("/anything")
    assert r.status == 200 and r.body == b"dynamic;second"

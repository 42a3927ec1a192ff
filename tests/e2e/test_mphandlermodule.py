"""handler_module (mod_python's PythonHandlerModule): one module serves every
phase through functions named after the phases' default callables; a phase
whose function the module lacks is skipped silently."""

import os
import re

import pytest

from conftest import run_cli

HOST = "hm.test"

SITES = """
[[site]]
server_name = "hm.test"
document_root = "../htdocs"
python_path = ["../lib"]

[[site.directory]]
path = "all"
handler_module = "hmod"

# no `handler` in the module: the file is served statically
[[site.directory]]
path = "files"
handler_module = "fixonly"

# a phase key written out beside handler_module wins for that phase
[[site.directory]]
path = "mixed"
handler_module = "hmod"
handler = "hmod::other"
"""

HMOD = """
from mod_python import apache

def _trail(req, what):
    req.notes["trail"] = req.notes.get("trail", "") + what + ";"

def headerparserhandler(req):
    _trail(req, "headerparser")
    return apache.OK

def accesshandler(req):
    _trail(req, "access")
    return apache.DECLINED

def authzhandler(req):
    _trail(req, "authz")
    return apache.DECLINED

def fixuphandler(req):
    _trail(req, "fixup")
    return apache.OK

def handler(req):
    req.content_type = "text/plain"
    req.write(req.notes["trail"] + "content:" + req.phase + ":" + req.hlist.handler)
    return apache.OK

def other(req):
    req.content_type = "text/plain"
    req.write(req.notes["trail"] + "other")
    return apache.OK
"""

FIXONLY = """
from mod_python import apache

def fixuphandler(req):
    req.notes["seen"] = "1"
    return apache.OK
"""


@pytest.fixture
def srv(make_server):
    return make_server({
        "sites.d/hm.toml": SITES,
        "lib/hmod.py": HMOD,
        "htdocs/files/fixonly.py": FIXONLY,  # in the block's folder: autoreload watches it
        "htdocs/all": None,
        "htdocs/files/f.txt": "just a file\n",
        "htdocs/mixed": None,
    })


def test_each_phase_runs_the_modules_function_of_its_name(srv):
    r = srv.request("GET", "/all/x", host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    # authen, type, log... are missing from the module: skipped without a word
    assert r.text == "headerparser;access;authz;fixup;content:PythonHandler:hmod"
    assert "Traceback" not in srv.log()


def test_a_module_without_handler_leaves_the_file_to_the_static_handler(srv):
    r = srv.request("GET", "/files/f.txt", host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"just a file\n"
    # twice: the missing functions are remembered, with the same answer
    assert srv.request("GET", "/files/f.txt", host=HOST).body == b"just a file\n"


def test_a_phase_written_out_wins_over_the_module(srv):
    r = srv.request("GET", "/mixed/x", host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.text == "headerparser;access;authz;fixup;other"


def test_a_function_added_to_the_module_is_used_from_the_next_request(srv):
    path = os.path.join(srv.root, "htdocs", "files", "fixonly.py")
    assert srv.request("GET", "/files/f.txt", host=HOST).body == b"just a file\n"
    with open(path, "a") as f:
        f.write("\ndef handler(req):\n    req.write('now handled ' + req.notes['seen'])\n"
                "    return apache.OK\n")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # a new mtime, whatever the clock
    r = srv.request("GET", "/files/f.txt", host=HOST)
    assert r.status == 200 and r.body == b"now handled 1", (r, srv.log()[-2000:])


def test_handler_module_is_checked_and_shown_by_route(srv, tmp_path):
    cfg = tmp_path / "bad"
    os.makedirs(cfg / "htdocs" / "a")
    (cfg / "server.toml").write_text(
        '[server]\nlisten = ["127.0.0.1:1"]\n\n[[site]]\nserver_name = "b.test"\n'
        'document_root = "../htdocs"\n\n[[site.directory]]\npath = "a"\nhandler_module = "m::f"\n')
    done = run_cli("check", "-c", str(cfg / "server.toml"))
    assert done.returncode == 1
    assert re.search(r"server\.toml:10:\d+: 'handler_module' must be a module name", done.stderr), done.stderr
    out = run_cli("route", "-c", srv.config, "http://hm.test/all/x").stdout
    assert "access_handler (PythonAccessHandler): hmod::accesshandler (handler_module: skipped when missing)" in out, out
    out = run_cli("route", "-c", srv.config, "http://hm.test/mixed/x").stdout
    assert "handler (PythonHandler): hmod::other  [" in out, out

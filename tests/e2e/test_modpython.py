"""mod_python applications run unmodified (issue 5): every phase with mod_python's
return-code semantics, the req members and methods, util.FieldStorage through
the real server, publisher, Cookie, util.redirect, PythonOption, sys.argv and
PythonDebug. Handlers use only the `from mod_python import ...` names."""

import base64
import email.utils
import http.client
import json
import os
import socket
import time

import pytest

from conftest import SERVER_TOML, SOURCE_DIR, Response, Server, free_port, write_tree

HOST = "mp.test"

# ---------------------------------------------------------------- the site

SITE_TOML = """
[[site]]
server_name = "mp.test"
default = true
document_root = "../mp"
options = { site_opt = "s", gone = "x", over = "site" }

# Every phase, two handlers each (handler lists).
[[site.directory]]
path = "phases"
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

# Basic auth through an authenhandler.
[[site.directory]]
path = "auth"
auth_type = "Basic"
auth_name = "Members Only"
authen_handler = "authmod"
authz_handler = "authmod"
handler = "authmod::page"

# The request object.
[[site.directory]]
path = "m"
handler = "members"
options = { gone = "", over = "dir", dir_opt = "d" }

# The same handler run on the worker pool instead of the loop.
[[site.directory]]
path = "off"
handler = "members"
offload = true
options = { gone = "", over = "dir", dir_opt = "d" }

[[site.directory]]
path = "m/nodebug"
handler = "members"
debug = false

[[site.directory]]
path = "m/debug"
handler = "members"
debug = true

[[site.directory]]
path = "dbgacc"
access_handler = "acc"
handler = "acc"
debug = true

# A handler that imports its neighbour with a plain import statement.
[[site.directory]]
path = "imp"
handler = "uses_helper"

[[site.directory]]
path = "forms"
handler = "forms"

[[site.directory]]
path = "pub"
handler = "mod_python.publisher"

[[site.directory]]
path = "cookies"
handler = "cookies"
"""

TRAIL = """
import os
from mod_python import apache, util

def _record(req, name):
    spec = dict(util.parse_qsl(req.args or ""))
    path = os.path.join(os.path.dirname(__file__), "trail-%s.txt" % spec.get("id", "x"))
    with open(path, "a") as f:
        f.write("%s:%s\\n" % (name, req.phase))
    if name == "acc1":
        def done(data):
            with open(path, "a") as f:
                f.write("END\\n")
        req.register_cleanup(done)
    if name.startswith("h"):
        req.write(name + ";", 0)  # buffered: a later error code still decides the status
    what = spec.get(name, "OK")
    if what.startswith("raise:"):
        raise apache.SERVER_RETURN(getattr(apache, what[6:]))
    if what.startswith("unauth"):
        req.err_headers_out["WWW-Authenticate"] = 'Basic realm="r"'
        return apache.HTTP_UNAUTHORIZED
    return getattr(apache, what)

def _make(name):
    return lambda req: _record(req, name)

acc1, acc2, aut1, aut2, az1, az2, fx1, fx2, h1, h2, log1, log2, cl1, cl2 = [
    _make(n) for n in "acc1 acc2 aut1 aut2 az1 az2 fx1 fx2 h1 h2 log1 log2 cl1 cl2".split()]
"""

DEFS = """
import os
from mod_python import apache

def _note(req, name):
    req.notes.add("seen", name + "=" + req.phase)
    if name in ("loghandler", "cleanuphandler"):
        with open(os.path.join(os.path.dirname(__file__), "defs.txt"), "a") as f:
            f.write("%s=%s\\n" % (name, req.phase))
    return apache.OK

def accesshandler(req): return _note(req, "accesshandler")
def authenhandler(req):
    req.user = "anon"
    return _note(req, "authenhandler")
def authzhandler(req): return _note(req, "authzhandler")
def fixuphandler(req): return _note(req, "fixuphandler")
def loghandler(req): return _note(req, "loghandler")
def cleanuphandler(req): return _note(req, "cleanuphandler")

def handler(req):
    _note(req, "handler")
    req.content_type = "text/plain"
    req.write("\\n".join(req.notes.getall("seen")))
    return apache.OK
"""

EXTH = """
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("handled " + req.filename.rsplit("/", 1)[-1])
    return apache.OK
"""

FIX = """
from mod_python import apache

calls = 0

def fixuphandler(req):
    global calls
    calls += 1
    req.headers_out["X-Fixup"] = "yes"
    req.notes["fixup_interpreter"] = req.interpreter
    req.notes["fixup_phase"] = req.phase
    req.notes["fixup_calls"] = str(calls)
    req.subprocess_env["FROM_FIXUP"] = "1"
    return apache.OK
"""

SHOW = """
import json
from mod_python import apache

def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({
        "interpreter": req.interpreter, "phase": req.phase,
        "notes": dict(req.notes.items()), "headers_out": dict(req.headers_out.items()),
        "env": req.subprocess_env.get("FROM_FIXUP"),
    }))
    return apache.OK
"""

AUTHMOD = """
import json
from mod_python import apache

def authenhandler(req):
    pw = req.get_basic_auth_pw()
    if (req.user, pw) in (("alice", "wonderland"), ("j\u00f6rg", "p\u00e4ss")):
        return apache.OK
    req.err_headers_out["WWW-Authenticate"] = 'Basic realm="%s"' % req.auth_name()
    req.headers_out["X-Not-Sent-On-Error"] = "1"
    return apache.HTTP_UNAUTHORIZED

def authzhandler(req):
    if req.args == "forbid":
        return apache.HTTP_FORBIDDEN
    return apache.OK

def page(req):
    req.add_common_vars()
    req.content_type = "application/json"
    req.write(json.dumps({"user": req.user, "ap_auth_type": req.ap_auth_type,
                          "auth_type": req.auth_type(), "auth_name": req.auth_name(),
                          "remote_user": req.subprocess_env.get("REMOTE_USER"),
                          "env_auth_type": req.subprocess_env.get("AUTH_TYPE")}))
    return apache.OK
"""

MEMBERS = r'''
import json
import os
import sys
import time
from mod_python import apache, util

def _j(req, obj, status=None):
    req.content_type = "application/json"
    req.write(json.dumps(obj))
    return apache.OK

def _table(t):
    return [list(kv) for kv in t.items()]

def handler(req):
    action = (req.path_info or "/").strip("/").split("/")[0] or "basic"
    return globals()["do_" + action](req)

def do_basic(req):
    c = req.connection
    return _j(req, {
        "method": req.method, "uri": req.uri, "unparsed_uri": req.unparsed_uri,
        "args": req.args, "protocol": req.protocol, "hostname": req.hostname,
        "filename": req.filename, "path_info": req.path_info,
        "the_request": req.the_request, "proto_num": req.proto_num,
        "header_only": bool(req.header_only),
        "interpreter": req.interpreter, "phase": req.phase, "user": req.user,
        "content_type_before": req.content_type, "status_before": req.status,
        "remote_ip": c.remote_ip, "remote_addr": list(c.remote_addr),
        "local_addr": list(c.local_addr), "local_ip": c.local_ip,
        "server_hostname": req.server.server_hostname,
        "document_root": req.document_root(),
        "construct_url": req.construct_url("/some/where"),
        "argv": sys.argv, "handler": req.handler,
        "is_https": req.is_https(), "request_time_ok": abs(req.request_time - time.time()) < 60,
    })

def do_headers(req):
    h = req.headers_in
    out = {
        "lower": h.get("x-single"), "upper": h.get("X-SINGLE"), "mixed": h["X-Single"],
        "contains": "x-SINGLE" in h, "missing": h.get("X-Missing", "default"),
        "repeated": h.get("X-Rep"), "getall": h.getall("x-rep") if hasattr(h, "getall") else None,
        "keys_lower": sorted(k.lower() for k in h.keys()),
    }
    t = apache.table()
    t["Content-Kind"] = "a"
    t.add("content-kind", "b")
    out["table_list"] = t["CONTENT-KIND"]
    t["content-kind"] = "c"
    out["table_after_set"] = t["Content-Kind"]
    del t["CONTENT-kind"]
    out["table_after_del"] = "content-kind" in t
    out["mp_table"] = type(t).__name__
    return _j(req, out)

def do_out(req):
    req.headers_out["X-Out"] = "one"
    req.headers_out.add("Set-Cookie", "a=1")
    req.headers_out.add("Set-Cookie", "b=2")
    req.err_headers_out["X-Err"] = "kept"
    req.content_type = "text/x-custom; charset=latin-1"
    req.status = 201
    req.write("created")
    return apache.OK

def do_ctheader(req):
    if req.args == "both":
        req.content_type = "text/html"
    req.headers_out["Content-Type"] = "application/xml"
    req.write("<x/>")
    return apache.OK

def do_error(req):
    req.headers_out["X-Out"] = "dropped"
    req.err_headers_out["X-Err"] = "kept"
    return apache.HTTP_FORBIDDEN

def do_raise(req):
    req.err_headers_out["X-Err"] = "kept"
    raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)

def do_statusline(req):
    req.status = 299
    req.status_line = "299 Quite Fine"
    req.write("fine")
    return apache.OK

def do_done(req):
    req.write("done early", 0)  # buffered: the answer carries its Content-Length
    return apache.DONE

def do_body(req):
    first = req.readline()
    part = req.read(3)
    rest = req.readlines()
    return _j(req, {"first": first.decode(), "part": part.decode(),
                    "rest": [l.decode() for l in rest], "after": req.read().decode(),
                    "remaining": req.remaining})

def do_readall(req):
    data = req.read()
    return _j(req, {"len": len(data), "head": data[:10].decode("latin-1")})

def do_discard(req):
    req.discard_request_body()
    return _j(req, {"after": req.read().decode()})

def do_write(req):
    req.content_type = "text/plain"
    req.write("a")
    req.write(b"b", 0)
    req.write("c", flush=0)
    req.flush()
    req.write("d")
    return apache.OK

def do_sendfile(req):
    path = os.path.join(os.path.dirname(__file__), "data.txt")
    req.content_type = "text/plain"
    req.write("[")
    n = req.sendfile(path, 2, 5)
    req.write("]%d" % n)
    return apache.OK

def do_sendwhole(req):
    req.content_type = "text/plain"
    req.sendfile(os.path.join(os.path.dirname(__file__), "data.txt"))
    return apache.OK

def do_options(req):
    return _j(req, {"req": dict(req.get_options().items()),
                    "server": dict(req.server.get_options().items())})

def do_config(req):
    cfg = req.get_config()
    return _j(req, {"config": dict(cfg.items()), "server": dict(req.server.get_config().items())})

def do_env(req):
    req.add_common_vars()
    e = req.subprocess_env
    return _j(req, {k: e.get(k) for k in (
        "REMOTE_ADDR", "REMOTE_PORT", "SERVER_NAME", "SERVER_PORT", "QUERY_STRING", "REQUEST_METHOD",
        "REQUEST_URI", "SCRIPT_FILENAME", "DOCUMENT_ROOT", "HTTP_X_CUSTOM", "HTTP_X_UNDER_SCORE",
        "HTTP_X_UNDER_SCORE_", "PATH_INFO", "SERVER_PROTOCOL", "GATEWAY_INTERFACE")} |
        {"under": [k for k in e.keys() if "UNDER" in k]})

def do_logerror(req):
    req.log_error("req-log-marker-%s" % req.args, apache.APLOG_ERR)
    apache.log_error("apache-log-marker-%s" % req.args)
    return _j(req, {"ok": True})

def do_cleanup(req):
    target = os.path.join(os.path.dirname(__file__), "cleanup-%s.txt" % req.args)
    def cleanup(data):
        with open(target, "w") as f:
            f.write("ran with %s, response had %s" % (data, req_len[0]))
    req_len = [0]
    req.register_cleanup(cleanup, "the-data")
    req.write("body")
    req_len[0] = 4
    assert not os.path.exists(target)
    return apache.OK

def do_redirect_src(req):
    req.notes["before_redirect"] = "yes"
    req.internal_redirect(req.uri.replace("redirect_src", "redirect_dst") + "?from=src")
    return apache.OK

def do_redirect_dst(req):
    return _j(req, {"uri": req.uri, "args": req.args, "path_info": req.path_info})

def do_redirect_static(req):
    req.internal_redirect("/ext/a.html")
    return apache.OK

def do_redirect_auth(req):
    req.internal_redirect("/auth/page")
    return apache.OK

def do_allow(req):
    req.allow_methods(["GET", "POST"])
    req.allow_methods(["PUT"])
    if req.method == "DELETE":
        return apache.HTTP_METHOD_NOT_ALLOWED
    req.write("allowed")
    return apache.OK

def do_nocache(req):
    req.no_cache = 1
    req.write("fresh")
    return apache.OK

def do_clength(req):
    req.set_content_length(5)
    req.write("12345")
    return apache.OK

def do_mtime(req):
    req.update_mtime(1000000000)
    req.update_mtime(999)   # older: ignored
    req.set_last_modified()
    req.headers_out["ETag"] = '"v1"'
    rc = req.meets_conditions()
    if rc != apache.OK:
        return rc
    req.write("mtime=%d" % req.mtime)
    return apache.OK

def do_finfo(req):
    f = req.finfo
    req.set_etag()
    other = apache.stat(os.path.join(os.path.dirname(__file__), "data.txt"), apache.APR_FINFO_MIN)
    missing = apache.stat("/no/such/file")
    return _j(req, {"filetype_is_reg": f.filetype == apache.APR_REG, "size": f.size,
                    "size_idx": f[apache.FINFO_SIZE], "fname": f.fname, "name": f.name,
                    "mtime_ok": abs(f.mtime - os.path.getmtime(req.filename)) < 1,
                    "other_size": other.size, "missing": missing.filetype == apache.APR_NOFILE,
                    "etag": req.headers_out["ETag"], "method_number": req.method_number,
                    "is_get": req.method_number == apache.M_GET,
                    "ssl": req.ssl_var_lookup("HTTPS"), "ua": req.useragent_ip})

def do_fail(req):
    raise ValueError("boom-from-the-handler")

def do_argv(req):
    return _j(req, {"argv": sys.argv})

def do_redirect(req):
    util.redirect(req, "/elsewhere?x=1")

def do_location(req):
    req.headers_out["Location"] = "/moved/here"
    req.headers_out["X-Dropped"] = "1"
    return apache.HTTP_MOVED_TEMPORARILY

def do_redirect_perm(req):
    util.redirect(req, "http://example.com/", permanent=1, text="gone")

def do_badreturn(req):
    return "not a code"
'''

FORMS = r'''
import json
from mod_python import apache, util

import os

def handler(req):
    saved = []
    def file_callback(filename):
        path = os.path.join(os.path.dirname(__file__), "cb-" + os.path.basename(filename))
        saved.append(path)
        return open(path, "w+b")
    def field_callback():
        import io
        saved.append("field")
        return io.BytesIO()
    if req.args == "callbacks":
        fs = util.FieldStorage(req, file_callback=file_callback, field_callback=field_callback)
        for f in fs.list:
            f.file.close() if f.filename else None
        req.content_type = "application/json"
        req.write(json.dumps({"saved": [os.path.basename(p) for p in saved],
                              "contents": [open(p, "rb").read().decode("latin-1") for p in saved if p != "field"],
                              "values": [str(f.value) for f in fs.list if not f.filename]}))
        return apache.OK
    fs = util.FieldStorage(req, keep_blank_values=1)
    out = []
    for f in fs.list:
        if f.filename:
            data = f.file.read()
            out.append({"name": f.name, "filename": f.filename, "type": f.type,
                        "len": len(data), "data": data.decode("latin-1") if len(data) < 4096 else None,
                        "value_same": f.value == data,
                        "on_disk": getattr(f.file, "name", None) is not None,
                        "disp": f.disposition, "cls": type(f).__name__})
        else:
            out.append({"name": f.name, "value": f.value, "cls": type(f).__name__,
                        "is_str": isinstance(f, str)})
    first = fs.getfirst("a")
    req.content_type = "application/json"
    req.write(json.dumps({"fields": out, "keys": list(fs.keys()),
                          "a_list": [str(v) for v in fs.getlist("a")],
                          "getfirst_a": None if first is None else str(first),
                          "has_b": fs.has_key("b"),
                          "parse_qs": util.parse_qs("x=1&x=2&y=", 1),
                          "parse_qsl": util.parse_qsl("x=1&x=2&y=")}))
    return apache.OK
'''

PUB_INDEX = r'''
import os
from mod_python import apache

def index(req):
    return "publisher index"

def hello(req, name="world", n="1"):
    return "hello %s x%s" % (name, n)

def noreq(a, b="B"):
    return "a=%s b=%s" % (a, b)

def kw(req, **fields):
    return ",".join("%s=%s" % kv for kv in sorted(fields.items()))

def _private(req):
    return "secret"

def html(req):
    return "<html><body>hi</body></html>"

def typed(req):
    req.content_type = "text/csv"
    return "a,b\n1,2\n"

def gen(req):
    for i in range(3):
        yield "item%d;" % i

def upload(req, f):
    return "%s:%d" % (f.filename, len(f.value))

def secret(req):
    __auth_realm__ = "Vault"
    __auth__ = {"bob": "builder"}
    __access__ = ["bob"]
    return "vault opened by %s" % req.user

def blocked(req):
    __access__ = ["nobody"]
    return "never"

def checker(req, user, passwd):
    return user == "carol" and passwd == "pw"

class _Area(object):
    __auth__ = staticmethod(checker)
    __auth_realm__ = "Area"
    def page(self, req):
        return "area page for %s" % req.user

area = _Area()

class Thing(object):
    pass

class _Callable(object):
    def __call__(self, req, x="1"):
        return "called with x=" + x

callme = _Callable()

class _Plain(object):
    def __str__(self):
        return "plain instance"

plain = _Plain()

module_ref = os
number = 42
'''

PUB_OTHER = r'''
def index(req):
    return "other index"

def echo(req, v):
    return "echo " + v

__auth__ = {"dave": "pw"}
__auth_realm__ = "Other"

def guarded(req):
    return "guarded for " + req.user
'''

PUB_OPEN = r'''
def page(req):
    return "open page"
'''

COOKIES = r'''
import json
from mod_python import apache, Cookie

SECRET = "s3cr3t"

def handler(req):
    if req.path_info == "/set":
        Cookie.add_cookie(req, Cookie.Cookie("plain", "value one", path="/"))
        Cookie.add_cookie(req, Cookie.SignedCookie("signed", "trusted", SECRET, path="/"))
        Cookie.add_cookie(req, Cookie.MarshalCookie("marsh", {"n": 1, "l": [1, 2]}, SECRET, path="/"))
        Cookie.add_cookie(req, "simple", "v", expires=0)
        req.write("set")
        return apache.OK
    plain = Cookie.get_cookies(req)
    signed = Cookie.get_cookies(req, Cookie.SignedCookie, secret=SECRET)
    marsh = Cookie.get_cookie(req, "marsh", Cookie.MarshalCookie, secret=SECRET)
    out = {
        "plain": plain["plain"].value if "plain" in plain else None,
        "signed_cls": type(signed.get("signed")).__name__,
        "signed": signed["signed"].value if "signed" in signed else None,
        "marsh_cls": type(marsh).__name__,
        "marsh": marsh.value if marsh is not None else None,
    }
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK
'''


def site_tree():
    return {
        "sites.d/mp.toml": SITE_TOML,
        "mp/phases/trail.py": TRAIL,
        "mp/defaults/defs.py": DEFS,
        "mp/ext/exth.py": EXTH,
        "mp/ext/a.txt": "static txt\n",
        "mp/ext/a.html": "<p>static html</p>\n",
        "mp/xi/fix.py": FIX,
        "mp/xi/sub/show.py": SHOW,
        "mp/auth/authmod.py": AUTHMOD,
        "mp/m/members.py": MEMBERS,
        "mp/m/data.txt": "0123456789abcdef\n",
        "mp/off/members.py": MEMBERS,
        "mp/off/data.txt": "0123456789abcdef\n",
        "mp/m/nodebug/members.py": MEMBERS,
        "mp/m/debug/members.py": MEMBERS,
        "mp/dbgacc/acc.py": """
from mod_python import apache

def accesshandler(req):
    if req.args == "boom":
        raise RuntimeError("access-phase-failure")
    return apache.OK

def handler(req):
    req.write("content")
    return apache.OK
""",
        "mp/imp/uses_helper.py": """
import mp_helper_mod
from mod_python import apache

def handler(req):
    req.write(mp_helper_mod.greeting())
    return apache.OK
""",
        "mp/imp/mp_helper_mod.py": """
def greeting():
    return "hello from the neighbour"
""",
        "mp/forms/forms.py": FORMS,
        "mp/pub/index.py": PUB_INDEX,
        "mp/pub/other.py": PUB_OTHER,
        "mp/pub/sub/open.py": PUB_OPEN,
        "mp/cookies/cookies.py": COOKIES,
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("mp"))
    tree = {"server.toml": SERVER_TOML.format(reload="off", debug="false", server_extra="",
                                              python_extra="", access_log="-")}
    tree.update(site_tree())
    write_tree(root, tree)
    s = Server(root, os.path.join(root, "server.toml"), free_port())
    s.start()
    yield s
    s.stop()


# ---------------------------------------------------------------- helpers

@pytest.fixture(params=["m", "off"])
def base(request):
    """Runs a test against the handler on the loop and on the worker pool."""
    return request.param


def get(srv, path, **kw):
    kw.setdefault("host", HOST)
    return srv.get(path, **kw)


def raw(srv, chunks, delay=0.0, timeout=15.0):
    """Sends `chunks` (bytes) on one connection, sleeping `delay` between them;
    returns the parsed Response."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    try:
        for i, c in enumerate(chunks):
            s.sendall(c)
            if delay and i + 1 < len(chunks):
                time.sleep(delay)
        r = http.client.HTTPResponse(s, method="GET")
        r.begin()
        body = r.read()
        return Response(r.status, r.reason, r.headers, body)
    finally:
        s.close()


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


def wait_file(srv, path, needle, timeout=10.0):
    def check():
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            return None
        return text if needle in text else None
    return srv.wait_for(check, timeout=timeout)


def trail(srv, rid, query, expect_status):
    r = get(srv, "/phases/x?id=%s&%s" % (rid, query))
    assert r.status == expect_status, (query, r, srv.log()[-2000:])
    text = wait_file(srv, os.path.join(srv.root, "mp", "phases", "trail-%s.txt" % rid), "END")
    assert text, srv.log()[-2000:]
    lines = text.split()
    assert lines[-1] == "END"
    return r, lines[:-1]


def names(lines):
    return [l.split(":")[0] for l in lines]


# ---------------------------------------------------------------- phases

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
    # /phases/x does not exist: the default handler answers 404
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


# ---------------------------------------------------------------- Basic auth

def test_basic_auth_through_authenhandler(srv):
    r = get(srv, "/auth/page")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Members Only"'
    assert r.headers.get("X-Not-Sent-On-Error") is None
    r = get(srv, "/auth/page", headers={"Authorization": basic("alice", "wrong")})
    assert r.status == 401
    r = get(srv, "/auth/page", headers={"Authorization": basic("alice", "wonderland")})
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.json() == {"user": "alice", "ap_auth_type": "Basic", "auth_type": "Basic",
                        "auth_name": "Members Only", "remote_user": "alice", "env_auth_type": "Basic"}
    r = get(srv, "/auth/page?forbid", headers={"Authorization": basic("alice", "wonderland")})
    assert r.status == 403
    # credentials are decoded as latin-1, as mod_python decodes them
    cred = "Basic " + base64.b64encode("j\u00f6rg:p\u00e4ss".encode("latin-1")).decode()
    r = get(srv, "/auth/page", headers={"Authorization": cred})
    assert r.status == 200 and r.json()["user"] == "j\u00f6rg"


# ---------------------------------------------------------------- req members

def test_request_scalars(srv):
    r = get(srv, "/m/members.py/basic/more?a=1&b=%20x", host="MP.test:%d" % srv.port)
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    root = os.path.realpath(srv.root)
    assert d["method"] == "GET"
    assert d["uri"] == "/m/members.py/basic/more"
    assert d["unparsed_uri"] == "/m/members.py/basic/more?a=1&b=%20x"
    assert d["args"] == "a=1&b=%20x"
    assert d["protocol"] == "HTTP/1.1" and d["proto_num"] == 1001
    assert d["the_request"] == "GET /m/members.py/basic/more?a=1&b=%20x HTTP/1.1"
    assert d["hostname"] == "mp.test"
    assert d["filename"] == root + "/mp/m/members.py"
    assert d["path_info"] == "/basic/more"
    assert d["header_only"] is False
    assert d["interpreter"] == "mp.test"
    assert d["phase"] == "PythonHandler"
    assert d["user"] is None
    assert d["status_before"] == 200
    assert d["remote_ip"] == "127.0.0.1"
    assert d["remote_addr"][0] == "127.0.0.1" and isinstance(d["remote_addr"][1], int)
    assert d["local_addr"] == ["127.0.0.1", srv.port]
    assert d["local_ip"] == "127.0.0.1"
    assert d["server_hostname"] == "mp.test"
    assert os.path.realpath(d["document_root"]) == root + "/mp"
    assert d["construct_url"] == "http://mp.test:%d/some/where" % srv.port
    assert d["argv"] == ["mod_python"]
    assert d["handler"] == "mod_python"
    assert d["is_https"] == 0 and d["request_time_ok"]


def test_head_request(srv):
    r = srv.request("HEAD", "/m/members.py/basic", host=HOST)
    assert r.status == 200 and r.body == b""


def test_headers_in_table(srv):
    r = raw(srv, [b"GET /m/members.py/headers HTTP/1.1\r\nHost: mp.test\r\nX-Single: one\r\n"
                  b"X-Rep: a\r\nx-rep: b\r\nConnection: close\r\n\r\n"])
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    assert d["lower"] == d["upper"] == d["mixed"] == "one"
    assert d["contains"] is True and d["missing"] == "default"
    # a repeated header reaches headers_in joined, as Apache hands it to mod_python
    assert d["repeated"] == "a, b" and d["getall"] == ["a, b"]
    assert "x-rep" in d["keys_lower"] and "host" in d["keys_lower"]
    assert d["table_list"] == ["a", "b"]
    assert d["table_after_set"] == "c"
    assert d["table_after_del"] is False


def test_headers_out_status_and_content_type(srv, base):
    r = get(srv, "/%s/members.py/out" % base)
    assert r.status == 201 and r.body == b"created"
    assert r.headers["X-Out"] == "one"
    assert r.headers["X-Err"] == "kept"
    assert r.headers["Content-Type"] == "text/x-custom; charset=latin-1"
    assert sorted(r.headers.get_all("Set-Cookie")) == ["a=1", "b=2"]


def test_content_type_through_headers_out(srv, base):
    r = get(srv, "/%s/members.py/ctheader" % base)
    assert r.headers.get_all("Content-Type") == ["application/xml"]
    r = get(srv, "/%s/members.py/ctheader?both" % base)   # req.content_type wins, as in Apache
    assert r.headers.get_all("Content-Type") == ["text/html"]


@pytest.mark.parametrize("action, status", [("error", 403), ("raise", 404)])
def test_err_headers_out_kept_on_errors(srv, base, action, status):
    r = get(srv, "/%s/members.py/" % base + action)
    assert r.status == status
    assert r.headers["X-Err"] == "kept"
    assert r.headers.get("X-Out") is None


def test_status_line(srv, base):
    r = get(srv, "/%s/members.py/statusline" % base)
    assert r.status == 299 and r.reason == "Quite Fine" and r.body == b"fine"


def test_done_sends_what_was_written(srv, base):
    r = get(srv, "/%s/members.py/done" % base)
    assert r.status == 200 and r.body == b"done early"


def test_invalid_return_value_is_500(srv):
    assert get(srv, "/m/members.py/badreturn").status == 500


def test_read_readline_readlines(srv, base):
    r = srv.post("/%s/members.py/body" % base, b"line1\nline2\nline3\nlast", host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.json() == {"first": "line1\n", "part": "lin", "rest": ["e2\n", "line3\n", "last"],
                        "after": "", "remaining": 0}


def test_body_sent_in_pieces_is_read_whole(srv, base):
    body = b"x" * 200000
    head = (b"POST /%s/members.py/readall HTTP/1.1\r\nHost: mp.test\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % (base.encode(), len(body)))
    r = raw(srv, [head, body[:70000], body[70000:140000], body[140000:]], delay=0.05)
    assert r.json() == {"len": 200000, "head": "x" * 10}


def test_chunked_request_body(srv, base):
    head = (b"POST /%s/members.py/body HTTP/1.1\r\nHost: mp.test\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % base.encode())
    r = raw(srv, [head, b"6\r\nline1\n\r\n", b"9\r\nline2\nlas\r\n", b"1\r\nt\r\n0\r\n\r\n"], delay=0.02)
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.json() == {"first": "line1\n", "part": "lin", "rest": ["e2\n", "last"], "after": "",
                        "remaining": 0}


def test_discard_request_body(srv, base):
    r = srv.post("/%s/members.py/discard" % base, b"ignored body", host=HOST)
    assert r.status == 200 and r.json() == {"after": ""}


def test_write_and_flush(srv, base):
    r = get(srv, "/%s/members.py/write" % base)
    assert r.status == 200 and r.body == b"abcd"


def test_sendfile(srv, base):
    r = get(srv, "/%s/members.py/sendfile" % base)
    assert r.status == 200 and r.body == b"[23456]5"
    r = get(srv, "/%s/members.py/sendwhole" % base)
    assert r.body == b"0123456789abcdef\n"


def test_get_options_per_block_override(srv, base):
    d = get(srv, "/%s/members.py/options" % base).json()
    # "" removes a key; a block overrides the site key by key
    assert d["req"] == {"site_opt": "s", "over": "dir", "dir_opt": "d"}
    # server.get_options(): the options set for the virtual host itself
    assert d["server"] == {"site_opt": "s", "gone": "x", "over": "site"}


def test_get_config(srv):
    d = get(srv, "/m/members.py/config").json()
    assert d["config"]["PythonDebug"] == "0"
    assert d["server"]["PythonDebug"] == "0"
    assert d["config"]["PythonHandler"] == "members::handler"
    assert d["config"]["PythonAutoReload"] == "1"
    d = get(srv, "/m/debug/members.py/config").json()
    assert d["config"]["PythonDebug"] == "1"


def test_subprocess_env_and_add_common_vars(srv):
    r = raw(srv, [b"GET /m/members.py/env/pi?q=1 HTTP/1.1\r\nHost: mp.test\r\nX-Custom: c1\r\n"
                  b"X_Under_Score: bad\r\nConnection: close\r\n\r\n"])
    d = r.json()
    root = os.path.realpath(srv.root)
    assert d["REMOTE_ADDR"] == "127.0.0.1" and d["REMOTE_PORT"].isdigit()
    assert d["SERVER_NAME"] == "mp.test" and d["SERVER_PORT"] == str(srv.port)
    assert d["QUERY_STRING"] == "q=1" and d["REQUEST_METHOD"] == "GET"
    assert d["REQUEST_URI"] == "/m/members.py/env/pi?q=1"
    assert d["SCRIPT_FILENAME"] == root + "/mp/m/members.py"
    assert os.path.realpath(d["DOCUMENT_ROOT"]) == root + "/mp"
    assert d["HTTP_X_CUSTOM"] == "c1"
    assert d["PATH_INFO"] == "/env/pi"
    assert d["SERVER_PROTOCOL"] == "HTTP/1.1" and d["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert d["under"] == []   # X_Under_Score never reaches the environment


def test_log_error_appears_in_the_log(srv):
    r = get(srv, "/m/members.py/logerror?abc123")
    assert r.status == 200
    assert srv.wait_for(lambda: "req-log-marker-abc123" in srv.log()), srv.log()[-2000:]
    assert srv.wait_for(lambda: "apache-log-marker-abc123" in srv.log())
    line = [l for l in srv.log().splitlines() if "req-log-marker-abc123" in l][0]
    assert "mp.test" in line   # the interpreter's name


def test_register_cleanup_runs_after_the_response(srv, base):
    path = os.path.join(srv.root, "mp", base, "cleanup-c1.txt")
    r = get(srv, "/%s/members.py/cleanup?c1" % base)
    assert r.status == 200 and r.body == b"body", (r, srv.log()[-2000:])
    text = wait_file(srv, path, "ran")
    assert text == "ran with the-data, response had 4"


def test_internal_redirect(srv, base):
    r = get(srv, "/%s/members.py/redirect_src" % base)
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.json() == {"uri": "/%s/members.py/redirect_dst" % base, "args": "from=src", "path_info": "/redirect_dst"}


def test_internal_redirect_runs_the_target_like_a_new_request(srv, base):
    r = get(srv, "/%s/members.py/redirect_static" % base)
    assert r.status == 200 and r.body == b"<p>static html</p>\n", (r, srv.log()[-2000:])
    # the target's own phases run: its authenhandler asks for credentials
    r = get(srv, "/%s/members.py/redirect_auth" % base)
    assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Members Only"'


def test_allow_methods(srv, base):
    r = get(srv, "/%s/members.py/allow" % base)
    assert r.status == 200
    assert [m.strip() for m in r.headers["Allow"].split(",")] == ["GET", "POST", "PUT"]
    r = srv.request("DELETE", "/%s/members.py/allow" % base, host=HOST)
    assert r.status == 405
    assert "PUT" in r.headers["Allow"]


def test_no_cache(srv, base):
    r = get(srv, "/%s/members.py/nocache" % base)
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["Expires"]


def test_set_content_length(srv):
    r = get(srv, "/m/members.py/clength")
    assert r.headers["Content-Length"] == "5" and r.body == b"12345"


def test_set_content_length_when_streaming(srv):
    r = get(srv, "/off/members.py/clength")
    assert r.headers["Content-Length"] == "5" and r.body == b"12345"


def test_mtime_last_modified_and_304(srv, base):
    r = get(srv, "/%s/members.py/mtime" % base)
    assert r.status == 200 and r.body == b"mtime=1000000000"
    lm = r.headers["Last-Modified"]
    assert lm == email.utils.formatdate(1000000000, usegmt=True)
    r = get(srv, "/%s/members.py/mtime" % base, headers={"If-Modified-Since": lm})
    assert r.status == 304 and r.body == b""
    r = get(srv, "/%s/members.py/mtime" % base, headers={"If-None-Match": '"v1"'})
    assert r.status == 304 and r.body == b""
    r = get(srv, "/%s/members.py/mtime" % base, headers={"If-Modified-Since": email.utils.formatdate(999, usegmt=True)})
    assert r.status == 200
    r = get(srv, "/%s/members.py/mtime" % base, headers={"If-Match": '"other"'})
    assert r.status == 412


def test_finfo_stat_and_set_etag(srv):
    d = get(srv, "/m/members.py/finfo").json()
    path = os.path.join(os.path.realpath(srv.root), "mp", "m", "members.py")
    assert d["filetype_is_reg"] and d["size"] == d["size_idx"] == os.path.getsize(path)
    assert d["fname"] == path and d["name"] == "members.py" and d["mtime_ok"]
    assert d["other_size"] == 17 and d["missing"]
    assert d["etag"].startswith('"') and d["etag"].endswith('"') and len(d["etag"]) > 4
    assert d["is_get"] and d["ssl"] == "off" and d["ua"] == "127.0.0.1"


def test_sys_argv(srv):
    assert get(srv, "/m/members.py/argv").json() == {"argv": ["mod_python"]}


def test_util_redirect(srv, base):
    r = get(srv, "/%s/members.py/redirect" % base)
    assert r.status == 302 and r.headers["Location"] == "/elsewhere?x=1"
    assert b"/elsewhere?x=1" in r.body
    r = get(srv, "/%s/members.py/redirect_perm" % base)
    assert r.status == 301 and r.headers["Location"] == "http://example.com/" and r.body == b"gone"


def test_redirect_status_keeps_location_from_headers_out(srv, base):
    r = get(srv, "/%s/members.py/location" % base)
    assert r.status == 302 and r.headers["Location"] == "/moved/here"
    assert r.headers.get("X-Dropped") is None


def test_python_debug(srv):
    r = get(srv, "/m/debug/members.py/fail")
    assert r.status == 500
    assert b"boom-from-the-handler" in r.body and b"Traceback" in r.body
    r = get(srv, "/m/nodebug/members.py/fail")
    assert r.status == 500
    assert b"boom-from-the-handler" not in r.body and b"Traceback" not in r.body
    assert "boom-from-the-handler" in srv.log()


def test_python_debug_in_an_early_phase(srv):
    assert get(srv, "/dbgacc/x").body == b"content"
    r = get(srv, "/dbgacc/x?boom")
    assert r.status == 500
    assert b"access-phase-failure" in r.body and b"PythonAccessHandler" in r.body


def test_handler_imports_its_neighbour(srv):
    # mod_python puts the handler's directory on sys.path
    r = get(srv, "/imp/x")
    assert r.status == 200 and r.body == b"hello from the neighbour", (r, srv.log()[-2000:])


# ---------------------------------------------------------------- FieldStorage

def multipart(parts, boundary):
    """parts: (name, value bytes, filename or None, content type or None)."""
    out = b""
    for name, value, filename, ctype in parts:
        out += b"--" + boundary + b"\r\n"
        disp = 'Content-Disposition: form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def post_raw(srv, path, body, ctype, pieces=None, delay=0.0):
    head = (b"POST %s HTTP/1.1\r\nHost: mp.test\r\nConnection: close\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), ctype.encode(), len(body)))
    if pieces is None:
        return raw(srv, [head + body])
    chunks, last = [head], 0
    for cut in pieces:
        chunks.append(body[last:cut])
        last = cut
    chunks.append(body[last:])
    return raw(srv, [c for c in chunks if c], delay=delay)


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
    r = post_raw(srv, "/forms/f", body, "multipart/form-data; boundary=BOUNDARY")
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
    r = post_raw(srv, "/forms/f?callbacks", body, "multipart/form-data; boundary=CbBoundary")
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
    r = post_raw(srv, "/forms/f", body, "multipart/form-data; boundary=" + boundary.decode(),
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
    r = post_raw(srv, "/forms/f", body, "multipart/form-data; boundary=BlockBorder")
    assert r.status == 200, (r, srv.log()[-2000:])
    fields = {f["name"]: f for f in r.json()["fields"]}
    assert fields["up"]["len"] == size and fields["tail"]["value"] == "t"


def test_fieldstorage_large_upload_is_spooled_to_a_file(srv):
    content = os.urandom(1024) * 700   # 700 KiB
    body = multipart([("up", content, "big.bin", "application/octet-stream"), ("x", b"y", None, None)],
                     b"SpoolBoundary")
    r = post_raw(srv, "/forms/f", body, "multipart/form-data; boundary=SpoolBoundary",
                 pieces=list(range(100000, len(body), 100000)), delay=0.01)
    assert r.status == 200, (r, srv.log()[-2000:])
    fields = {f["name"]: f for f in r.json()["fields"]}
    assert fields["up"]["len"] == len(content) and fields["up"]["value_same"]
    assert fields["up"]["on_disk"] is True
    assert fields["x"]["value"] == "y"


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
    assert page("other/echo?v=zz", headers={"Authorization": basic("dave", "pw")}).text == "echo zz"
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
    r = get(srv, "/pub/index/secret", headers={"Authorization": basic("bob", "nope")})
    assert r.status == 401
    r = get(srv, "/pub/index/secret", headers={"Authorization": basic("bob", "builder")})
    assert r.status == 200 and r.text == "vault opened by bob"
    assert get(srv, "/pub/index/blocked").status == 403
    # __auth__ as a callable on an instance
    r = get(srv, "/pub/index/area/page")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Area"'
    r = get(srv, "/pub/index/area/page", headers={"Authorization": basic("carol", "pw")})
    assert r.status == 200 and r.text == "area page for carol"
    # module-level __auth__
    r = get(srv, "/pub/other/guarded", headers={"Authorization": basic("dave", "pw")})
    assert r.status == 200 and r.text == "guarded for dave"
    r = get(srv, "/pub/other/guarded")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Other"'


def test_publisher_upload(srv):
    body = multipart([("f", b"file body\r\n", "up.txt", "text/plain")], b"PubB")
    r = post_raw(srv, "/pub/index/upload", body, "multipart/form-data; boundary=PubB")
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
    d2 = raw(srv, [raw_req.encode()]).json()
    assert d2 == d
    # a tampered signature: the cookie is downgraded to a plain Cookie
    bad = cookie.replace("signed=" + by_name["signed"][:4], "signed=0000")
    d = get(srv, "/cookies/c/get", headers={"Cookie": bad}).json()
    assert d["signed_cls"] == "Cookie"


# ---------------------------------------------------------------- every documented member

DOC_MEMBERS = """
add_cgi_vars add_common_vars allow_methods auth_name auth_type construct_url discard_request_body
document_root get_basic_auth_pw get_config get_remote_host get_options internal_redirect is_https
log_error meets_conditions requires read readline readlines register_cleanup sendfile
set_last_modified update_mtime write flush set_content_length connection server next prev main
the_request assbackwards proxyreq header_only protocol proto_num hostname request_time status_line
status method allowed allowed_xmethods allowed_methods sent_bodyct bytes_sent mtime
chunked range clength remaining read_chunked expecting_100 headers_in headers_out err_headers_out
subprocess_env notes phase interpreter content_type content_languages handler content_encoding
vlist_validator user ap_auth_type no_cache unparsed_uri uri filename canonical_filename
path_info args finfo parsed_uri used_path_info eos_sent set_etag ssl_var_lookup method_number
read_length read_body no_local_copy useragent_addr useragent_ip
""".split()

DOC_CONNECTION = """log_error base_server local_addr remote_addr client_addr remote_ip client_ip
remote_host remote_logname aborted keepalive double_reverse keepalives local_ip local_host id notes
""".split()

DOC_SERVER = """get_config get_options log_error register_cleanup defn_name defn_line_number server_admin
server_hostname names wild_names port error_fname loglevel is_virtual timeout keep_alive_timeout
keep_alive_max keep_alive path pathlen limit_req_line limit_req_fieldsize limit_req_fields
""".split()

DOC_APACHE = """log_error import_module exists_config exists_config_define stat register_cleanup config_tree
server_root make_table mpm_query interpreter main_server MODULE_MAGIC_NUMBER_MAJOR
MODULE_MAGIC_NUMBER_MINOR table SERVER_RETURN OK DECLINED DONE HTTP_NOT_FOUND FINFO_MTIME URI_PATH
APR_REG APR_DIR APR_NOFILE APR_FINFO_MIN M_GET M_PROPFIND REMOTE_NOLOOKUP PROXYREQ_NONE
""".split()


def test_documented_request_members_exist(make_server):
    srv = make_server({
        "sites.d/s.toml": """
            [[site]]
            server_name = "s.test"
            document_root = "../s"
            handler = "h"
        """,
        "s/h.py": """
            import json
            from mod_python import apache
            def handler(req):
                req.content_type = "application/json"
                names = json.loads(req.headers_in["X-Names"])
                missing = [n for n in names["req"] if not hasattr(req, n)]
                missing += ["connection." + n for n in names["connection"] if not hasattr(req.connection, n)]
                missing += ["server." + n for n in names["server"] if not hasattr(req.server, n)]
                missing += ["apache." + n for n in names["apache"] if not hasattr(apache, n)]
                req.write(json.dumps(missing))
                return apache.OK
        """,
    })
    names = {"req": DOC_MEMBERS, "connection": DOC_CONNECTION, "server": DOC_SERVER, "apache": DOC_APACHE}
    r = srv.get("/x", headers={"X-Names": json.dumps(names)})
    assert r.status == 200 and r.json() == [], r.text


# ---------------------------------------------------------------- the sample application

SAMPLES = os.path.join(SOURCE_DIR, "samples")


@pytest.fixture(scope="module")
def sample_srv(tmp_path_factory):
    if not os.path.isfile(os.path.join(SAMPLES, "sites.d", "modpython.toml")):
        pytest.fail("samples/sites.d/modpython.toml is missing")
    root = str(tmp_path_factory.mktemp("samples"))
    s = Server(root, os.path.join(SAMPLES, "server.toml"), free_port())
    s.start()
    yield s
    s.stop()


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
    r = sample(sample_srv, "GET", "/private", headers={"Authorization": basic("admin", "secret")})
    assert r.status == 200 and "Welcome, admin" in r.text


def test_sample_app_cookie(sample_srv):
    r = sample(sample_srv, "GET", "/visits")
    assert r.status == 200 and "visit 1" in r.text, r
    cookie = r.headers["Set-Cookie"].split(";")[0]
    r = sample(sample_srv, "GET", "/visits", headers={"Cookie": cookie})
    assert "visit 2" in r.text, r


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
    "s/late.py": """
        import os
        from mod_python import apache

        def _path(req):
            return os.path.join(os.path.dirname(__file__), "late-%s.txt" % req.args)

        def accesshandler(req):
            if req.args.startswith("deny"):
                return apache.HTTP_FORBIDDEN
            return apache.OK

        def handler(req):
            if req.args.startswith("gone"):
                return apache.HTTP_GONE
            if req.args.startswith("status"):
                req.status = apache.HTTP_NOT_FOUND
                req.write("custom not found")
                return apache.OK
            req.write("hello")
            return apache.OK

        def loghandler(req):
            with open(_path(req), "a") as f:
                f.write("log status=%s bytes=%s phase=%s\\n" % (req.status, req.bytes_sent, req.phase))
            return apache.OK

        def cleanuphandler(req):
            with open(_path(req), "a") as f:
                f.write("cleanup status=%s\\n" % req.status)
            return apache.OK
    """,
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


# ---------------------------------------------------------------- access log user and HEAD

def test_access_log_names_the_authenticated_user(srv):
    r = get(srv, "/auth/page?logged", headers={"Authorization": basic("alice", "wonderland")})
    assert r.status == 200

    def line():
        return [l for l in srv.log().splitlines() if '"GET /auth/page?logged ' in l]
    assert srv.wait_for(line)
    assert line()[0].startswith("127.0.0.1 - alice [")


def test_head_keeps_the_content_length(srv):
    g = get(srv, "/m/members.py/done")
    h = srv.request("HEAD", "/m/members.py/done", host=HOST)
    assert h.status == 200 and h.body == b""
    assert h.headers["Content-Length"] == g.headers["Content-Length"] == str(len(b"done early"))

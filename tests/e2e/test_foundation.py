"""The foundation: mod_python handlers served from TOML sites in named
subinterpreters, each naming rule seen through req.interpreter."""

import email.utils
import json
import os
import signal

from conftest import run_cli

INTERP_HANDLER = """
from mod_python import apache

hits = 0

def handler(req):
    global hits
    hits += 1
    req.content_type = "application/json"
    import json
    req.write(json.dumps({"interpreter": req.interpreter, "hits": hits,
                          "filename": req.filename, "path_info": req.path_info,
                          "phase": req.phase, "uri": req.uri, "args": req.args}))
    return apache.OK
"""


def naming_tree():
    return {
        "sites.d/a.toml": """
            [[site]]
            server_name = "a.test"
            default = true
            document_root = "../a"

            [[site.directory]]
            path = "app"
            handler = "show"

            [[site.directory]]
            path = "named"
            handler = "show"
            interpreter = "shared"

            [[site.directory]]
            path = "perdir"
            handler = "show"
            interp_per_directory = true

            [[site.directory]]
            path = "directive"
            handler = "show"
            interp_per_directive = true

            [[site.directory]]
            path = "main"
            handler = "show"
            interpreter = "main_interpreter"

            [[site.location]]
            path = "/loc"
            handler = "show"
            interp_per_directive = true
        """,
        "sites.d/b.toml": """
            [[site]]
            server_name = "b.test"
            document_root = "../b"
            handler = "show"
            interp_per_directive = true
        """,
        "a/app/show.py": INTERP_HANDLER,
        "a/named/show.py": INTERP_HANDLER,
        "a/perdir/show.py": INTERP_HANDLER,
        "a/perdir/sub/file.txt": "x\n",
        "a/perdir/other/file.txt": "y\n",
        "a/directive/show.py": INTERP_HANDLER,
        "a/directive/deeper/file.txt": "z\n",
        "a/main/show.py": INTERP_HANDLER,
        "a/show.py": INTERP_HANDLER,
        "b/show.py": INTERP_HANDLER,
    }


def interp_of(srv, path, host="a.test"):
    r = srv.get(path, host=host)
    assert r.status == 200, (path, r, srv.log()[-3000:])
    return r.json()["interpreter"]


def test_default_rule_is_server_name(make_server):
    srv = make_server(naming_tree())
    assert interp_of(srv, "/app/anything") == "a.test"
    assert interp_of(srv, "/app/") == "a.test"


def test_interpreter_key_names_the_interpreter(make_server):
    srv = make_server(naming_tree())
    assert interp_of(srv, "/named/x") == "shared"


def test_interp_per_directory_uses_directory_of_filename(make_server):
    srv = make_server(naming_tree())
    root = os.path.realpath(srv.root)
    sub = interp_of(srv, "/perdir/sub/file.txt")
    assert sub == root + "/a/perdir/sub/"
    # the directory itself, with and without a trailing slash, names the same one
    assert interp_of(srv, "/perdir/sub/") == sub
    assert interp_of(srv, "/perdir/sub") == sub
    assert interp_of(srv, "/perdir/other/file.txt") == root + "/a/perdir/other/"
    # a missing file: the longest existing prefix is the directory
    assert interp_of(srv, "/perdir/sub/missing/deeper") == sub


def test_interp_per_directive_uses_block_path(make_server):
    srv = make_server(naming_tree())
    root = os.path.realpath(srv.root)
    assert interp_of(srv, "/directive/deeper/file.txt") == root + "/a/directive/"
    assert interp_of(srv, "/loc/x") == "/loc/"
    # a handler set at site level under interp_per_directive -> main_interpreter
    assert interp_of(srv, "/anything", host="b.test") == "main_interpreter"


def test_main_interpreter(make_server):
    srv = make_server(naming_tree())
    assert interp_of(srv, "/main/x") == "main_interpreter"


def test_route_names_the_interpreter_the_server_uses(make_server):
    srv = make_server(naming_tree())
    for host, path in [("a.test", "/app/x"), ("a.test", "/named/x"), ("a.test", "/perdir/sub/file.txt"),
                       ("a.test", "/perdir/sub"), ("a.test", "/directive/deeper/file.txt"),
                       ("a.test", "/loc/y"), ("b.test", "/z"), ("a.test", "/main/q")]:
        p = run_cli("route", "-c", srv.config, "http://%s%s" % (host, path), "--json")
        assert p.returncode == 0, p.stderr
        routed = json.loads(p.stdout)
        assert routed["phases"]["handler"]["interpreter"] == interp_of(srv, path, host=host), (host, path)
        text = run_cli("route", "-c", srv.config, "http://%s%s" % (host, path)).stdout
        assert "interpreter: " + routed["phases"]["handler"]["interpreter"] in text
        assert "rule: " in text


def test_module_state_persists_across_requests(make_server):
    srv = make_server(naming_tree())
    hits = [srv.get("/app/x", host="a.test").json()["hits"] for _ in range(5)]
    assert hits == [1, 2, 3, 4, 5]
    # another interpreter has its own copy of the module
    assert srv.get("/named/x").json()["hits"] == 1


MYMODULE_HANDLER = """
from mod_python import apache
import MyModule

def handler(req):
    req.content_type = "text/plain"
    req.write("%s %s" % (MyModule.WHO, req.interpreter))
    return apache.OK
"""


def isolation_tree(shared):
    interp = 'interpreter = "together"' if shared else ""
    return {
        "sites.d/one.toml": """
            [[site]]
            server_name = "one.test"
            document_root = "../one"
            handler = "page"
            %s
        """ % interp,
        "sites.d/two.toml": """
            [[site]]
            server_name = "two.test"
            document_root = "../two"
            handler = "page"
            %s
        """ % interp,
        "one/page.py": MYMODULE_HANDLER.replace("import MyModule",
                                                "MyModule = apache.import_module('MyModule')"),
        "one/MyModule.py": "WHO = 'one'\n",
        "two/page.py": MYMODULE_HANDLER.replace("import MyModule",
                                                "MyModule = apache.import_module('MyModule')"),
        "two/MyModule.py": "WHO = 'two'\n",
    }


def test_same_named_modules_stay_apart(make_server):
    srv = make_server(isolation_tree(shared=False))
    for _ in range(2):
        assert srv.get("/", host="one.test").text == "one one.test"
        assert srv.get("/", host="two.test").text == "two two.test"


def test_same_named_modules_stay_apart_in_one_interpreter(make_server):
    srv = make_server(isolation_tree(shared=True))
    for _ in range(2):
        assert srv.get("/", host="one.test").text == "one together"
        assert srv.get("/", host="two.test").text == "two together"


def test_globals_do_not_cross_interpreters(make_server):
    handler = """
        from mod_python import apache
        import sys

        def handler(req):
            if req.args == "set":
                sys.subhttpd_marker = req.interpreter
            req.content_type = "text/plain"
            req.write(repr(getattr(sys, "subhttpd_marker", None)))
            return apache.OK
    """
    srv = make_server({
        "sites.d/s.toml": """
            [[site]]
            server_name = "x.test"
            document_root = "../x"
            handler = "h"
            [[site]]
            server_name = "y.test"
            document_root = "../y"
            handler = "h"
        """,
        "x/h.py": handler, "y/h.py": handler,
    })
    assert srv.get("/?set", host="x.test").text == "'x.test'"
    assert srv.get("/", host="x.test").text == "'x.test'"
    assert srv.get("/", host="y.test").text == "None"


STATIC_TREE = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "static.test"
        document_root = "../htdocs"
        index = ["index.html"]
    """,
    "htdocs/index.html": "<h1>home</h1>\n",
    "htdocs/style.css": "body { color: red }\n",
    "htdocs/sub/data.json": '{"a": 1}\n',
    "htdocs/noindex/file.txt": "t\n",
}


def test_static_files(make_server):
    srv = make_server(dict(STATIC_TREE))
    r = srv.get("/")
    assert r.status == 200 and r.text == "<h1>home</h1>\n"
    assert r.headers["Content-Type"].startswith("text/html")
    r = srv.get("/style.css")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
    assert r.headers["Content-Length"] == str(len("body { color: red }\n"))
    r = srv.get("/sub/data.json")
    assert r.headers["Content-Type"].startswith("application/json")
    lm = r.headers["Last-Modified"]
    assert email.utils.parsedate_to_datetime(lm)
    r304 = srv.get("/sub/data.json", headers={"If-Modified-Since": lm})
    assert r304.status == 304 and r304.body == b""
    head = srv.request("HEAD", "/style.css")
    assert head.status == 200 and head.body == b""
    assert srv.get("/sub").status == 301
    assert srv.get("/sub").headers["Location"] == "/sub/"
    assert srv.get("/noindex/").status == 403
    assert srv.get("/missing.txt").status == 404
    assert srv.get("/style.css/extra").status == 404
    assert srv.post("/style.css", b"x").status == 405


def test_paths_never_escape_the_document_root(make_server):
    tree = dict(STATIC_TREE)
    tree["secret.txt"] = "secret\n"
    srv = make_server(tree)
    os.symlink(os.path.join(srv.root, "secret.txt"), os.path.join(srv.root, "htdocs", "link.txt"))
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt", "/%2E%2E/secret.txt",
                 "/link.txt", "/index.html%00.txt", "/..%5csecret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
                 "/../server.toml", "/../sites.d/s.toml"]:
        r = srv.get(path)
        assert r.status in (400, 403, 404), (path, r)
        assert b"secret" not in r.body and b"server_name" not in r.body, path


def test_handler_exception_is_500_and_server_serves_on(make_server):
    tree = {
        "sites.d/s.toml": """
            [[site]]
            server_name = "err.test"
            document_root = "../w"
            handler = "h"
        """,
        "w/h.py": """
            from mod_python import apache

            def handler(req):
                if req.args == "boom":
                    raise ValueError("kaboom-detail")
                if req.args == "none":
                    return None
                if req.args == "exit":
                    import sys
                    sys.exit(3)
                if req.args == "404":
                    return apache.HTTP_NOT_FOUND
                if req.args == "sr":
                    raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
                req.write("fine")
                return apache.OK
        """,
    }
    srv = make_server(tree)
    r = srv.get("/?boom")
    assert r.status == 500
    assert b"kaboom-detail" not in r.body  # no traceback without debug
    assert srv.get("/?none").status == 500
    assert srv.get("/?exit").status == 500
    assert srv.get("/?404").status == 404
    assert srv.get("/?sr").status == 403
    assert srv.get("/").text == "fine"
    log = srv.log()
    assert "kaboom-detail" in log and "err.test" in log  # traceback logged with the interpreter


def test_debug_puts_traceback_in_body(make_server):
    srv = make_server({
        "sites.d/s.toml": """
            [[site]]
            server_name = "dbg.test"
            document_root = "../w"
            handler = "h"
        """,
        "w/h.py": """
            def handler(req):
                raise RuntimeError("visible-detail")
        """,
    }, debug=True)
    r = srv.get("/")
    assert r.status == 500
    assert b"visible-detail" in r.body and b"Traceback" in r.body and b"dbg.test" in r.body


def test_sigterm_stops_gracefully(make_server):
    srv = make_server(dict(STATIC_TREE))
    assert srv.get("/").status == 200
    assert srv.stop(signal.SIGTERM) == 0


def test_check_and_route_cli(make_server, tmp_path):
    srv = make_server(dict(STATIC_TREE), start=False)
    p = run_cli("check", "-c", srv.config)
    assert p.returncode == 0 and "OK" in p.stdout
    with open(os.path.join(srv.root, "sites.d", "bad.toml"), "w") as f:
        f.write('[[site]]\nserver_name = 42\ndocument_root = "../nowhere"\nbogus = 1\n')
    p = run_cli("check", "-c", srv.config)
    assert p.returncode == 1
    lines = [line for line in p.stderr.splitlines() if "bad.toml:" in line]
    assert len(lines) >= 3, p.stderr
    assert any("bad.toml:2:" in line for line in lines)
    assert any("bad.toml:4:" in line and "bogus" in line for line in lines)
    p = run_cli("check", "-c", srv.config, "--json")
    assert p.returncode == 1 and json.loads(p.stdout)["ok"] is False

"""The dev-server experience: `subhttpd init`, `run --dev` (banner, short access
lines, colour only on a terminal), the PythonDebug error pages, JSON output of
route and check, and --help for every subcommand."""

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from conftest import BINARY, Server, free_port, run_cli

BAD_HANDLER = """
from mod_python import apache

def helper(n):
    marker_before = n + 1
    raise ValueError("boom <b>%d</b>" % n)

def handler(req):
    helper(41)
    return apache.OK
"""

SYNTAX_HANDLER = """
from mod_python import apache

def handler(req:
    return apache.OK
"""

SHOW_HANDLER = """
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write(req.interpreter)
    return apache.OK
"""

WSGI_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"wsgi"]
"""


def error_tree():
    return {
        "sites.d/err.toml": """
            [[site]]
            server_name = "err.test"
            default = true
            document_root = "../www"

            [[site.directory]]
            path = "bad"
            handler = "bad"

            [[site.directory]]
            path = "syntax"
            handler = "broken"

            [[site.directory]]
            path = "ok"
            handler = "show"
        """,
        "www/bad/bad.py": BAD_HANDLER,
        "www/syntax/broken.py": SYNTAX_HANDLER,
        "www/ok/show.py": SHOW_HANDLER,
    }


# --- init -------------------------------------------------------------------

def test_init_then_check_run_and_request(tmp_path):
    project = str(tmp_path / "proj")
    port = free_port()
    done = run_cli("init", project, "--listen", "127.0.0.1:%d" % port)
    assert done.returncode == 0, done.stderr
    for rel in ("server.toml", "sites.d/localhost.toml", "htdocs/index.html", "htdocs/app/hello.py"):
        assert os.path.isfile(os.path.join(project, rel)), rel
    assert "Next steps" in done.stdout and "run -c" in done.stdout and "--dev" in done.stdout
    site = open(os.path.join(project, "sites.d/localhost.toml")).read()
    # every key is explained by a comment
    for key in ("server_name", "document_root", "handler", "path"):
        assert re.search(r"#.*\n%s\s*=|^%s\s*=.*#" % (key, key), site, re.M), key
    config = os.path.join(project, "server.toml")
    assert "127.0.0.1:%d" % port in open(config).read()

    checked = run_cli("check", "-c", config)
    assert checked.returncode == 0, checked.stderr

    srv = Server(project, config, port).start()
    try:
        r = srv.get("/app/hello")
        assert r.status == 200 and "Hello from localhost" in r.text
        r = srv.get("/")
        assert r.status == 200 and "<h1>It works</h1>" in r.text
        assert r.headers["Content-Type"].startswith("text/html")
    finally:
        srv.stop()


def test_init_refuses_to_overwrite(tmp_path):
    project = tmp_path / "proj"
    (project / "sites.d").mkdir(parents=True)
    mine = project / "sites.d" / "localhost.toml"
    mine.write_text("# mine\n")
    done = run_cli("init", str(project))
    assert done.returncode == 1
    assert str(mine) in done.stderr
    assert mine.read_text() == "# mine\n"
    assert not (project / "server.toml").exists()  # nothing written at all
    assert not (project / "htdocs").exists()


def test_init_name_option(tmp_path):
    project = str(tmp_path / "p")
    done = run_cli("init", project, "--name", "blog.localhost")
    assert done.returncode == 0, done.stderr
    text = open(os.path.join(project, "sites.d", "blog.localhost.toml")).read()
    assert 'server_name = "blog.localhost"' in text
    assert run_cli("check", "-c", os.path.join(project, "server.toml")).returncode == 0
    assert run_cli("init", str(tmp_path / "q"), "--name", "Bad/Name").returncode == 2


# --- run --dev --------------------------------------------------------------

def banner_tree():
    return {
        "sites.d/a.toml": """
            [[site]]
            server_name = "a.test"
            aliases = ["www.a.test"]
            default = true
            document_root = "../www"

            [[site.directory]]
            path = "app"
            handler = "show"

            [[site.directory]]
            path = "perdir"
            handler = "show"
            interp_per_directory = true

            [[site.directory]]
            path = "directive"
            handler = "show"
            interp_per_directive = true

            [[site.location]]
            path = "/api"
            wsgi = "wapp:application"
            interpreter = "apis"
        """,
        "sites.d/b.toml": """
            [[site]]
            server_name = "b.localhost"
            document_root = "../www2"
            handler = "show"
            interp_per_directive = true
        """,
        "www/app/show.py": SHOW_HANDLER,
        "www/perdir/show.py": SHOW_HANDLER,
        "www/directive/show.py": SHOW_HANDLER,
        "www/wapp.py": WSGI_APP,
        "www2/show.py": SHOW_HANDLER,
    }


def test_dev_banner_lists_sites_urls_blocks_and_rules(make_server):
    srv = make_server(banner_tree(), extra_args=["--dev"])
    log = srv.wait_for(lambda: srv.log() if "handlers:" in srv.log() else None)
    root = srv.root
    assert "debug on, autoreload on" in log
    # site a: default, URL on the listen address, root, four handler blocks with their rules
    assert "site a.test  [default]" in log and "www.a.test" in log
    assert "url:   http://127.0.0.1:%d/" % srv.port in log
    assert "root:  %s" % os.path.join(root, "www") in log
    lines = log.splitlines()

    def block(url):
        i = next(i for i, l in enumerate(lines) if l.strip().startswith(url + "  "))
        return lines[i] + "\n" + lines[i + 1]

    app = block("/app/")
    assert "directory %s" % os.path.join(root, "www", "app") in app
    assert "handler show" in app and "interpreter a.test (rule: server_name)" in app
    perdir = block("/perdir/")
    assert "rule: interp_per_directory" in perdir and os.path.join(root, "www", "perdir") + "/" in perdir
    directive = block("/directive/")
    assert "rule: interp_per_directive" in directive
    assert "interpreter %s/" % os.path.join(root, "www", "directive") in directive
    api = block("/api")
    assert "location /api" in api and "wsgi wapp:application" in api
    assert "interpreter apis (rule: interpreter)" in api
    # site b: a *.localhost name is its own URL; a site-level handler per directive
    assert "site b.localhost" in log
    assert "url:   http://b.localhost:%d/" % srv.port in log
    site_b = log[log.index("site b.localhost"):]
    assert "interpreter main_interpreter (rule: interp_per_directive_site" in site_b
    # the banner's claims hold
    assert srv.get("/app/x", host="a.test").text == "a.test"
    assert srv.get("/api/x").text == "wsgi"


def test_dev_static_only_site(make_server):
    srv = make_server({"sites.d/s.toml": """
        [[site]]
        server_name = "static.test"
        document_root = "../www"
    """, "www/index.html": "hi"}, extra_args=["--dev"])
    log = srv.wait_for(lambda: srv.log() if "handlers:" in srv.log() else None)
    assert "handlers: none (static files only)" in log


ACCESS_RE = re.compile(r"^GET /ok/x\?a=1 200 [0-9.]+(ms|s) err\.test$", re.M)


def test_dev_access_log_is_short_and_plain_off_a_terminal(make_server):
    srv = make_server(error_tree(), extra_args=["--dev"])
    assert srv.get("/ok/x?a=1").status == 200
    assert srv.get("/missing.html").status == 404
    log = srv.wait_for(lambda: srv.log() if "/missing.html 404" in srv.log() else None)
    assert ACCESS_RE.search(log), log
    assert re.search(r"^GET /missing.html 404 [0-9.]+ms$", log, re.M), log
    assert "\x1b[" not in log
    assert '"GET /ok/x?a=1 HTTP/1.1"' not in log  # not the combined format


def test_dev_from_config_file_and_no_color(make_server):
    srv = make_server(error_tree(), server_extra="dev = true", env={"NO_COLOR": "1"})
    assert srv.get("/ok/x?a=1").status == 200
    log = srv.wait_for(lambda: srv.log() if "/ok/x?a=1 200" in srv.log() else None)
    assert "subhttpd dev server" in log
    assert ACCESS_RE.search(log) and "\x1b[" not in log
    # [server] dev = true turns debug on although [python] debug = false
    r = srv.get("/bad/", headers={"Accept": "text/plain"})
    assert r.status == 500 and "ValueError" in r.text


def test_combined_access_log_without_dev(make_server):
    srv = make_server(error_tree())
    srv.get("/ok/x?a=1")
    log = srv.wait_for(lambda: srv.log() if "/ok/x?a=1" in srv.log() else None)
    assert '"GET /ok/x?a=1 HTTP/1.1" 200' in log
    assert "subhttpd dev server" not in log


def run_on_pty(make_server, env):
    """Starts a --dev server whose stderr is a terminal; returns (server, read_all)."""
    srv = make_server(error_tree(), start=False)
    master, slave = pty.openpty()
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env)
    proc = subprocess.Popen([BINARY, "-c", srv.config, "--listen", "127.0.0.1:%d" % srv.port, "--dev"],
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=full_env)
    os.close(slave)
    srv.proc = proc
    srv._log = open(os.devnull, "wb")
    chunks = []

    def read_all(until, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = b"".join(chunks).decode("utf-8", "replace")
            if until in text:
                return text
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunks.append(os.read(master, 65536))
                except OSError:
                    break
        return b"".join(chunks).decode("utf-8", "replace")

    read_all("handlers:")
    return srv, read_all, master


@pytest.mark.parametrize("no_color", [False, True])
def test_dev_access_log_colour_on_a_terminal(make_server, no_color):
    srv, read_all, master = run_on_pty(make_server, {"NO_COLOR": "1"} if no_color else {})
    try:
        assert srv.get("/ok/x").status == 200
        assert srv.get("/nope.html").status == 404
        assert srv.get("/bad/").status == 500
        text = read_all("/bad/ 500")
    finally:
        srv.stop()
        os.close(master)
    if no_color:
        assert "\x1b[" not in text
        assert re.search(r"^GET /ok/x 200 ", text, re.M)
    else:
        assert "\x1b[32mGET /ok/x 200 " in text      # 2xx green
        assert "\x1b[33mGET /nope.html 404 " in text  # 4xx yellow
        assert "\x1b[31mGET /bad/ 500 " in text       # 5xx red


# --- error pages ------------------------------------------------------------

def test_html_error_page_with_debug(make_server):
    srv = make_server(error_tree(), debug=True)
    r = srv.get("/bad/thing?q=1", headers={"Accept": "text/html,application/xhtml+xml;q=0.9", "X-Probe": "p-123"})
    assert r.status == 500
    assert r.headers["Content-Type"].startswith("text/html")
    body = r.text
    assert "<!DOCTYPE html>" in body
    assert "ValueError" in body and "boom &lt;b&gt;41&lt;/b&gt;" in body and "<b>41</b>" not in body
    bad = os.path.join(srv.root, "www", "bad", "bad.py")
    assert body.count('File "%s"' % bad) >= 2          # both frames: handler and helper
    assert "marker_before = n + 1" in body             # source around the line
    assert "helper(41)" in body
    assert "GET /bad/thing?q=1 HTTP/1.1" in body       # request line
    assert "X-Probe" in body and "p-123" in body       # headers
    assert "err.test" in body                          # site
    assert "directory %s" % os.path.join(srv.root, "www", "bad") in body  # block
    assert "bad::handler" in body and "PythonHandler" in body
    assert "<td>Interpreter</td><td><code>err.test</code>" in body


def test_plain_text_error_page_with_debug(make_server):
    srv = make_server(error_tree(), debug=True)
    r = srv.get("/bad/", headers={"Accept": "*/*", "X-Probe": "p-456", "Authorization": "Basic c2VjcmV0"})
    assert r.status == 500
    assert r.headers["Content-Type"].startswith("text/plain")
    body = r.text
    assert "<html" not in body
    assert "ValueError: boom <b>41</b>" in body
    assert re.search(r"^  >\s+5 \|     raise ValueError", body, re.M), body
    assert re.search(r"^\s+4 \|     marker_before = n \+ 1", body, re.M)
    assert "GET /bad/ HTTP/1.1" in body and "X-Probe: p-456" in body
    assert "c2VjcmV0" not in body                      # credentials stay hidden
    assert "Interpreter:    'err.test'" in body and "Site:           err.test" in body
    assert "Block:          directory %s" % os.path.join(srv.root, "www", "bad") in body
    assert "Traceback (most recent call last)" in body


def test_no_error_details_without_debug(make_server):
    srv = make_server(error_tree(), debug=False)
    for accept in ("text/html", "*/*"):
        r = srv.get("/bad/", headers={"Accept": accept, "X-Probe": "p-789"})
        assert r.status == 500
        for leak in ("ValueError", "Traceback", "marker_before", "p-789", "bad.py", "err.test"):
            assert leak not in r.text, (accept, leak)
        assert "Internal Server Error" in r.text
    r = srv.get("/syntax/")
    assert r.status == 500 and "SyntaxError" not in r.text and "broken.py" not in r.text
    # the log still has it all
    assert srv.wait_for(lambda: "ValueError: boom" in srv.log())


def test_syntax_error_page(make_server):
    srv = make_server(error_tree(), debug=True)
    broken = os.path.join(srv.root, "www", "syntax", "broken.py")
    r = srv.get("/syntax/", headers={"Accept": "text/plain"})
    assert r.status == 500
    body = r.text
    assert "SyntaxError" in body
    assert 'File "%s", line 3' % broken in body
    m = re.search(r"^    (def handler\(req:)\n    ( *\^+)$", body, re.M)
    assert m, body
    assert m.group(2).index("^") == m.group(1).index("(")  # the caret under the open parenthesis
    assert "subhttpd_runtime" not in body.split("Request:")[0]  # no importer frames before the request

    r = srv.get("/syntax/", headers={"Accept": "text/html"})
    assert r.status == 500 and r.headers["Content-Type"].startswith("text/html")
    assert "SyntaxError" in r.text and 'File "%s", line 3' % broken in r.text
    assert "def handler(req:" in r.text and '<span class="caret">' in r.text


# --- route / check JSON -----------------------------------------------------

def test_route_json(make_server):
    srv = make_server(banner_tree(), start=False)
    done = run_cli("route", "-c", srv.config, "http://a.test/perdir/sub/x?y=1", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["site"] == "a.test" and data["kind"] == "handler"
    content = data["phases"]["handler"]
    assert content["handlers"] == ["show::handler"]
    assert content["rule"] == "interp_per_directory"
    assert content["interpreter"] == os.path.join(srv.root, "www", "perdir") + "/"  # sub/ does not exist
    assert data["debug"] is False
    dev = json.loads(run_cli("route", "-c", srv.config, "/app/", "--json", "--dev").stdout)
    assert dev["debug"] is True


def test_check_json(make_server):
    srv = make_server(banner_tree(), start=False)
    ok = run_cli("check", "-c", srv.config, "--json")
    assert ok.returncode == 0
    data = json.loads(ok.stdout)
    assert data["ok"] is True and data["errors"] == [] and data["sites"] == 2

    with open(os.path.join(srv.root, "sites.d", "b.toml"), "a") as f:
        f.write('bogus_key = 1\n')
    bad = run_cli("check", "-c", srv.config, "--json")
    assert bad.returncode == 1
    data = json.loads(bad.stdout)
    assert data["ok"] is False and data["errors"]
    e = data["errors"][0]
    assert e["file"].endswith("b.toml") and e["line"] > 0 and e["column"] > 0 and "bogus_key" in e["message"]


# --- help -------------------------------------------------------------------

@pytest.mark.parametrize("args,first", [
    (["--help"], "usage:"),
    (["help"], "usage:"),
    (["run", "--help"], "usage: subhttpd [run]"),
    (["check", "--help"], "usage: subhttpd check"),
    (["route", "--help"], "usage: subhttpd route"),
    (["init", "--help"], "usage: subhttpd init"),
    (["help", "route"], "usage: subhttpd route"),
    (["route", "-h"], "usage: subhttpd route"),
])
def test_help_for_every_subcommand(args, first):
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(first), done.stdout
    assert "examples:" in done.stdout


def test_overview_names_every_command():
    out = run_cli("--help").stdout
    for cmd in ("run", "check", "route", "init", "--dev", "--json"):
        assert cmd in out

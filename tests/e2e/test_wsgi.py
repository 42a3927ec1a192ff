"""WSGI (PEP 3333) apps served by the real binary: an app under
wsgiref.validate with warnings turned into errors, streaming, exc_info, errors,
close(), mounts, header hygiene, per-site env isolation, autoreload, .wsgi
files, wsgi.file_wrapper, mod_python.wsgi, and the subinterpreter-refusal hint."""

import json
import os

import pytest

from conftest import SAMPLES, app_source, serve_config

# Every request here must pass wsgiref's validator with no warning: warnings are
# errors, so any WSGIWarning becomes a 500 and fails the test.
VALIDATED_APP = app_source("wsgi/validated.py")

PLAIN_APP = app_source("wsgi/plain.py")

ENV_APP = app_source("wsgi/envapp.py")


def site(name, root, body, default=False, env=None):
    lines = ['[[site]]', 'server_name = "%s"' % name, 'document_root = "%s"' % root]
    if default:
        lines.append("default = true")
    if env:
        lines.append("env = { %s }" % ", ".join('%s = "%s"' % kv for kv in env.items()))
    return "\n".join(lines) + "\n" + body


def validated_server(make_server, debug=False):
    return make_server({
        "sites.d/a.toml": site("a.test", "../a", """
            [[site.location]]
            path = "/v"
            wsgi = "validated:application"
        """, default=True),
        "a/validated.py": VALIDATED_APP,
    }, debug=debug)


def assert_clean_log(srv):
    log = srv.log()
    for bad in ("WSGIWarning", "AssertionError", "garbage collected without being closed"):
        assert bad not in log, log


def test_validator_get_head_post(make_server):
    srv = validated_server(make_server)
    r = srv.get("/v/env?x=1&y=%20")
    assert r.status == 200, r.text
    env = r.json()
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == "/v"
    assert env["PATH_INFO"] == "/env"
    assert env["QUERY_STRING"] == "x=1&y=%20"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_NAME"] == "localhost"
    assert env["SERVER_PORT"] == str(srv.port) or env["SERVER_PORT"]
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert int(env["REMOTE_PORT"]) > 0
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.multithread"] is False
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert env["subhttpd.interpreter"] == "a.test"
    assert env["mod_wsgi.application_group"] == "a.test"
    assert env["SCRIPT_FILENAME"].endswith("validated.py")
    assert "CONTENT_LENGTH" not in env and "HTTP_CONTENT_LENGTH" not in env

    h = srv.request("HEAD", "/v/env")
    assert h.status == 200 and h.body == b""
    assert int(h.headers["Content-Length"]) > 0

    p = srv.post("/v/echo", b"hello body", headers={"Content-Type": "text/plain"})
    assert p.status == 200 and p.body == b"POST hello body"

    lines = srv.post("/v/lines", b"one\ntwo three\nfour\nfive")
    assert lines.json() == ["one\n", "two", [" three\n", "four\n", "five"]]
    rl = srv.post("/v/readlines", b"a\nb\nc")
    assert rl.json() == ["a\n", "b\n", "c"]

    w = srv.get("/v/write")
    assert w.body == b"written and returned"
    e = srv.get("/v/empty")
    assert e.status == 204 and e.body == b""
    nf = srv.get("/v/nothing")
    assert nf.status == 404 and nf.body == b"no such page: /nothing"
    assert_clean_log(srv)


def test_validator_streaming_excinfo_errors_close(make_server):
    srv = validated_server(make_server, debug=True)
    s = srv.get("/v/stream")
    assert s.status == 200
    assert s.body == b"".join(b"part %d\n" % i for i in range(5))

    x = srv.get("/v/excinfo")
    assert x.status == 503 and x.body == b"recovered with exc_info\n"

    before = int(srv.get("/v/closes").body)
    b = srv.get("/v/boom")
    assert b.status == 500
    assert "Boom: before start_response" in b.text  # debug shows the traceback
    # PEP 3333: an error after the first block went out aborts the response
    status, _, body, complete = srv.exchange("GET", "/v/boom-late", host="a.test")
    assert status == 200 and body == b"first\n" and not complete
    assert srv.wait_for(lambda: "exploded while iterating" in srv.log())
    ok = srv.get("/v/env")
    assert ok.status == 200  # the server keeps serving
    # /closes, /excinfo... each returned Body is closed exactly once; the
    # failing generator is closed by the validator wrapper (close() was called).
    after = int(srv.get("/v/closes").body)
    assert after == before + 2  # /v/closes (the first) and /v/env
    log = srv.log()
    assert "Boom: before start_response" in log and "[interp a.test]" in log
    assert_clean_log(srv)


def plain_server(make_server, debug=False, extra=""):
    return make_server({
        "sites.d/p.toml": site("p.test", "../p", """
            [[site.location]]
            path = "/"
            wsgi = "plain:application"
        """ + extra, default=True),
        "p/plain.py": PLAIN_APP,
        "p/data.txt": "hello file wrapper\n" * 100,
    }, debug=debug)


def test_close_always_called_and_errors(make_server):
    srv = plain_server(make_server)
    assert srv.get("/closes").body == b"0"
    status, _, body, complete = srv.exchange("GET", "/fail-iter", host="p.test")
    assert status == 200 and body == b"a" and not complete  # aborted after the first block
    assert srv.get("/closes").body == b"1"  # close() after the iteration failed
    r = srv.get("/no-start")
    assert r.status == 500
    assert srv.get("/closes").body == b"2"
    status, _, body, complete = srv.exchange("GET", "/fail-gen", host="p.test")
    assert status == 200 and body == b"x" and not complete
    for path in ("/bad-header", "/hop", "/bad-status"):
        r = srv.get(path)
        assert r.status == 500, path
        assert "Injected" not in str(r.headers)
    log = srv.log()
    assert "CR, LF" in log and "hop-by-hop header Connection" in log and "status must look like" in log
    # write() sent the headers: exc_info re-raises and the response is aborted
    status, _, body, complete = srv.exchange("GET", "/late-excinfo", host="p.test")
    assert status == 200 and body == b"already out" and not complete
    assert srv.wait_for(lambda: "KeyError: 'late'" in srv.log())
    short = srv.get("/short")
    assert short.status == 200 and short.body == b"01234"
    assert srv.get("/sysexit").status == 500
    assert srv.get("/anything").body == b"ok"


def test_file_wrapper(make_server):
    srv = plain_server(make_server)
    expected = ("hello file wrapper\n" * 100).encode()
    r = srv.get("/file")
    assert r.status == 200 and r.body == expected
    assert int(r.headers["Content-Length"]) == len(expected)
    r = srv.get("/file-offset")
    assert r.body == expected[6:]
    r = srv.get("/file-bytesio")
    assert r.body == b"from memory" * 3
    assert srv.get("/closes").body == b"2"  # both files closed
    assert srv.get("/errors").body == b"logged"
    assert srv.wait_for(lambda: "a line for the error log from wsgi.errors" in srv.log())
    assert "[interp p.test]" in [l for l in srv.log().splitlines() if "from wsgi.errors" in l][0]


def test_mount_headers_and_wsgi_file(make_server):
    srv = make_server({
        "sites.d/m.toml": site("m.test", "../m", """
            [[site.location]]
            path = "/mnt"
            wsgi = "envapp:application"

            [[site.location]]
            path = "/script"
            wsgi = "apps/hello.wsgi"

            [[site.location]]
            path = "/abs"
            wsgi = "apps/other.py:app"
        """, default=True),
        "m/envapp.py": ENV_APP,
        "m/apps/hello.wsgi": """
            def application(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"from a .wsgi file: " + environ["SCRIPT_FILENAME"].encode()]
        """,
        "m/apps/other.py": """
            def app(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"named callable"]
        """,
    })
    r = srv.request("GET", "/mnt/a/b%20c?q=1", headers={
        "X-Good": "yes", "X_Evil": "spoof", "X-Multi": "a", "x-multi": "b"})
    env = r.json()
    assert env["script_name"] == "/mnt" and env["path_info"] == "/a/b c" and env["query"] == "q=1"
    assert env["headers"]["HTTP_X_GOOD"] == "yes"
    assert "HTTP_X_EVIL" not in env["headers"]
    assert env["headers"]["HTTP_X_MULTI"] == "a, b"
    assert env["headers"]["HTTP_HOST"] == "localhost"
    assert srv.get("/mnt").json()["path_info"] == ""
    w = srv.get("/script/x")
    assert w.status == 200 and w.text.startswith("from a .wsgi file: ") and w.text.endswith("hello.wsgi")
    assert srv.get("/abs").body == b"named callable"


def test_env_isolation_between_interpreters(make_server):
    loc = """
        [[site.location]]
        path = "/"
        wsgi = "envapp:application"
    """
    srv = make_server({
        "sites.d/one.toml": site("one.test", "../one", loc, default=True,
                                 env={"APP_SETTINGS_MODULE": "one.settings"}),
        "sites.d/two.toml": site("two.test", "../two", loc, env={"APP_SETTINGS_MODULE": "two.settings"}),
        "sites.d/three.toml": site("three.test", "../three", loc),
        "one/envapp.py": ENV_APP,
        "two/envapp.py": ENV_APP,
        "three/envapp.py": ENV_APP,
    })
    for _ in range(2):
        one = srv.get("/", host="one.test").json()
        two = srv.get("/", host="two.test").json()
        three = srv.get("/", host="three.test").json()
        assert (one["settings"], one["interpreter"]) == ("one.settings", "one.test")
        assert (two["settings"], two["interpreter"]) == ("two.settings", "two.test")
        assert (three["settings"], three["interpreter"]) == (None, "three.test")


def test_autoreload_app_module(make_server):
    srv = make_server({
        "sites.d/r.toml": site("r.test", "../r", """
            [[site.location]]
            path = "/"
            wsgi = "reloading:application"
        """, default=True),
        "r/reloading.py": """
            def application(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"version 1"]
        """,
    })
    assert srv.get("/").body == b"version 1"
    path = os.path.join(srv.root, "r", "reloading.py")
    with open(path) as f:
        src = f.read()
    with open(path, "w") as f:
        f.write(src.replace("version 1", "version 2"))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))  # a new mtime, whatever the clock
    # the resolved app is re-checked at most once a second: a bounded poll
    assert srv.wait_for(lambda: srv.get("/").body == b"version 2", timeout=15)


def test_extension_refusing_subinterpreters(make_server):
    srv = make_server({
        "sites.d/x.toml": site("x.test", "../x", """
            [[site.location]]
            path = "/"
            wsgi = "needsext:application"
        """, default=True),
        "x/needsext.py": """
            raise ImportError("module fakeext does not support loading in subinterpreters", name="fakeext")
        """,
    })
    r = srv.get("/")
    assert r.status == 500
    log = srv.log()
    assert "the C extension 'fakeext' cannot be loaded into this interpreter ('x.test')" in log
    assert 'interpreter = "main_interpreter"' in log and "main_imports" in log
    assert srv.get("/").status == 500  # still answering


def test_offload_streams_and_is_multithread(make_server):
    srv = make_server({
        "sites.d/o.toml": site("o.test", "../o", """
            [[site.location]]
            path = "/"
            wsgi = "streamer:application"
            offload = true
        """, default=True),
        "o/streamer.py": """
            def application(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                yield b"multithread=%r\\n" % environ["wsgi.multithread"]
                for i in range(3):
                    yield b"chunk %d\\n" % i
        """,
    })
    r = srv.get("/")
    assert r.status == 200
    assert r.body == b"multithread=True\nchunk 0\nchunk 1\nchunk 2\n"
    assert r.headers.get("Transfer-Encoding") == "chunked"


def test_mod_python_wsgi_handler(make_server):
    srv = make_server({
        "sites.d/w.toml": site("w.test", "../w", """
            [[site.location]]
            path = "/wsgiapps"
            handler = "mod_python.wsgi"
            options = { "mod_python.wsgi.application" = "mpapp::app" }
        """, default=True),
        "w/mpapp.py": """
            def app(environ, start_response):
                n = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(n)
                start_response("201 Created", [("Content-Type", "text/plain"), ("X-App", "1")])
                return [("%s|%s|%s|" % (environ["SCRIPT_NAME"], environ["PATH_INFO"],
                                        environ["REQUEST_METHOD"])).encode(), body]
        """,
    })
    r = srv.post("/wsgiapps/hello", b"payload")
    assert r.status == 201, r.text
    assert r.body == b"/wsgiapps|/hello|POST|payload"
    assert r.headers["X-App"] == "1" and r.headers["Content-Type"] == "text/plain"


# ---- the samples: Flask and two Django projects in one process -----------------

@pytest.fixture
def samples_server(tmp_path):
    pytest.importorskip("flask")
    pytest.importorskip("django")
    yield from serve_config(str(tmp_path), os.path.join(SAMPLES, "wsgi.toml"),
                            env={"PROJECT1_DB": str(tmp_path / "project1.sqlite3")})


def test_flask_sample(samples_server):
    srv = samples_server
    page = srv.get("/", host="flask.localhost")
    assert page.status == 200 and "Flask on subhttpd" in page.text
    assert "flask.localhost" in page.text  # its own interpreter
    form = srv.post("/form", b"name=Ann+Lee", host="flask.localhost",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 200 and "Hello, Ann Lee!" in form.text
    api = srv.get("/api/items/2", host="flask.localhost")
    assert api.status == 200 and api.json() == {"id": 2, "name": "banana"}
    assert api.headers["Content-Type"] == "application/json"
    echo = srv.post("/api/echo", json.dumps({"a": [1, 2]}).encode(), host="flask.localhost",
                    headers={"Content-Type": "application/json"})
    assert echo.json()["received"] == {"a": [1, 2]}
    missing = srv.get("/api/items/99", host="flask.localhost")
    assert missing.status == 404 and missing.json()["error"] == "not found"
    page404 = srv.get("/no/such/page", host="flask.localhost")
    assert page404.status == 404 and "Nothing at /no/such/page" in page404.text


def test_django_admin_login_and_static(samples_server):
    srv = samples_server
    login = srv.get("/admin/login/", host="django.localhost")
    assert login.status == 200, login.text
    assert "csrfmiddlewaretoken" in login.text
    assert 'href="/static/admin/css/base.css"' in login.text
    css = srv.get("/static/admin/css/base.css", host="django.localhost")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    assert b"body" in css.body
    login_css = srv.get("/static/admin/css/login.css", host="django.localhost")
    assert login_css.status == 200
    redirect = srv.get("/admin/", host="django.localhost")
    assert redirect.status == 302 and "/admin/login/" in redirect.headers["Location"]
    assert srv.get("/nothing-here", host="django.localhost").status == 404


def test_two_django_projects_do_not_interfere(samples_server):
    srv = samples_server
    for _ in range(3):
        one = srv.get("/whoami", host="django.localhost").json()
        two = srv.get("/whoami", host="django2.localhost").json()
        assert one == {"settings_module": "project1.settings", "site_label": "project one",
                       "environ": "project1.settings", "interpreter": "django.localhost", "admin": True}
        assert two == {"settings_module": "project2.settings", "site_label": "project two",
                       "environ": "project2.settings", "interpreter": "django2.localhost", "admin": False}
    # project2 has no admin: its URLconf, not project1's, answers
    assert srv.get("/admin/login/", host="django2.localhost").status == 404

"""The Flask/Django developer's loop: whole-app reload (autoreload = "app", the
dev-mode default for WSGI apps), application factories and their `check`,
framework debug pages in dev mode only, and [[site.alias]] for static files."""

import os
import threading

import pytest

from conftest import Server, free_port, run_cli

# ---- static aliases --------------------------------------------------------

ALIAS_SITE = """
[[site]]
server_name = "localhost"
document_root = "../htdocs"
[[site.alias]]
url = "/static"
path = "../collected"
[[site.location]]
path = "/"
wsgi = "app:application"
"""

ALIAS_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app " + environ["PATH_INFO"].encode()]
"""


def test_alias_serves_static_root_and_refuses_escapes(make_server):
    srv = make_server({
        "sites.d/a.toml": ALIAS_SITE,
        "htdocs/app.py": ALIAS_APP,
        "collected/css/site.css": "body { color: red }\n",
        "secret.txt": "top secret\n",
    }, start=False)
    os.symlink(os.path.join(srv.root, "secret.txt"), os.path.join(srv.root, "collected", "leak.txt"))
    os.symlink(srv.root, os.path.join(srv.root, "collected", "up"))
    srv.start()
    css = srv.get("/static/css/site.css")
    assert css.status == 200 and css.text == "body { color: red }\n"
    assert css.headers["Content-Type"].startswith("text/css")
    assert srv.get("/page").text == "app /page"  # the app still owns the rest
    assert srv.get("/static/missing.css").status == 404
    for path in ("/static/leak.txt", "/static/up/secret.txt"):
        r = srv.get(path)
        assert r.status == 403 and b"top secret" not in r.body, path
    for path in ("/static/../../secret.txt", "/static/%2e%2e/%2e%2e/secret.txt",
                 "/static/..%2f..%2fsecret.txt", "/static/css/site.css%00.txt"):
        r = srv.get(path)
        assert r.status == 400 and b"top secret" not in r.body, path

    shown = run_cli("route", "-c", srv.config, "/static/css/site.css")
    assert shown.returncode == 0, shown.stderr
    assert "alias: /static -> %s" % os.path.join(srv.root, "collected") in shown.stdout
    assert "kind: static_file" in shown.stdout


def test_alias_to_a_missing_folder_fails_check(make_server):
    srv = make_server({"sites.d/a.toml": ALIAS_SITE.replace("../collected", "../nowhere"),
                       "htdocs/app.py": ALIAS_APP}, start=False)
    done = run_cli("check", "-c", srv.config)
    assert done.returncode == 1
    assert "sites.d/a.toml:6:8: alias path '%s' does not exist" % os.path.join(srv.root, "nowhere") \
        in done.stdout + done.stderr


# ---- application factories ---------------------------------------------------

FACTORY_APP = """
import os

CALLS = []

def create_app(name="plain", greeting="hello", extra=None):
    CALLS.append(name)
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        body = "%s %s %s calls=%d extra=%r" % (greeting, name, os.path.basename(__file__),
                                                CALLS.count(name), extra)
        return [body.encode()]
    return app

application = create_app("module-level")
"""

FACTORY_SITE = """
[[site]]
server_name = "localhost"
document_root = "../htdocs"
[[site.location]]
path = "/plain"
wsgi = "factapp:application"
[[site.location]]
path = "/empty"
wsgi = "factapp:create_app()"
[[site.location]]
path = "/args"
wsgi = "factapp:create_app('named', greeting=\\"hi\\", extra={'k': [1, 2.5, None]})"
[[site.location]]
path = "/script"
wsgi = "scripts/entry.wsgi"
[[site.location]]
path = "/scriptfactory"
wsgi = "scripts/entry.wsgi:make()"
"""

SCRIPT = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"script app"]

def make():
    return application
"""


def test_factory_forms_work_and_run_once(make_server):
    srv = make_server({"sites.d/a.toml": FACTORY_SITE, "htdocs/factapp.py": FACTORY_APP,
                       "htdocs/scripts/entry.wsgi": SCRIPT})
    assert run_cli("check", "-c", srv.config).returncode == 0
    assert srv.get("/plain").text == "hello module-level factapp.py calls=1 extra=None"
    for _ in range(3):
        r = srv.get("/empty")
        assert r.status == 200, srv.log()[-2000:]
        assert r.text == "hello plain factapp.py calls=1 extra=None"  # called once per interpreter
    r = srv.get("/args")
    assert r.status == 200, srv.log()[-2000:]
    assert r.text == "hi named factapp.py calls=1 extra={'k': [1, 2.5, None]}"
    assert srv.get("/script").text == "script app"
    assert srv.get("/scriptfactory").text == "script app"


@pytest.mark.parametrize("spec, message", [
    ("factapp:create_app(os.environ)", "'os' is not a literal"),
    ("factapp:create_app(", "must end with ')'"),
    ("factapp:create_app(1 2)", "expected ','"),
    ("scripts/missing.wsgi", "wsgi script"),
])
def test_bad_factory_fails_check(make_server, spec, message):
    site = '[[site]]\nserver_name = "localhost"\ndocument_root = "../htdocs"\nwsgi = "%s"\n' % spec
    srv = make_server({"sites.d/a.toml": site, "htdocs/factapp.py": FACTORY_APP}, start=False)
    done = run_cli("check", "-c", srv.config)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "sites.d/a.toml:4:8: wsgi" in out and message in out, out


# ---- whole-app reload --------------------------------------------------------

FLASK_SITE = """
[[site]]
server_name = "flask.localhost"
document_root = "../flaskapp"
python_path = ["../flaskapp"]
[[site.location]]
path = "/"
wsgi = "app:create_app()"
"""

FLASK_FILES = {
    "flaskapp/app.py": """
        from flask import Flask
        import views

        def create_app():
            app = Flask(__name__)
            app.register_blueprint(views.bp)
            return app
    """,
    "flaskapp/views.py": """
        from flask import Blueprint
        from lib import helpers

        bp = Blueprint("views", __name__)

        @bp.route("/")
        def index():
            return "flask says " + helpers.word()

        @bp.route("/boom")
        def boom():
            return str(1 // helpers.zero())
    """,
    "flaskapp/lib/__init__.py": "",
    "flaskapp/lib/helpers.py": """
        def word():
            return "one"

        def zero():
            return 0
    """,
}

DJANGO_SITE = """
[[site]]
server_name = "django.localhost"
document_root = "../djangoproj"
python_path = ["../djangoproj"]
env = { DJANGO_SETTINGS_MODULE = "mysite.settings" }
[[site.alias]]
url = "/static"
path = "../djangoproj/collected-static"
[[site.location]]
path = "/"
wsgi = "mysite.wsgi:application"
"""

DJANGO_FILES = {
    "djangoproj/mysite/__init__.py": "",
    "djangoproj/mysite/settings.py": """
        import os
        BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        SECRET_KEY = "test-only"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        INSTALLED_APPS = ["django.contrib.staticfiles"]
        MIDDLEWARE = []
        ROOT_URLCONF = "mysite.urls"
        DATABASES = {}
        STATIC_URL = "/static/"
        STATIC_ROOT = os.path.join(BASE_DIR, "collected-static")
        USE_TZ = True
    """,
    "djangoproj/mysite/wsgi.py": """
        from django.core.wsgi import get_wsgi_application
        application = get_wsgi_application()
    """,
    "djangoproj/mysite/urls.py": """
        from django.urls import path
        from mysite import views
        urlpatterns = [path("", views.index), path("boom", views.boom)]
    """,
    "djangoproj/mysite/views.py": """
        from django.http import HttpResponse
        from mysite.util import text

        def index(request):
            return HttpResponse("django says " + text.word())

        def boom(request):
            return HttpResponse(str(1 // text.zero()))
    """,
    "djangoproj/mysite/util/__init__.py": "",
    "djangoproj/mysite/util/text.py": """
        def word():
            return "one"

        def zero():
            return 0
    """,
    "djangoproj/collected-static/app.css": "h1 { color: blue }\n",
    "djangoproj/secret.txt": "top secret\n",
}


def rewrite(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def text_of(srv, path, host):
    r = srv.get(path, host=host)
    return r.text if r.status == 200 else "status %d" % r.status


@pytest.fixture
def frameworks():
    pytest.importorskip("flask")
    pytest.importorskip("django")


def start_dev(make_server, files, **kw):
    return make_server(files, extra_args=["--dev"], **kw)


def test_flask_edit_two_imports_away_is_served_next(make_server, frameworks):
    files = {"sites.d/flask.toml": FLASK_SITE}
    files.update(FLASK_FILES)
    srv = start_dev(make_server, files)
    host = "flask.localhost"
    assert text_of(srv, "/", host) == "flask says one", srv.log()[-3000:]
    rewrite(os.path.join(srv.root, "flaskapp/lib/helpers.py"), '"one"', '"two"')
    got = srv.wait_for(lambda: text_of(srv, "/", host) == "flask says two", timeout=10)
    assert got, (text_of(srv, "/", host), srv.log()[-3000:])
    log = srv.log()
    assert "app file changed: %s" % os.path.join(srv.root, "flaskapp/lib/helpers.py") in log
    assert srv.wait_for(lambda: "answered its first request" in srv.log(), timeout=10)


def test_django_edit_two_imports_away_is_served_next(make_server, frameworks):
    files = {"sites.d/django.toml": DJANGO_SITE}
    files.update(DJANGO_FILES)
    srv = start_dev(make_server, files)
    host = "django.localhost"
    assert text_of(srv, "/", host) == "django says one", srv.log()[-3000:]
    rewrite(os.path.join(srv.root, "djangoproj/mysite/util/text.py"), '"one"', '"two"')
    got = srv.wait_for(lambda: text_of(srv, "/", host) == "django says two", timeout=10)
    assert got, (text_of(srv, "/", host), srv.log()[-3000:])
    assert "app file changed: %s" % os.path.join(srv.root, "djangoproj/mysite/util/text.py") in srv.log()


def test_django_alias_serves_static_root(make_server, frameworks):
    files = {"sites.d/django.toml": DJANGO_SITE}
    files.update(DJANGO_FILES)
    srv = make_server(files)
    host = "django.localhost"
    css = srv.get("/static/app.css", host=host)
    assert css.status == 200 and css.text == "h1 { color: blue }\n"
    for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt"):
        r = srv.get(path, host=host)
        assert b"top secret" not in r.body, path
    assert srv.get("/static/%2e%2e/%2e%2e/secret.txt", host=host).status == 400


COUNTER_APP = """
import os, time
from helper import value

SERVED = []

def application(environ, start_response):
    SERVED.append(1)
    if environ["PATH_INFO"] == "/slow":
        here = os.path.dirname(__file__)
        open(os.path.join(here, "..", "slow-started"), "w").close()
        release = os.path.join(here, "..", "release")
        for _ in range(400):            # bounded: 20 s at most
            if os.path.exists(release):
                break
            time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s served=%d" % (value(), len(SERVED))).encode()]
"""


def two_sites(root_a="appa", root_b="appb"):
    files = {}
    for name, root in (("a", root_a), ("b", root_b)):
        files["sites.d/%s.toml" % name] = """
[[site]]
server_name = "%s.localhost"
document_root = "../%s"
python_path = ["../%s"]
offload = true
[[site.location]]
path = "/"
wsgi = "app:application"
""" % (name, root, root)
        files["%s/app.py" % root] = COUNTER_APP
        files["%s/helper.py" % root] = 'def value():\n    return "%s-one"\n' % name
    return files


def test_in_flight_requests_finish_and_other_sites_are_untouched(make_server):
    srv = start_dev(make_server, two_sites(), server_extra='status = "/server-status"')
    assert text_of(srv, "/", "a.localhost") == "a-one served=1", srv.log()[-3000:]
    assert text_of(srv, "/", "b.localhost") == "b-one served=1"

    slow = {}
    t = threading.Thread(target=lambda: slow.update(r=srv.get("/slow", host="a.localhost")))
    t.start()
    try:
        assert srv.wait_for(lambda: os.path.exists(os.path.join(srv.root, "slow-started")), timeout=10)
        rewrite(os.path.join(srv.root, "appa/helper.py"), "a-one", "a-two")
        # The next request gets a fresh interpreter: its counter starts again.
        assert srv.wait_for(lambda: text_of(srv, "/", "a.localhost") == "a-two served=1", timeout=10), \
            srv.log()[-3000:]
    finally:
        open(os.path.join(srv.root, "release"), "w").close()
        t.join(30)
    # The request in flight finished on the old interpreter, with the old code.
    assert slow["r"].status == 200 and slow["r"].text == "a-one served=2"
    # Site b's interpreter lived on: its counter kept counting.
    assert text_of(srv, "/", "b.localhost") == "b-one served=2"
    status = srv.get("/server-status?json").json()
    gens = {(i["name"], i["generation"], i["retired"]) for i in status["interpreters"]}
    assert ("a.localhost", 1, True) in gens and ("a.localhost", 2, False) in gens
    assert ("b.localhost", 1, False) in gens


def test_without_dev_interpreters_are_never_replaced(make_server):
    srv = make_server(two_sites())
    assert text_of(srv, "/", "a.localhost") == "a-one served=1"
    rewrite(os.path.join(srv.root, "appa/helper.py"), "a-one", "a-two")
    # autoreload = true re-imports app.py only when app.py changes: helper stays.
    assert text_of(srv, "/", "a.localhost") == "a-one served=2"
    assert "app file changed" not in srv.log()


def test_autoreload_app_without_dev(make_server):
    files = two_sites()
    files["sites.d/a.toml"] = files["sites.d/a.toml"].replace("offload = true", 'autoreload = "app"')
    srv = make_server(files)
    assert text_of(srv, "/", "a.localhost") == "a-one served=1"
    rewrite(os.path.join(srv.root, "appa/helper.py"), "a-one", "a-two")
    assert srv.wait_for(lambda: text_of(srv, "/", "a.localhost") == "a-two served=1", timeout=10), \
        srv.log()[-3000:]


def test_unrelated_file_does_not_reload(make_server):
    files = two_sites()
    files["appa/notes.txt"] = "x\n"
    files["appa/unused.py"] = "X = 1\n"
    srv = start_dev(make_server, files)
    assert text_of(srv, "/", "a.localhost") == "a-one served=1"
    rewrite(os.path.join(srv.root, "appa/notes.txt"), "x", "y")
    rewrite(os.path.join(srv.root, "appa/unused.py"), "1", "2")
    assert text_of(srv, "/", "a.localhost") == "a-one served=2"
    assert "app file changed" not in srv.log()


# ---- framework debug pages -----------------------------------------------------

def test_flask_debug_page_in_dev_mode_only(make_server, frameworks):
    files = {"sites.d/flask.toml": FLASK_SITE}
    files.update(FLASK_FILES)
    dev = start_dev(make_server, files)
    r = dev.get("/boom", host="flask.localhost")
    assert r.status == 500
    assert "WSGI ERROR" in r.text and "ZeroDivisionError" in r.text, r.text[:2000]
    assert "app:create_app()" in r.text
    assert "MOD_PYTHON" not in r.text and "PythonHandler" not in r.text
    html = dev.get("/boom", host="flask.localhost", headers={"Accept": "text/html"})
    assert "WSGI app" in html.text and "ZeroDivisionError" in html.text
    dev.stop()

    plain = make_server(files)
    r = plain.get("/boom", host="flask.localhost")
    assert r.status == 500 and "ZeroDivisionError" not in r.text
    assert "ZeroDivisionError" in plain.log()  # the log still has it


def test_django_debug_page_in_dev_mode_only(make_server, frameworks):
    files = {"sites.d/django.toml": DJANGO_SITE}
    files.update(DJANGO_FILES)
    dev = start_dev(make_server, files)
    r = dev.get("/boom", host="django.localhost")
    assert r.status == 500
    assert "ZeroDivisionError at /boom" in r.text, r.text[:2000]
    dev.stop()

    plain = make_server(files)
    r = plain.get("/boom", host="django.localhost")
    assert r.status == 500 and "ZeroDivisionError" not in r.text


# ---- subhttpd init --flask / --django ------------------------------------------

@pytest.mark.parametrize("kind, edit, before, after", [
    ("--flask", "app/greetings.py", "Hello from Flask on subhttpd", "Edited Flask"),
    ("--django", "project/mysite/greetings.py", "Hello from Django on subhttpd", "Edited Django"),
])
def test_init_framework_project_serves_and_reloads(tmp_path, frameworks, kind, edit, before, after):
    project = str(tmp_path / "proj")
    made = run_cli("init", kind, project)
    assert made.returncode == 0, made.stderr
    again = run_cli("init", kind, project)
    assert again.returncode == 1 and "not overwriting" in again.stderr
    assert run_cli("check", "-c", os.path.join(project, "server.toml")).returncode == 0
    srv = Server(project, os.path.join(project, "server.toml"), free_port(), ["--dev"])
    srv.log_path = str(tmp_path / "server.log")
    srv.start()
    try:
        page = srv.get("/")
        assert page.status == 200 and before in page.text, (page, srv.log()[-3000:])
        css = srv.get("/static/style.css")
        assert css.status == 200 and "font" in css.text
        rewrite(os.path.join(project, edit), before, after)
        assert srv.wait_for(lambda: after in srv.get("/").text, timeout=10), srv.log()[-3000:]
    finally:
        srv.stop()


def test_werkzeug_debugger_when_asked(make_server, frameworks):
    files = {"sites.d/flask.toml": FLASK_SITE + 'options = { wsgi_debugger = "werkzeug" }\n'}
    files.update(FLASK_FILES)
    srv = start_dev(make_server, files)
    r = srv.get("/boom", host="flask.localhost", headers={"Accept": "text/html"})
    assert r.status == 500 and "Werkzeug" in r.text and "ZeroDivisionError" in r.text, r.text[:1000]
    assert srv.get("/", host="flask.localhost").text == "flask says one"

"""mod_python 3.5's package through the real server: Session, PSP, cgihandler,
testhandler, python22, apache.interpreter, req.hlist, req.get_session,
PythonImport in sys.modules, and the upstream test suite's expectations for
them (test/test.py: test_psphandler, test_psp_parser, test_psp_error,
test_cgihandler, test_Cookie_Cookie, test_Cookie_MarshalCookie,
test_Session_Session, test_Session_illegal_sid, test_util_fieldstorage,
test_files_directive, test_req_server_get_options, test_import,
test_none_handler), plus the login sample."""

import os
import signal
import urllib.parse

import pytest

from conftest import app_tree

HOST = "mp35.test"

SITE = """
[[site]]
server_name = "mp35.test"
default = true
document_root = "../htdocs"
import = ["warm"]
options = { global = "1", override = "1", "mod_python.session.database_directory" = "{sessdir}" }

[[site.directory]]
path = "psp"
handler = "mod_python.psp"
debug = true

[[site.directory]]
path = "psp/nodebug"
handler = "mod_python.psp"
debug = false

[[site.directory]]
path = "sess"
handler = "tests::Session_Session"
options = { "mod_python.session.application_path" = "/path", "mod_python.session.application_domain" = "mp35.test" }

[[site.directory]]
path = "sess2"
handler = "tests::Session_Session"

[[site.directory]]
path = "counter"
handler = "tests::counter"

[[site.directory]]
path = "memcounter"
handler = "tests::counter"
options = { session = "MemorySession" }

[[site.directory]]
path = "hold"
handler = "tests::hold"
offload = true

[[site.directory]]
path = "peek"
handler = "tests::peek"
offload = true

[[site.directory]]
path = "cookie"
handler = "tests::Cookie_Cookie"

[[site.directory]]
path = "fs"
handler = "tests::util_fieldstorage"

[[site.directory]]
path = "cgi"
handler = "mod_python.cgihandler"
debug = true

[[site.directory]]
path = "cgioff"
handler = "mod_python.cgihandler"
offload = true

[[site.directory]]
path = "th"
handler = "mod_python.testhandler"

[[site.directory]]
path = "none"
handler = "tests::none_handler"
debug = true

[[site.location]]
path = "/loc"
handler = "tests::misc"

[[site.directory]]
path = "misc"
handler = "tests::misc"
options = { local = "1", override = "2" }
"""

# The document root: tests.py (the handlers), warm.py, PSP pages and CGI scripts.
FILES = app_tree("mp35", "htdocs")
FILES["htdocs/th"] = None
for _d in ("sess", "sess2", "counter", "memcounter", "cookie", "fs", "misc", "hold", "peek", "none"):
    FILES["htdocs/%s/tests.py" % _d] = FILES["htdocs/tests.py"]


@pytest.fixture
def srv(make_server, tmp_path):
    sessdir = str(tmp_path / "sessions")
    os.makedirs(sessdir)
    files = dict(FILES)
    files["sites.d/s.toml"] = SITE.replace("{sessdir}", sessdir)
    return make_server(files, reload="signal")


def get(srv, path, **kw):
    return srv.request("GET", path, host=HOST, **kw)


# ---------------------------------------------------------------- PSP

def test_psphandler(srv):
    r = get(srv, "/psp/psptest.psp")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.text.endswith("test ok\n")
    assert r.headers["Content-Type"].startswith("text/html")


def test_psp_parser(srv):
    r = get(srv, "/psp/psp_parser.psp")
    assert r.status == 200, r
    failures, checked = [], 0
    for line in [part.strip() for part in r.text.split("$") if part]:
        parts = line.split(":", 2)
        if len(parts) < 3 or not parts[0].strip().startswith("test"):
            continue
        checked += 1
        if parts[1].replace("-", "\\") != parts[2]:
            failures.append(parts[1])
    assert checked == 7 and not failures, r.text


def test_psp_error_page_shares_the_session(srv):
    r = get(srv, "/psp/psptest_main.psp")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.text.strip().split() == ["okay", "fail"]


def test_psp_form_and_include(srv):
    r = get(srv, "/psp/form.psp?a=1&b=2")
    assert r.text == "1+2"
    assert get(srv, "/psp/inc.psp").text == "[<i>42</i>]"


def test_psp_debug_shows_generated_code(srv):
    r = get(srv, "/psp/psptest.psp_")
    assert r.status == 200 and "PSP-produced Python Code" in r.text
    r = get(srv, "/psp/nodebug/page.psp_")
    assert r.status == 404
    r = get(srv, "/psp/broken.psp")
    assert r.status == 500
    assert "undefined_name" in r.text and "PSP-produced Python code" in r.text


def test_psp_template_edit_is_seen(srv):
    assert get(srv, "/psp/edit.psp").text == "version one"
    path = os.path.join(srv.root, "htdocs", "psp", "edit.psp")
    with open(path, "w") as f:
        f.write("version two")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    assert get(srv, "/psp/edit.psp").text == "version two"


# ---------------------------------------------------------------- Session

def _cookie_fields(setcookie):
    fields = {}
    for part in setcookie.split("; "):
        key, _, value = part.partition("=")
        fields[key.lower()] = value
    return fields


def test_Session_Session(srv):
    r = get(srv, "/sess/tests.py")
    setcookie = r.headers["Set-Cookie"]
    assert r.body == b"test ok" and setcookie, (r, srv.log()[-2000:])
    fields = _cookie_fields(setcookie)
    assert fields["path"] == "/path" and fields["domain"] == "mp35.test"
    r = get(srv, "/sess/tests.py", headers={"Cookie": setcookie})
    assert r.body == b"test ok", r
    assert r.headers.get("Set-Cookie") is None


@pytest.mark.parametrize("bad", ["/path/traversal/attack/bad", "abcdef" * 64])
def test_Session_illegal_sid(srv, bad):
    r = get(srv, "/sess2/tests.py", headers={"Cookie": "pysid=%s; path=/" % bad})
    assert r.status == 200 and r.headers.get("Set-Cookie"), r
    assert bad not in r.headers["Set-Cookie"]


def test_session_cookie_path_is_the_handler_directory(srv):
    r = get(srv, "/sess2/tests.py")
    assert _cookie_fields(r.headers["Set-Cookie"])["path"] == "/sess2/"


@pytest.mark.parametrize("path", ["/counter/x", "/memcounter/x"])
def test_req_get_session_kept_across_requests(srv, path):
    r = get(srv, path)
    first = r.json()
    assert first["n"] == 1 and first["new"] and first["same"], r
    cookie = r.headers["Set-Cookie"].split(";")[0]
    for n in (2, 3):
        r = get(srv, path, headers={"Cookie": cookie})
        assert r.json()["n"] == n and not r.json()["new"] and r.json()["id"] == first["id"]
    assert first["kind"] == ("FileSession" if path == "/counter/x" else "MemorySession")


def test_a_session_is_locked_while_a_request_holds_it(srv, tmp_path):
    import threading
    r = get(srv, "/counter/x")
    cookie = r.headers["Set-Cookie"].split(";")[0]
    folder = str(tmp_path / "gates")
    os.makedirs(folder)
    hdrs = {"Cookie": cookie, "X-Dir": folder}
    results = {}

    def fetch(name, path):
        results[name] = get(srv, path, headers=hdrs)

    first = threading.Thread(target=fetch, args=("hold", "/hold/x"))
    first.start()
    assert srv.wait_for(lambda: os.path.exists(os.path.join(folder, "holding")), timeout=20)
    second = threading.Thread(target=fetch, args=("peek", "/peek/x"))
    second.start()
    assert srv.wait_for(lambda: os.path.exists(os.path.join(folder, "peeking")), timeout=20)
    # the holder still waits for its gate: the second request cannot have its answer
    assert "peek" not in results  # waiting for the session's lock
    open(os.path.join(folder, "gate"), "w").close()
    first.join(30)
    second.join(30)
    assert results["hold"].text == "held"
    assert results["peek"].text == "hold", results["peek"]  # it ran after the holder saved


def test_sessions_survive_a_config_reload(srv):
    cookies = {}
    for path in ("/counter/x", "/memcounter/x"):
        r = get(srv, path)
        cookies[path] = r.headers["Set-Cookie"].split(";")[0]
    srv.signal(signal.SIGHUP)
    assert srv.wait_for(lambda: "reload" in srv.log().lower(), timeout=10)
    for path, cookie in cookies.items():
        r = get(srv, path, headers={"Cookie": cookie})
        assert r.json()["n"] == 2, (path, r)


def test_file_sessions_are_shared_by_worker_processes(make_server, tmp_path):
    sessdir = str(tmp_path / "sessions")
    os.makedirs(sessdir)
    files = dict(FILES)
    files["sites.d/s.toml"] = SITE.replace("{sessdir}", sessdir)
    srv = make_server(files, server_extra="workers = 2")
    r = get(srv, "/counter/x")
    assert r.status == 200, (r, srv.log()[-2000:])
    cookie = r.headers["Set-Cookie"].split(";")[0]
    for n in range(2, 21):  # each request on a new connection, to either worker
        r = get(srv, "/counter/x", headers={"Cookie": cookie})
        assert r.json()["n"] == n, r


# ---------------------------------------------------------------- Cookie, FieldStorage

def test_Cookie_Cookie(srv):
    r = get(srv, "/cookie/testz.py", headers={"Cookie": "spam=foo; path=blah;;eggs=bar;, bar=foo"})
    setcookie = ", ".join(r.headers.get_all("Set-Cookie") or [])
    assert r.body == b"test ok", r
    for want in ("path=blah", "eggs=bar", "bar=foo", "spam=foo"):
        assert want in setcookie, setcookie


def test_Cookie_MarshalCookie_value_passes_through(srv):
    mc = "eggs=d049b2b61adb6a1d895646719a3dc30bcwQAAABzcGFt"
    r = get(srv, "/cookie/testz.py", headers={"Cookie": mc})
    assert r.body == b"test ok" and r.headers["Set-Cookie"] == mc
    mc = ("test=859690207856ec75fc641a7566894e40c1QAAAB0aGlzIGlzIGEgdmVyeSBsb25nIHZhbHVlLCBsb25nIGxvb"
          "mcgbG9uZyBsb25nIGxvbmcgc28gbG9uZyBidXQgd2UnbGwgZmluaXNoIGl0IHNvb24=")
    r = get(srv, "/cookie/testz.py", headers={"Cookie": mc})
    assert r.body == b"test ok" and r.headers["Set-Cookie"] == mc


def test_util_fieldstorage(srv):
    body = urllib.parse.urlencode([("spam", 1), ("spam", 2), ("eggs", 3), ("bacon", 4)]).encode()
    r = srv.request("POST", "/fs/tests.py", body=body, host=HOST,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.text == "[Field('spam', '1'), Field('spam', '2'), Field('eggs', '3'), Field('bacon', '4')]"


# ---------------------------------------------------------------- cgihandler

def test_cgihandler(srv):
    r = get(srv, "/cgi/cgitest.py")
    assert r.status == 200 and r.text.endswith("test ok\n"), (r, srv.log()[-2000:])
    assert r.headers["Content-Type"].startswith("text/plain")


def test_cgihandler_status_headers_environ_and_stdin(srv):
    r = srv.request("POST", "/cgi/env.py?q=1", body=b"payload", host=HOST,
                    headers={"Content-Type": "text/plain"})
    assert r.status == 201 and r.headers["X-Cgi"] == "yes", r
    assert r.text == "POST q=1 payload\n"


def test_cgihandler_offloaded(srv):
    r = get(srv, "/cgioff/cgitest.py?z=9")
    assert r.status == 200 and r.text == "offloaded z=9\n", (r, srv.log()[-2000:])


def test_cgihandler_missing_script(srv):
    assert get(srv, "/cgi/none.py").status == 404


# ---------------------------------------------------------------- the rest

def test_none_handler(srv):
    assert get(srv, "/none/tests.py").status == 500


def test_testhandler(srv):
    r = get(srv, "/th/anything")
    assert r.status == 200, (r, srv.log()[-2000:])
    for title in ("General information", "Request input headers", "Request environment",
                  "Request configuration", "Request options", "Server configuration", "Server options"):
        assert title in r.text
    assert "Python interpreter name" in r.text and "mp35.test" in r.text


def test_interpreter_hlist_import_and_server_options(srv):
    r = get(srv, "/misc/x")
    assert r.status == 200, (r, srv.log()[-2000:])
    d = r.json()
    assert d["interpreter"] == "mp35.test" == d["req_interpreter"] and d["interpreter_is_str"]
    assert d["hlist"] == ["tests::misc", os.path.join(d["document_root"], "misc") + "/", None, 0, 0]
    assert d["warm_in_sys_modules"]
    # test_req_server_get_options
    assert d["main_server_options"] == {} and d["base_server_options"] == {}
    assert d["server_options"]["global"] == "1" and d["server_options"]["override"] == "1"
    assert d["options"] == {"global": "1", "override": "2", "local": "1"}


def test_hlist_in_a_location(srv):
    r = get(srv, "/loc/anything")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.json()["hlist"] == ["tests::misc", "/loc", None, 1, 0]


# ---------------------------------------------------------------- the login sample

def sample(srv, method, path, body=None, headers=None):
    hdrs = dict(headers or {})
    if body is not None:
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return srv.request(method, path, body=body, headers=hdrs, host="modpython.localhost")


class Jar(object):
    def __init__(self):
        self.cookies = {}

    def take(self, r):
        for sc in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = sc.partition("=")
            value = rest.split(";")[0]
            if "expires=" in sc.lower() and ("1970" in sc or "max-age=0" in sc.lower()):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return r

    def header(self):
        return {"Cookie": "; ".join("%s=%s" % kv for kv in self.cookies.items())} if self.cookies else {}


def test_sample_login_flow(sample_srv):
    jar = Jar()
    r = jar.take(sample(sample_srv, "GET", "/login/"))
    assert r.status == 200 and "Sign in" in r.text, (r, sample_srv.log()[-3000:])
    assert "pysid" in jar.cookies

    r = jar.take(sample(sample_srv, "POST", "/login/signin", b"user=ada&password=wrong", jar.header()))
    assert r.status == 401 and "wrong password" in r.text

    r = jar.take(sample(sample_srv, "POST", "/login/signin", b"user=ada&password=lovelace", jar.header()))
    assert r.status == 302 and jar.cookies.get("last_user") == "ada", r
    r = jar.take(sample(sample_srv, "GET", "/login/", headers=jar.header()))
    assert r.status == 200 and "Welcome, ada" in r.text, r

    r = jar.take(sample(sample_srv, "POST", "/login/note", b"text=hello+world", jar.header()))
    assert r.status == 302
    r = sample(sample_srv, "GET", "/login/", headers=jar.header())
    assert "<li>hello world</li>" in r.text, r.text

    r = sample(sample_srv, "GET", "/login/pages/about.psp", headers=jar.header())
    assert r.status == 200 and "Signed in as <b>ada</b>" in r.text, r

    r = jar.take(sample(sample_srv, "GET", "/login/logout", headers=jar.header()))
    assert r.status == 302
    r = jar.take(sample(sample_srv, "GET", "/login/", headers=jar.header()))
    assert "Sign in" in r.text and 'value="ada"' in r.text  # remembered by the last_user cookie
    r = sample(sample_srv, "GET", "/login/pages/about.psp", headers=jar.header())
    assert "Not signed in" in r.text


def test_sample_login_json_free_of_errors(sample_srv):
    assert "Traceback" not in sample_srv.log()


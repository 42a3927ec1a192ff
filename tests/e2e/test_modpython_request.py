"""mod_python's request object through the real server (issue 5): the req
members and methods, headers_in / headers_out / err_headers_out, reading the
body, options and config, subprocess_env, log_error, register_cleanup,
internal_redirect, conditional answers, util.redirect, sys.argv, PythonDebug
and Basic auth. Handlers use only the `from mod_python import ...` names; the
handler is apps/modpython/members.py (one do_<action> per URL), run on the loop
(/m/) and on the worker pool (/off/)."""

import email.utils
import json
import os

import pytest

from conftest import app_source, app_tree, basic_auth, send_raw, wait_file
from modpython_site import HOST, get, mp_server

SITE_OPTIONS = 'options = { site_opt = "s", gone = "x", over = "site" }'

BLOCKS = """
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

# Basic auth through an authenhandler.
[[site.directory]]
path = "auth"
auth_type = "Basic"
auth_name = "Members Only"
authen_handler = "authmod"
authz_handler = "authmod"
handler = "authmod::page"

# An internal redirect's static target (a file the handler does not take).
[[site.directory]]
path = "ext"
handler = "exth | .txt .py"
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    members = app_source("modpython/members.py")
    files = {"mp/m/members.py": members, "mp/m/data.txt": "0123456789abcdef\n",
             "mp/off/members.py": members, "mp/off/data.txt": "0123456789abcdef\n",
             "mp/m/nodebug/members.py": members, "mp/m/debug/members.py": members}
    files.update(app_tree("modpython/auth", "mp/auth"))
    files.update(app_tree("modpython/phases/ext", "mp/ext"))
    yield from mp_server(tmp_path_factory, BLOCKS, files, site_keys=SITE_OPTIONS)


@pytest.fixture(params=["m", "off"])
def base(request):
    """Runs a test against the handler on the loop and on the worker pool."""
    return request.param


# ---------------------------------------------------------------- Basic auth

def test_basic_auth_through_authenhandler(srv):
    r = get(srv, "/auth/page")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Members Only"'
    assert r.headers.get("X-Not-Sent-On-Error") is None
    r = get(srv, "/auth/page", headers={"Authorization": basic_auth("alice", "wrong")})
    assert r.status == 401
    r = get(srv, "/auth/page", headers={"Authorization": basic_auth("alice", "wonderland")})
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.json() == {"user": "alice", "ap_auth_type": "Basic", "auth_type": "Basic",
                        "auth_name": "Members Only", "remote_user": "alice", "env_auth_type": "Basic"}
    r = get(srv, "/auth/page?forbid", headers={"Authorization": basic_auth("alice", "wonderland")})
    assert r.status == 403
    # credentials are decoded as latin-1, as mod_python decodes them
    cred = basic_auth("j\u00f6rg", "p\u00e4ss", "latin-1")
    r = get(srv, "/auth/page", headers={"Authorization": cred})
    assert r.status == 200 and r.json()["user"] == "j\u00f6rg"


def test_access_log_names_the_authenticated_user(srv):
    r = get(srv, "/auth/page?logged", headers={"Authorization": basic_auth("alice", "wonderland")})
    assert r.status == 200

    def line():
        return [l for l in srv.log().splitlines() if '"GET /auth/page?logged ' in l]
    assert srv.wait_for(line)
    assert line()[0].startswith("127.0.0.1 - alice [")


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
    r = send_raw(srv, [b"GET /m/members.py/headers HTTP/1.1\r\nHost: mp.test\r\nX-Single: one\r\n"
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
    r = send_raw(srv, [head, body[:70000], body[70000:140000], body[140000:]], delay=0.05)
    assert r.json() == {"len": 200000, "head": "x" * 10}


def test_chunked_request_body(srv, base):
    head = (b"POST /%s/members.py/body HTTP/1.1\r\nHost: mp.test\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % base.encode())
    r = send_raw(srv, [head, b"6\r\nline1\n\r\n", b"9\r\nline2\nlas\r\n", b"1\r\nt\r\n0\r\n\r\n"], delay=0.02)
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
    r = send_raw(srv, [b"GET /m/members.py/env/pi?q=1 HTTP/1.1\r\nHost: mp.test\r\nX-Custom: c1\r\n"
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


# ---------------------------------------------------------------- HEAD

def test_head_keeps_the_content_length(srv):
    g = get(srv, "/m/members.py/done")
    h = srv.request("HEAD", "/m/members.py/done", host=HOST)
    assert h.status == 200 and h.body == b""
    assert h.headers["Content-Length"] == g.headers["Content-Length"] == str(len(b"done early"))

# The request object, members and methods (test_modpython_request.py and
# test_modpython_response.py): /<dir>/members.py/<action> runs do_<action>.
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

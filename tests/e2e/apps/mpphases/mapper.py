# A trans handler that maps URLs itself, and the handlers of its blocks
# (test_mpphases.py).
import json
import os
from mod_python import apache

def trans(req):
    root = req.document_root()
    if req.uri.startswith("/virtual/"):
        req.filename = os.path.join(root, "static.txt")
        return apache.OK
    if req.uri.startswith("/to-app/"):
        req.filename = os.path.join(root, "app", "page")
        req.path_info = req.uri[len("/to-app"):]
        return apache.OK
    if req.uri == "/rewrite":
        req.uri = "/app/rewritten"
        return apache.DECLINED
    if req.uri == "/forbidden":
        return apache.HTTP_FORBIDDEN
    return apache.DECLINED

def show(req):
    h = req.hlist
    req.content_type = "application/json"
    req.write(json.dumps({
        "uri": req.uri, "filename": req.filename, "path_info": req.path_info,
        "interpreter": req.interpreter, "phase": req.phase,
        "config_debug": req.get_config().get("PythonDebug"),
        "server_debug": req.server.get_config().get("PythonDebug"),
        "server_trans": req.server.get_config().get("PythonTransHandler"),
        "server_handler": req.server.get_config().get("PythonHandler"),
        "hlist": [h.handler, h.directory, h.is_location],
    }))
    return apache.OK

def redirect_src(req):
    req.write("before;", 0)  # not flushed: the new request's headers go out
    req.internal_redirect("/redir2/dst?x=1")
    nxt = req.next
    req.write(";after next=%s" % (nxt is not None and nxt.prev is req))
    return apache.OK

def xredirect_src(req):
    req.notes["from"] = "src"
    req.headers_out["X-Src"] = "1"
    req.write("before;", 0)
    req.internal_redirect("/xredir2/dst?y=2")
    n = req.next
    req.write(";next=%s,%s,%s,%s,%s" % (type(n).__name__, n.uri, n.interpreter, n.notes.get("to"), n.args))
    return apache.OK

def xredirect_dst(req):
    p = req.prev
    req.notes["to"] = "dst"
    try:
        p.uri = "/elsewhere"
        ro = "no"
    except AttributeError:
        ro = "yes"
    req.content_type = "text/plain"
    req.write("dst in %s prev=%s,%s,%s,%s,notes=%s,out=%s,in=%s,prev.prev=%s,ro=%s" % (
        req.interpreter, type(p).__name__, p.uri, p.interpreter, p.the_request, p.notes.get("from"),
        p.headers_out.get("X-Src"), p.headers_in.get("X-Probe"), p.prev, ro))
    return apache.OK

def redirect_dst(req):
    req.content_type = "text/x-dst"
    req.headers_out["X-Dst"] = "yes"
    req.write("dst prev=%s args=%s" % (req.prev.uri if req.prev else None, req.args))
    return apache.OK

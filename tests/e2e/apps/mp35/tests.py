# The handlers of test_mp35.py (mod_python 3.5's test/htdocs/tests.py names),
# copied into every directory block that names them.
import json, sys
from mod_python.python22 import *
from mod_python import apache, Cookie, Session, util


def Session_Session(req):
    s = Session.Session(req)
    if s.is_new():
        s.save()
    cookies = Cookie.get_cookies(req)
    if Session.COOKIE_NAME in cookies and s.is_new():
        req.write(str(cookies[Session.COOKIE_NAME]))
    else:
        req.write("test ok")
    return apache.OK


def counter(req):
    s = req.get_session()
    s["n"] = s.get("n", 0) + 1
    s.save()
    req.content_type = "application/json"
    req.write(json.dumps({"n": s["n"], "new": s.is_new(), "kind": type(s).__name__,
                          "same": req.get_session() is s, "id": s.id()}))
    return apache.OK


def hold(req):
    """Holds the session until the test creates the gate file."""
    import os, time
    s = req.get_session()
    folder = req.headers_in["X-Dir"]
    open(os.path.join(folder, "holding"), "w").close()
    for _ in range(400):
        if os.path.exists(os.path.join(folder, "gate")):
            break
        time.sleep(0.05)
    s["by"] = "hold"
    s.save()
    req.write("held")
    return apache.OK


def peek(req):
    """Says it has started (before it asks for the session), then reads it."""
    import os
    open(os.path.join(req.headers_in["X-Dir"], "peeking"), "w").close()
    req.write(str(req.get_session().get("by")))
    return apache.OK


none_handler = None


def Cookie_Cookie(req):
    cookies = Cookie.get_cookies(req)
    for k in cookies:
        Cookie.add_cookie(req, cookies[k])
    req.write("test ok")
    return apache.OK


def util_fieldstorage(req):
    req.write(repr(util.FieldStorage(req).list))
    return apache.OK


def misc(req):
    import warm
    h = req.hlist
    out = {
        "interpreter": apache.interpreter,
        "interpreter_is_str": isinstance(apache.interpreter, str),
        "req_interpreter": req.interpreter,
        "hlist": [h.handler, h.directory, h.parent, h.is_location, h.silent],
        "document_root": req.document_root(),
        "warm_in_sys_modules": sys.modules.get("warm") is warm and warm.MARK == "warm",
        "main_server_options": dict(apache.main_server.get_options()),
        "base_server_options": dict(req.connection.base_server.get_options()),
        "server_options": dict(req.server.get_options()),
        "options": dict((k, v) for k, v in req.get_options().items() if "session" not in k),
    }
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK

# Basic auth through an authenhandler (test_modpython_request.py).
import json
from mod_python import apache

def authenhandler(req):
    pw = req.get_basic_auth_pw()
    if (req.user, pw) in (("alice", "wonderland"), ("jörg", "päss")):
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

# Cookie, SignedCookie and MarshalCookie set and read back (test_modpython_publisher.py).
import json
from mod_python import apache, Cookie

SECRET = "s3cr3t"

def handler(req):
    if req.path_info == "/set":
        Cookie.add_cookie(req, Cookie.Cookie("plain", "value one", path="/"))
        Cookie.add_cookie(req, Cookie.SignedCookie("signed", "trusted", SECRET, path="/"))
        Cookie.add_cookie(req, Cookie.MarshalCookie("marsh", {"n": 1, "l": [1, 2]}, SECRET, path="/"))
        Cookie.add_cookie(req, "simple", "v", expires=0)
        req.write("set")
        return apache.OK
    plain = Cookie.get_cookies(req)
    signed = Cookie.get_cookies(req, Cookie.SignedCookie, secret=SECRET)
    marsh = Cookie.get_cookie(req, "marsh", Cookie.MarshalCookie, secret=SECRET)
    out = {
        "plain": plain["plain"].value if "plain" in plain else None,
        "signed_cls": type(signed.get("signed")).__name__,
        "signed": signed["signed"].value if "signed" in signed else None,
        "marsh_cls": type(marsh).__name__,
        "marsh": marsh.value if marsh is not None else None,
    }
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK

"""SERVER_NAME and SERVER_PORT: a mod_python handler (add_common_vars) and a
WSGI app see the same values for the same request, as under Apache, where both
come from ap_get_server_port with UseCanonicalName Off: the Host header's port,
else the port the connection came in on."""


VARS = ("SERVER_NAME", "SERVER_PORT")

SITE = """
[[site]]
server_name = "vars.test"
document_root = "../vars"
default = true

[[site.location]]
path = "/mp"
handler = "mpvars"

[[site.location]]
path = "/wsgi"
wsgi = "wsgivars:application"
"""

MP_HANDLER = """
import json
from mod_python import apache

def handler(req):
    req.add_common_vars()
    req.content_type = "application/json"
    req.write(json.dumps({k: req.subprocess_env.get(k) for k in %r}))
    return apache.OK
""" % (VARS,)

WSGI_APP = """
import json

def application(environ, start_response):
    body = json.dumps({k: environ.get(k) for k in %r}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
""" % (VARS,)


def both(srv, host):
    mp = srv.get("/mp", host=host)
    ws = srv.get("/wsgi", host=host)
    assert mp.status == 200, mp.text
    assert ws.status == 200, ws.text
    return mp.json(), ws.json()


def test_modpython_and_wsgi_agree_on_server_name_and_port(make_server):
    srv = make_server({"sites.d/vars.toml": SITE, "vars/mpvars.py": MP_HANDLER, "vars/wsgivars.py": WSGI_APP})
    cases = {
        "Vars.Test:8123": {"SERVER_NAME": "vars.test", "SERVER_PORT": "8123"},
        "vars.test": {"SERVER_NAME": "vars.test", "SERVER_PORT": str(srv.port)},
        "[::1]:9000": {"SERVER_NAME": "[::1]", "SERVER_PORT": "9000"},
        "[::1]": {"SERVER_NAME": "[::1]", "SERVER_PORT": str(srv.port)},
    }
    for host, want in cases.items():
        mp, ws = both(srv, host)
        assert mp == ws == want, (host, mp, ws)

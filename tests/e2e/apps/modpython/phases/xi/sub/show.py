import json
from mod_python import apache

def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({
        "interpreter": req.interpreter, "phase": req.phase,
        "notes": dict(req.notes.items()), "headers_out": dict(req.headers_out.items()),
        "env": req.subprocess_env.get("FROM_FIXUP"),
    }))
    return apache.OK

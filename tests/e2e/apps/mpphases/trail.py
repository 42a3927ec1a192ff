# Records every phase handler it runs as name:phase in trail-<id>.txt;
# ?<name>=<code> picks a handler's return (test_mpphases.py).
import os
from mod_python import apache, util

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS = {"tr1": "DECLINED", "tr2": "DECLINED", "ty1": "DECLINED"}

def _record(req, name):
    spec = dict(util.parse_qsl(req.args or ""))
    path = os.path.join(HERE, "trail-%s.txt" % spec.get("id", "x"))
    with open(path, "a") as f:
        f.write("%s:%s\n" % (name, req.phase))
    if name in ("init", "prr") and not req.notes.get("cleanup_set"):
        req.notes["cleanup_set"] = "1"
        def done(data):
            with open(path, "a") as f:
                f.write("END\n")
        req.register_cleanup(done)
    what = spec.get(name, DEFAULTS.get(name, "OK"))
    if name.startswith("ty") and what == "OK":
        req.content_type = "text/x-" + name
    if name == "h":
        req.write("body")
    if what.startswith("raise:"):
        raise apache.SERVER_RETURN(getattr(apache, what[6:]))
    return getattr(apache, what)

def _make(name):
    return lambda req: _record(req, name)

(init, prr, tr1, tr2, hp, acc, aut, az, ty1, ty2, fx, h, log, cl) = [
    _make(n) for n in "init prr tr1 tr2 hp acc aut az ty1 ty2 fx h log cl".split()]

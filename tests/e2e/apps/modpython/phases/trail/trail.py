# Records every phase handler it runs as name:phase in trail-<id>.txt; ?<name>=<code> picks a handler's return (test_modpython_phases.py).
import os
from mod_python import apache, util

def _record(req, name):
    spec = dict(util.parse_qsl(req.args or ""))
    path = os.path.join(os.path.dirname(__file__), "trail-%s.txt" % spec.get("id", "x"))
    with open(path, "a") as f:
        f.write("%s:%s\n" % (name, req.phase))
    if name == "acc1":
        def done(data):
            with open(path, "a") as f:
                f.write("END\n")
        req.register_cleanup(done)
    if name.startswith("h"):
        req.write(name + ";", 0)  # buffered: a later error code still decides the status
    what = spec.get(name, "OK")
    if what.startswith("raise:"):
        raise apache.SERVER_RETURN(getattr(apache, what[6:]))
    if what.startswith("unauth"):
        req.err_headers_out["WWW-Authenticate"] = 'Basic realm="r"'
        return apache.HTTP_UNAUTHORIZED
    return getattr(apache, what)

def _make(name):
    return lambda req: _record(req, name)

acc1, acc2, aut1, aut2, az1, az2, fx1, fx2, h1, h2, log1, log2, cl1, cl2 = [
    _make(n) for n in "acc1 acc2 aut1 aut2 az1 az2 fx1 fx2 h1 h2 log1 log2 cl1 cl2".split()]

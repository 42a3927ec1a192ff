from mod_python import apache

calls = 0

def fixuphandler(req):
    global calls
    calls += 1
    req.headers_out["X-Fixup"] = "yes"
    req.notes["fixup_interpreter"] = req.interpreter
    req.notes["fixup_phase"] = req.phase
    req.notes["fixup_calls"] = str(calls)
    req.subprocess_env["FROM_FIXUP"] = "1"
    return apache.OK

from mod_python import apache

def accesshandler(req):
    if req.args == "boom":
        raise RuntimeError("access-phase-failure")
    return apache.OK

def handler(req):
    req.write("content")
    return apache.OK

def index(req):
    return "other index"

def echo(req, v):
    return "echo " + v

__auth__ = {"dave": "pw"}
__auth_realm__ = "Other"

def guarded(req):
    return "guarded for " + req.user

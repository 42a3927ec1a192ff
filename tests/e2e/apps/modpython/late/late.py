# What the log and cleanup phases see of the response (test_modpython_phases.py).
import os
from mod_python import apache

def _path(req):
    return os.path.join(os.path.dirname(__file__), "late-%s.txt" % req.args)

def accesshandler(req):
    if req.args.startswith("deny"):
        return apache.HTTP_FORBIDDEN
    return apache.OK

def handler(req):
    if req.args.startswith("gone"):
        return apache.HTTP_GONE
    if req.args.startswith("status"):
        req.status = apache.HTTP_NOT_FOUND
        req.write("custom not found")
        return apache.OK
    req.write("hello")
    return apache.OK

def loghandler(req):
    with open(_path(req), "a") as f:
        f.write("log status=%s bytes=%s phase=%s\n" % (req.status, req.bytes_sent, req.phase))
    return apache.OK

def cleanuphandler(req):
    with open(_path(req), "a") as f:
        f.write("cleanup status=%s\n" % req.status)
    return apache.OK

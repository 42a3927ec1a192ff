# The default callable names of every phase (test_modpython_phases.py).
import os
from mod_python import apache

def _note(req, name):
    req.notes.add("seen", name + "=" + req.phase)
    if name in ("loghandler", "cleanuphandler"):
        with open(os.path.join(os.path.dirname(__file__), "defs.txt"), "a") as f:
            f.write("%s=%s\n" % (name, req.phase))
    return apache.OK

def accesshandler(req): return _note(req, "accesshandler")
def authenhandler(req):
    req.user = "anon"
    return _note(req, "authenhandler")
def authzhandler(req): return _note(req, "authzhandler")
def fixuphandler(req): return _note(req, "fixuphandler")
def loghandler(req): return _note(req, "loghandler")
def cleanuphandler(req): return _note(req, "cleanuphandler")

def handler(req):
    _note(req, "handler")
    req.content_type = "text/plain"
    req.write("\n".join(req.notes.getall("seen")))
    return apache.OK

"""One interpreter per directory: this module is loaded once in each directory's interpreter."""
from mod_python import apache

hits = 0


def handler(req):
    global hits
    hits += 1
    req.content_type = "text/plain; charset=utf-8"
    req.write("directory of the request: %s\ninterpreter: %s\nrequests here: %d\n" % (req.filename, req.interpreter, hits))
    return apache.OK

"""The default site's pages: a plain mod_python handler, dispatching on path_info."""
from mod_python import apache

hits = 0  # lives as long as the interpreter: counts across requests


def handler(req):
    global hits
    hits += 1
    page = req.uri.rsplit("/", 1)[-1]
    req.content_type = "text/plain; charset=utf-8"
    if page == "hello":
        greeting = req.get_options().get("greeting", "Hello")
        req.write("%s, world!\n" % greeting)
        return apache.OK
    if page == "counter":
        req.write("interpreter: %s\nrequests in this interpreter: %d\n" % (req.interpreter, hits))
        return apache.OK
    return apache.HTTP_NOT_FOUND

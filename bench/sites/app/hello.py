# mod_python hello handler: the same file runs under subhttpd and Apache mod_python.
from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write("Hello, world!\n")
    return apache.OK

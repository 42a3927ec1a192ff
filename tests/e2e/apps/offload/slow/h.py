# Sleeps ?<seconds> (default 1) on its thread (test_offload.py).
import time
from mod_python import apache

def handler(req):
    time.sleep(float(req.args or "1"))
    req.content_type = "text/plain"
    req.write("slow %s" % req.interpreter)
    return apache.OK

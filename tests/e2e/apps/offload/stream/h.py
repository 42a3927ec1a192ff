# An offloaded handler that flushes and blocks on offload().result() (test_offload.py).
import subhttpd
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("part1 ")
    req.write("part2 ", 0)
    value = subhttpd.offload(lambda: "blocking-form").result()
    req.write(value)
    return apache.OK

# mod_python handler of the slow site of bench/offload_mix.sh: sleeps 100 ms (a
# stand-in for a slow query or remote call), then answers like hello.py. Runs
# with `offload = true`, on the worker pool.
import time

from mod_python import apache


def handler(req):
    time.sleep(0.1)
    req.content_type = "text/plain"
    req.write("Hello, world!\n")
    return apache.OK

# Holds its pool thread until the test creates gate/open (bounded): while it
# waits, what the server does can be checked without any timing (test_offload.py).
import os
import time
from mod_python import apache

here = os.path.dirname(os.path.abspath(__file__))

def wait_gate(name):
    open(os.path.join(here, "in-" + name), "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(here, "open")) and time.monotonic() < deadline:
        time.sleep(0.01)

def handler(req):
    wait_gate(req.args or "x")
    req.content_type = "text/plain"
    req.write("gated")
    return apache.OK

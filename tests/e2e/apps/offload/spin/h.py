# Spins until handler_timeout interrupts it (test_offload.py).
from mod_python import apache

def handler(req):
    if req.args == "spin":
        try:
            while True:
                pass
        except Exception:
            pass  # HandlerTimeout is not an Exception: this does not swallow it
    req.write("ok")
    return apache.OK

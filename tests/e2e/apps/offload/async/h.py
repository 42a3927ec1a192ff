# An async handler awaiting subhttpd.offload (test_offload.py).
import os
import threading
import time
import subhttpd
from mod_python import apache

lock = threading.Lock()
active = 0
most = 0

# With wait_for_company, stays on its pool thread until some other call
# has run beside it (bounded): several suspended handlers' calls run at
# once, shown without timing.
def work(wait_for_company):
    global active, most
    with lock:
        active += 1
        most = max(most, active)
    deadline = time.monotonic() + 30
    while wait_for_company and most < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    with lock:
        active -= 1
    return threading.get_ident()

def fails():
    raise KeyError("from-the-pool")

here = os.path.dirname(os.path.abspath(__file__))

def wait_gate():
    open(os.path.join(here, "in-flight"), "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(here, "open")) and time.monotonic() < deadline:
        time.sleep(0.01)
    return threading.get_ident()

async def handler(req):
    loop_thread = threading.get_ident()
    if req.args == "gate":
        pool_thread = await subhttpd.offload(wait_gate)
        req.write("resumed on loop=%s pool=%s" % (threading.get_ident() == loop_thread,
                                                   pool_thread != loop_thread))
        return apache.OK
    if req.args == "most":
        req.write(str(most))
        return apache.OK
    if req.args == "fail":
        try:
            await subhttpd.offload(fails)
        except KeyError as e:
            req.write("caught %s" % e)
            return apache.OK
    pool_thread = await subhttpd.offload(work, True)
    again = await subhttpd.offload(work, wait_for_company=False)
    req.write("resumed on loop=%s pool=%s" % (threading.get_ident() == loop_thread,
                                               pool_thread != loop_thread and again != loop_thread))
    return apache.OK

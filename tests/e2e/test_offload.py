"""Keeping the loop responsive: worker-pool offload, async handlers awaiting
subhttpd.offload, handler timeouts, a full queue, and PyGILState in
main_interpreter."""

import os
import threading

from conftest import app_source

SLOW_AND_FAST = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "slow.test"
        document_root = "../slow"
        handler = "h"
        offload = true

        [[site]]
        server_name = "gate.test"
        document_root = "../gate"
        handler = "h"
        offload = true

        [[site]]
        server_name = "fast.test"
        document_root = "../fast"
        handler = "h"

        [[site]]
        server_name = "async.test"
        document_root = "../async"
        handler = "h"

        [[site]]
        server_name = "spin.test"
        document_root = "../spin"
        handler = "h"
        handler_timeout = 1

        [[site]]
        server_name = "gatetimeout.test"
        document_root = "../gate"
        handler = "h"
        offload = true
        handler_timeout = "300ms"

        [[site]]
        server_name = "stream.test"
        document_root = "../stream"
        handler = "h"
        offload = true
    """,
    "slow/h.py": app_source("offload/slow/h.py"),
    "gate/h.py": app_source("offload/gate/h.py"),
    "fast/h.py": app_source("offload/fast/h.py"),
    "async/h.py": app_source("offload/async/h.py"),
    "spin/h.py": app_source("offload/spin/h.py"),
    "stream/h.py": app_source("offload/stream/h.py"),
}


def in_flight(srv, folder, n):
    """True once `n` gated handlers under `folder` have started (bounded wait)."""
    path = os.path.join(srv.root, folder)
    return srv.wait_for(lambda: len([f for f in os.listdir(path) if f.startswith("in-")]) >= n, timeout=20)


def open_gate(srv, folder):
    open(os.path.join(srv.root, folder, "open"), "w").close()


def test_offloaded_slow_requests_do_not_block_fast_ones(make_server):
    srv = make_server(dict(SLOW_AND_FAST), server_extra="pool_threads = 4")
    slow_done = []

    def slow(i):
        slow_done.append(srv.get("/?%d" % i, host="gate.test"))

    slow_threads = [threading.Thread(target=slow, args=(i,)) for i in range(4)]
    for t in slow_threads:
        t.start()
    try:
        assert in_flight(srv, "gate", 4), srv.log()  # every pool thread is held
        # The loop still answers: each of these completes while the 4 offloaded
        # handlers cannot (their gate is shut).
        for _ in range(50):
            assert srv.get("/", host="fast.test").text == "fast"
        assert slow_done == []
    finally:
        open_gate(srv, "gate")
        for t in slow_threads:
            t.join(30)
    assert len(slow_done) == 4
    assert all(r.status == 200 and r.text == "gated" for r in slow_done), slow_done


def test_async_handler_awaits_offload_while_loop_serves(make_server):
    srv = make_server(dict(SLOW_AND_FAST))
    result = {}

    def waiting():
        result["r"] = srv.get("/?gate", host="async.test")

    t = threading.Thread(target=waiting)
    t.start()
    try:
        assert in_flight(srv, "async", 1), srv.log()  # the coroutine awaits the pool
        for _ in range(20):
            assert srv.get("/", host="fast.test").text == "fast"  # answered while it waits
        assert "r" not in result
    finally:
        open_gate(srv, "async")
        t.join(30)
    assert result["r"].status == 200, result["r"]
    assert result["r"].text == "resumed on loop=True pool=True"
    r = srv.get("/?fail", host="async.test")
    assert r.text == "caught 'from-the-pool'"


def test_many_coroutines_suspended_at_once(make_server):
    srv = make_server(dict(SLOW_AND_FAST), server_extra="pool_threads = 8")
    results = []

    def call():
        results.append(srv.get("/", host="async.test").text)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["resumed on loop=True pool=True"] * 8
    # the offloaded calls of several suspended handlers ran at the same time
    assert int(srv.get("/?most", host="async.test").text) >= 2


def test_handler_timeout_interrupts_inline_handler(make_server):
    srv = make_server(dict(SLOW_AND_FAST))
    r = srv.get("/?spin", host="spin.test")
    assert r.status == 504
    assert srv.get("/", host="spin.test").text == "ok"
    assert srv.get("/", host="fast.test").text == "fast"
    log = srv.log()
    assert "handler_timeout" in log and "spin.test" in log and "h::handler" in log


def test_offloaded_handler_timeout_answers_504_and_pool_recovers(make_server):
    srv = make_server(dict(SLOW_AND_FAST), server_extra="pool_threads = 1")
    # the handler waits for a gate that stays shut: the timeout always comes first
    r = srv.get("/?held", host="gatetimeout.test")
    assert r.status == 504
    open_gate(srv, "gate")
    # the single worker is reused once the call returns
    r = srv.get("/?0.01", host="slow.test")
    assert r.status == 200 and r.text == "slow slow.test"


def test_full_queue_answers_503(make_server):
    srv = make_server(dict(SLOW_AND_FAST), server_extra="pool_threads = 1")
    statuses = []
    lock = threading.Lock()

    def call(i):
        r = srv.get("/?%d" % i, host="gate.test")
        with lock:
            statuses.append((r.status, r.headers.get("Retry-After")))

    # The one pool thread is held behind the gate; the queue behind it (16 jobs
    # a thread) fills up, and what comes after is refused.
    threads = [threading.Thread(target=call, args=(0,))]
    threads[0].start()
    try:
        assert in_flight(srv, "gate", 1), srv.log()
        threads += [threading.Thread(target=call, args=(i,)) for i in range(1, 24)]
        for t in threads[1:]:
            t.start()
        assert srv.wait_for(lambda: any(s[0] == 503 for s in statuses), timeout=30), statuses
    finally:
        open_gate(srv, "gate")
        for t in threads:
            t.join(60)
    assert len(statuses) == 24
    busy = [s for s in statuses if s[0] == 503]
    assert busy and all(s[1] == "1" for s in busy), statuses
    assert any(s[0] == 200 for s in statuses)
    assert srv.get("/?0", host="slow.test").status == 200


def test_offloaded_handler_streams_with_flush_and_blocking_offload(make_server):
    srv = make_server(dict(SLOW_AND_FAST))
    r = srv.get("/", host="stream.test")
    assert r.status == 200
    assert r.text == "part1 part2 blocking-form"
    assert r.headers.get("Transfer-Encoding") == "chunked"


def test_pygilstate_from_a_native_thread_in_main_interpreter(make_server):
    srv = make_server({
        "sites.d/s.toml": """
            [[site]]
            server_name = "main.test"
            document_root = "../w"
            handler = "h"
            interpreter = "main_interpreter"
        """,
        "w/h.py": """
            import ctypes
            from mod_python import apache

            # A C thread (pthread_create) calls back into Python: ctypes' callback
            # takes the GIL with PyGILState_Ensure, which needs the main interpreter.
            CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
            seen = []

            def body(arg):
                seen.append(ctypes.pythonapi.PyGILState_Check())
                return None

            cb = CALLBACK(body)
            libc = ctypes.CDLL(None)

            def handler(req):
                tid = ctypes.c_ulong()
                assert libc.pthread_create(ctypes.byref(tid), None, cb, None) == 0
                libc.pthread_join(tid, None)  # CDLL calls release the GIL
                req.write("%s %s" % (req.interpreter, seen[-1]))
                return apache.OK
        """,
    })
    for _ in range(3):
        r = srv.get("/", host="main.test")
        assert r.status == 200, (r, srv.log()[-2000:])
        assert r.text == "main_interpreter 1"

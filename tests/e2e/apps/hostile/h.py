# A handler that misbehaves on request: ?exit, ?base, ?recurse, ?huge ... (test_hostile.py);
# every call is recorded in `called`.
import os, sys
from mod_python import apache

here = os.path.dirname(__file__)
kept = []

def handler(req):
    open(os.path.join(here, "called"), "a").write(req.args or "-")
    a = req.args
    if a == "exit":
        sys.exit(1)
    if a == "base":
        raise BaseException("base-exception")
    if a == "kbint":
        raise KeyboardInterrupt()
    if a == "wrongtype":
        return "OK"
    if a == "headers":
        refused = []
        for name, value in (("X-Ok\r\nInjected", "1"), ("X-Bad", "a\r\nInjected: 1"),
                            ("X-Nul", "a\x00b"), ("X Space", "1"), ("X-Uni", "caf\u00e9 \u2603")):
            for how in ("set", "add", "err"):
                try:
                    if how == "set":
                        req.headers_out[name] = value
                    elif how == "add":
                        req.headers_out.add(name, value)
                    else:
                        req.err_headers_out[name] = value
                except ValueError:
                    refused.append(how)
        req.headers_out["X-Latin"] = "caf\u00e9"
        req.write("refused %d" % len(refused), 0)
        return apache.OK
    if a == "keep":
        kept.append(req)
        req.write("kept")
        return apache.OK
    if a == "late":
        kept[0].write("writing after return")
        return apache.OK
    if a == "recurse":
        def f(n):
            return f(n + 1)
        f(0)
    if a == "huge":
        chunk = b"x" * (16 * 1024 * 1024)
        for _ in range(64):  # 1 GB in 16 MB pieces, buffered (flush=0)
            req.write(chunk, 0)
        return apache.OK
    if a == "big":
        req.write(b"y" * (8 * 1024 * 1024))
        return apache.OK
    req.write("ok %d" % len(req.read()))
    return apache.OK

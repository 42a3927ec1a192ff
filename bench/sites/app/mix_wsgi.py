# WSGI app of bench/offload_mix.sh: /slow... sleeps 100 ms (a stand-in for a slow
# query or remote call), every other URL answers at once; both answer like
# hello_wsgi.py. The same file runs under subhttpd, gunicorn and mod_wsgi.
import time

BODY = b"Hello, world!\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/slow") or environ.get("SCRIPT_NAME", "").startswith("/slow"):
        time.sleep(0.1)
    start_response("200 OK", HEADERS)
    return [BODY]

# WSGI hello app: the same file runs under subhttpd, mod_wsgi, uWSGI and gunicorn.
BODY = b"Hello, world!\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]

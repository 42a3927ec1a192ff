# A WSGI app that answers its environ as JSON (test_wsgi.py).
import json
import os

def application(environ, start_response):
    body = json.dumps({
        "settings": os.environ.get("APP_SETTINGS_MODULE"),
        "interpreter": environ["subhttpd.interpreter"],
        "group": environ["mod_wsgi.application_group"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "headers": {k: v for k, v in environ.items() if k.startswith("HTTP_")},
        "multithread": environ["wsgi.multithread"],
        "multiprocess": environ["wsgi.multiprocess"],
        "script_filename": environ["SCRIPT_FILENAME"],
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]

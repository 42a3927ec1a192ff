"""mod_python.testhandler: a content handler that shows how the server sees a
request (handler = "mod_python.testhandler"), as mod_python 3.5's does: general
facts, request headers, environment, configuration, options, notes, the server's
configuration and options. `?view_log=1` shows the last 100 lines of the error
log when it is a file."""

import os
import sys

from mod_python import apache, util


class bounded_buffer(object):
    """The last `size` items appended (a ring, no pop(0))."""

    def __init__(self, size):
        self.max_size = size
        self.list = []
        self.pos = 0

    def append(self, value):
        if len(self.list) < self.max_size:
            self.list.append(value)
        else:
            self.list[self.pos] = value
        self.pos = (self.pos + 1) % self.max_size

    def items(self):
        return self.list[self.pos:] + self.list[:self.pos]

    def __iter__(self):
        return iter(self.items())


def _esc(v):
    import html
    return html.escape(str(v), quote=False)


def _row(req, key, value, pre=False):
    cell = "<pre>%s</pre>" % _esc(value) if pre else "<code>%s</code>" % _esc(value)
    req.write("<tr><td><code>%s</code></td><td>%s</td></tr>\n" % (_esc(key), cell))


def write_table(req, table):
    req.write('<table border="1">')
    req.write("<tr><th>Key</th><th>Value</th></tr>\n")
    for key in table:
        _row(req, key, table[key])
    req.write("</table>")


def write_tree(req, tree, level):
    for entry in tree:
        if isinstance(entry, list):
            write_tree(req, entry, level + 1)
        else:
            req.write("    " * level)
            req.write(" ".join(entry))
            req.write("\n")


def _importable(name):
    try:
        __import__("mod_python." + name)
        return "Yes"
    except Exception:
        return "No"


def handler(req):
    req.form = util.FieldStorage(req)

    log_name = req.server.error_fname
    if req.form.getfirst("view_log") and log_name:
        lines = bounded_buffer(100)
        with open(os.path.join(apache.server_root(), log_name), "rb") as log:
            for line in log:
                lines.append(line)
        req.content_type = "text/plain"
        for line in lines:
            req.write(line)
        return apache.OK

    req.add_common_vars()
    req.content_type = "text/html"
    req.write("<html><head><title>mod_python test page</title></head><body>\n")

    req.write("<h3>General information</h3>\n")
    req.write('<table border="1">\n')
    _row(req, "Apache version", req.subprocess_env.get("SERVER_SOFTWARE"))
    threaded = apache.mpm_query(apache.AP_MPMQ_IS_THREADED)
    _row(req, "Apache threaded MPM", threaded and "Yes, maximum %i threads / process"
         % apache.mpm_query(apache.AP_MPMQ_MAX_THREADS) or "No (single thread MPM)")
    forked = apache.mpm_query(apache.AP_MPMQ_IS_FORKED)
    _row(req, "Apache forked MPM", forked and "Yes, maximum %i processes"
         % apache.mpm_query(apache.AP_MPMQ_MAX_DAEMONS) or "No (single process MPM)")
    _row(req, "Apache server root", apache.server_root())
    _row(req, "Apache document root", req.document_root())
    _row(req, "Apache error log", os.path.join(apache.server_root(), log_name) if log_name else "None")
    _row(req, "Python sys.version", sys.version)
    _row(req, "Python sys.path", "\n".join(sys.path), pre=True)
    _row(req, "Python interpreter name", req.interpreter)
    _row(req, "mod_python.publisher available", _importable("publisher"))
    _row(req, "mod_python.psp available", _importable("psp"))
    req.write("</table>\n")

    for title, table in (("Request input headers", req.headers_in),
                         ("Request environment", req.subprocess_env),
                         ("Request configuration", req.get_config()),
                         ("Request options", req.get_options()),
                         ("Request notes", req.notes),
                         ("Server configuration", req.server.get_config()),
                         ("Server options", req.server.get_options())):
        req.write("<h3>%s</h3>\n" % title)
        write_table(req, table)

    req.write("<h3>Server configuration tree</h3>\n<pre>")
    write_tree(req, apache.config_tree(), 0)
    req.write("</pre>\n")
    req.write("</body></html>")
    return apache.OK

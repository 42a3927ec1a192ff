"""mod_python.psp: Python Server Pages, as in mod_python 3.5.

`handler = "mod_python.psp"` serves `.psp` files: the template is translated
to Python (mod_python._psp, 3.5's grammar), compiled once, and cached by file
name and mtime in this interpreter; an edited template is translated again on
its next request. With `debug = true`, `page.psp_` shows the generated code
beside the template, and an exception raised by a page carries the generated
code with line numbers in its traceback.

Inside a page: `req`, `psp` (set_error_page, apply_data, redirect), `form` (a
util.FieldStorage, made when the page uses the name) and `session` (a
Session.Session, made when the page uses the name and saved after the page
ran). `PSP(req, filename=..., string=..., vars={})` renders templates from
handlers: `.run(vars)`, `.display_code()`, `str(page)`."""

import html
import marshal
import os
import sys

from mod_python import Session, _psp, apache, util

tempdir = Session.tempdir
dbm_types = {}


def path_split(filename):
    folder, name = os.path.split(filename)
    return folder + "/", name


def code2str(c):
    return marshal.dumps(c)


def str2code(s):
    if isinstance(s, str):
        s = s.encode("latin-1")
    return marshal.loads(s)


class PSPInterface:
    """The `psp` object a page sees."""

    def __init__(self, req, filename, form):
        self.req = req
        self.filename = filename
        self.error_page = None
        self.form = form

    def set_error_page(self, page):
        """The page run instead when this one raises; it gets `exception`
        (type, value, traceback). A leading '/' is relative to the document root."""
        if page and page[0] == "/":
            self.error_page = PSP(self.req, self.req.document_root() + page)
        else:
            self.error_page = PSP(self.req, path_split(self.filename)[0] + page)

    def apply_data(self, object):
        """Calls `object` with the form fields matching its arguments."""
        if not self.form:
            if not hasattr(self.req, "form"):
                self.form = util.FieldStorage(self.req, keep_blank_values=1)
                self.req.form = self.form
            else:
                self.form = self.req.form
        return util.apply_fs_data(object, self.form, req=self.req)

    def redirect(self, location, permanent=0):
        util.redirect(self.req, location, permanent)


class PSP:

    code = None
    dbmcache = None

    def __init__(self, req, filename=None, string=None, vars={}):
        if string and filename:
            raise ValueError("Must specify either filename or string")
        self.req, self.vars = req, vars
        if not filename and not string:
            filename = req.filename
        self.filename, self.string = filename, string
        if filename:
            if not os.path.isabs(filename):
                self.filename = os.path.join(os.path.split(req.filename)[0], filename)
            self.load_from_file()
        else:
            code = mem_scache.get(string)
            if code is None:
                code = compile(_psp.parsestring(string), "__psp__", "exec")
                mem_scache.store(string, code)
            self.code = code

    def cache_get(self, filename, mtime):
        opts = self.req.get_options()
        if "mod_python.psp.cache_database_filename" in opts:
            self.dbmcache = opts["mod_python.psp.cache_database_filename"]
        elif "PSPDbmCache" in opts:
            self.dbmcache = opts["PSPDbmCache"]
        if self.dbmcache:
            cached = dbm_cache_get(self.req.server, self.dbmcache, filename, mtime)
            if cached:
                return cached
        return mem_fcache.get(filename, mtime)

    def cache_store(self, filename, mtime, code):
        if self.dbmcache:
            dbm_cache_store(self.req.server, self.dbmcache, filename, mtime, code)
        else:
            mem_fcache.store(filename, mtime, code)

    def cfile_get(self, filename, mtime):
        """A precompiled `.psc` beside `.psp` (marshalled code), if not older."""
        name, ext = os.path.splitext(filename)
        cname = name + ext[:-1] + "c"
        if os.path.isfile(cname) and os.path.getmtime(cname) >= mtime:
            with open(cname, "rb") as f:
                return str2code(f.read())
        return None

    def load_from_file(self):
        filename = self.filename
        if not os.path.isfile(filename):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        mtime = os.path.getmtime(filename)
        code = self.cache_get(filename, mtime)
        if not code:
            code = self.cfile_get(filename, mtime)
        if not code:
            folder, name = path_split(filename)
            code = compile(_psp.parse(name, folder), filename, "exec")
        self.cache_store(filename, mtime, code)
        self.code = code

    def run(self, vars={}, flush=0):
        code, req = self.code, self.req

        session = None
        if "session" in code.co_names and not hasattr(req, "session"):
            # kept on req so that an error page shares it instead of waiting for its lock
            req.session = session = Session.Session(req)

        form = None
        if "form" in code.co_names:
            if not hasattr(req, "form"):
                form = req.form = util.FieldStorage(req, keep_blank_values=1)
            else:
                form = req.form

        psp = PSPInterface(req, self.filename, form)
        try:
            scope = globals().copy()
            scope.update({"req": req, "form": form, "psp": psp,
                          "session": getattr(req, "session", None)})
            scope.update(self.vars)
            scope.update(vars)
            scope["__file__"] = req.filename
            scope["__mp_path__"] = []
            try:
                exec(code, scope)
                if flush:
                    req.flush()
                # creating a session changes it (access time): always save
                if hasattr(req, "session"):
                    req.session.save()
            except apache.SERVER_RETURN:
                raise
            except Exception:
                if psp.error_page:
                    psp.error_page.run({"exception": sys.exc_info()}, flush)
                else:
                    raise
        finally:
            if session is not None:
                session.unlock()
                try:
                    del req.session
                except AttributeError:
                    pass

    def __str__(self):
        self.req.content_type = "text/html"
        self.run()
        return ""

    def display_code(self):
        """Writes an HTML table: line numbers, the generated Python code and
        the template side by side."""
        req, filename = self.req, self.filename
        folder, name = path_split(filename)
        with open(filename, "rb") as f:
            source = f.read().decode("utf-8", "replace").splitlines()
        pycode = _psp.parse(name, folder).splitlines()
        source = [s.rstrip() for s in source]
        pycode = [s.rstrip() for s in pycode]

        def cell(s):
            return html.escape(s, quote=False).replace("\t", " " * 4).replace(" ", "&nbsp;")

        req.write("<table>\n<tr>")
        for s in ("", "&nbsp;PSP-produced Python Code:", "&nbsp;%s:" % html.escape(filename)):
            req.write("<td><tt>%s</tt></td>" % s)
        req.write("</tr>\n")
        for n, line in enumerate(pycode, 1):
            right = cell(source[n - 1]) if n <= len(source) else ""
            req.write("<tr>")
            for s in ("%d.&nbsp;" % n, "<font color=blue>%s</font>" % cell(line),
                      "&nbsp;<font color=green>%s</font>" % right):
                req.write("<td><tt>%s</tt></td>" % s)
            req.write("</tr>\n")
        req.write("</table>\n")


def parse(filename, dir=None):
    return _psp.parse(filename, dir) if dir else _psp.parse(filename)


def parsestring(str):
    return _psp.parsestring(str)


def _numbered(source, mark=None):
    lines = source.splitlines()
    width = len(str(len(lines)))
    return "\n".join("%s%*d: %s" % (">" if n == mark else " ", width, n, line)
                     for n, line in enumerate(lines, 1))


def _add_generated_code(exc, filename):
    """Debug: attach the generated code, numbered, to the page's exception."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    try:
        folder, name = path_split(filename)
        source = _psp.parse(name, folder)
    except Exception:
        return
    if hasattr(exc, "add_note"):
        exc.add_note("PSP-produced Python code of %s:\n%s" % (filename, _numbered(source, line)))


def handler(req):
    req.content_type = "text/html"
    debug = int(req.get_config().get("PythonDebug", 0) or 0)
    if debug and req.filename and req.filename.endswith("_"):
        PSP(req, req.filename[:-1]).display_code()
        return apache.OK
    page = PSP(req)
    try:
        page.run()
    except apache.SERVER_RETURN:
        raise
    except Exception as e:
        if debug and page.filename:
            _add_generated_code(e, page.filename)
        raise
    return apache.OK


# ---- caches (per interpreter; the dbm one is shared between processes)

def dbm_cache_type(dbmfile):
    import dbm
    import importlib
    if dbmfile in dbm_types:
        return dbm_types[dbmfile]
    kind = dbm.whichdb(dbmfile)
    if kind:
        dbm_types[dbmfile] = importlib.import_module(kind)
        return dbm_types[dbmfile]
    return dbm


def _dbm_lockdir(dbmfile):
    return os.path.join(os.path.dirname(os.path.abspath(dbmfile)), "mp_psp_locks")


def dbm_cache_store(srv, dbmfile, filename, mtime, val):
    lockdir = _dbm_lockdir(dbmfile)
    Session._locks.acquire(lockdir, None)
    try:
        db = dbm_cache_type(dbmfile).open(dbmfile, "c")
        try:
            db[filename.encode()] = (repr(mtime) + " ").encode() + code2str(val)
        finally:
            db.close()
    finally:
        Session._locks.release(lockdir, None)


def dbm_cache_get(srv, dbmfile, filename, mtime):
    lockdir = _dbm_lockdir(dbmfile)
    Session._locks.acquire(lockdir, None)
    try:
        db = dbm_cache_type(dbmfile).open(dbmfile, "c")
        try:
            entry = db.get(filename.encode())
        finally:
            db.close()
    finally:
        Session._locks.release(lockdir, None)
    if not entry:
        return None
    t, _, val = entry.partition(b" ")
    try:
        if float(t) == mtime:
            return str2code(val)
    except ValueError:
        pass
    return None


class HitsCache:
    """A bounded dict that drops the least-hit quarter when full."""

    def __init__(self, size=512):
        self.cache = {}
        self.size = size

    def store(self, key, val):
        self.cache[key] = (1, val)
        if len(self.cache) > self.size:
            self.clean()

    def get(self, key):
        if key in self.cache:
            hits, val = self.cache[key]
            self.cache[key] = (hits + 1, val)
            return val
        return None

    def clean(self):
        by_hits = sorted(self.cache.items(), key=lambda kv: kv[1][0])
        for key, _ in by_hits[:len(self.cache) - int(self.size * .75)]:
            del self.cache[key]


mem_scache = HitsCache()


class FileCache(HitsCache):
    """Compiled templates by file name, valid while the mtime is unchanged."""

    def store(self, filename, mtime, code):
        self.cache[filename] = (1, mtime, code)
        if len(self.cache) > self.size:
            self.clean()

    def get(self, filename, mtime):
        hit = self.cache.get(filename)
        if hit is None:
            return None
        hits, c_mtime, code = hit
        if mtime != c_mtime:
            self.cache.pop(filename, None)
            return None
        self.cache[filename] = (hits + 1, mtime, code)
        return code


mem_fcache = FileCache()

"""mod_python.Session: server-side sessions keyed by a cookie, as in mod_python 3.5.

A session is a dict that remembers itself between requests. `Session(req)`
picks the kind from the PythonOption `mod_python.session.session_type` (or the
older `session`): `FileSession` (one file per session), `DbmSession` (one dbm
database) or `MemorySession` (a dict in this interpreter of this process).
Without the option subhttpd uses FileSession: it is shared by every worker
process (`workers = N`), survives restarts, and locks one session at a time.

Locking: while a request holds a session (from its creation until the request
ends, or `unlock()`), every other request for the same session id waits, in
this process (other threads) and in every other process. Locks are `flock()`s
on files in a lock directory (`mp_sess_locks` under the session directory,
which defaults to tempfile.gettempdir()); each acquisition opens its own
descriptor, so threads of one process exclude each other just as processes do.
A waiting request polls the lock, so a handler_timeout can still interrupt it.

Session ids are 32 lowercase hex digits. An id from a cookie that is not is
dropped (a new session is made); an invalid id passed as `sid=` raises
ValueError. With `secret=` the cookie is a `Cookie.SignedCookie`, and a cookie
whose signature does not match is ignored.
"""

import hashlib
import os
import pickle
import random
import re
import stat
import tempfile
import threading
import time
import traceback

from mod_python import Cookie, apache

COOKIE_NAME = "pysid"
DFT_TIMEOUT = 30 * 60  # seconds
DFT_LOCK = True
CLEANUP_CHANCE = 1000  # a new BaseSession runs cleanup() once in this many

tempdir = tempfile.gettempdir()


def md5_hash(s):
    if isinstance(s, str):
        s = s.encode("latin-1")
    return hashlib.md5(s).hexdigest()


def _new_sid(req):
    """A fresh session id: 32 hex digits from the time, the process, the
    client's address and 128 random bits (what validate_sid_re accepts)."""
    try:
        ip = req.connection.client_ip
    except AttributeError:
        ip = ""
    seed = "%d%d%s%s" % (int(time.time() * 10000), os.getpid(), os.urandom(16).hex(), ip)
    return md5_hash(seed)


validate_sid_re = re.compile("[0-9a-f]{32}$")


def _check_sid(sid):
    """True for a well-formed id. Ids reach FileSession's file names, so
    anything else ('/', '.', too long) is refused."""
    return isinstance(sid, str) and validate_sid_re.match(sid) is not None


# ---------------------------------------------------------------- locks

from mod_python._session_locks import LOCK_SLOTS, _LockTable, _locks  # noqa: E402,F401


def _option(opts, new, old, default=None):
    """An option under its mod_python 3.3 name, else under its older name, else `default`."""
    return opts[new] if new in opts else opts.get(old, default)


def _session_dir(opts, *names):
    for name in names:
        if name in opts:
            return opts[name] or tempdir
    return opts.get("session_directory", tempdir) or tempdir


def lock_directory(req):
    """The directory holding the lock files for `req`'s sessions."""
    opts = req.get_options()
    base = _session_dir(opts, "mod_python.file_session.database_directory",
                        "mod_python.dbm_session.database_directory",
                        "mod_python.session.database_directory")
    return os.path.join(base, "mp_sess_locks")


def _cookie_name(opts):
    return _option(opts, "mod_python.session.cookie_name", "session_cookie_name", COOKIE_NAME)


def _log_exception(req, what):
    req.log_error("%s: %s" % (what, traceback.format_exc()))


# ---------------------------------------------------------------- BaseSession

class BaseSession(dict):

    def __init__(self, req, sid=None, secret=None, lock=1, timeout=0):
        dict.__init__(self)
        self._req, self._sid, self._secret = req, sid, secret
        self._lock = lock
        self._new = 1
        self._created = 0
        self._accessed = 0
        self._timeout = 0
        self._locked = 0
        self._invalid = 0
        self._lockdir = lock_directory(req)

        cookie_name = _cookie_name(req.get_options())
        if not self._sid:
            if secret:
                cookie = Cookie.get_cookie(req, cookie_name, Class=Cookie.SignedCookie,
                                           secret=self._secret, mismatch=Cookie.Cookie.IGNORE)
            else:
                cookie = Cookie.get_cookie(req, cookie_name)
            if cookie:
                self._sid = cookie.value

        if self._sid and not _check_sid(self._sid):
            if sid:
                raise ValueError("Invalid Session ID: sid=%s" % sid)
            self._sid = None  # from the browser: replace it

        self.init_lock()

        if self._sid:
            self.lock()
            if self.load():
                self._new = 0

        if self._new:
            if self._sid:
                self.unlock()
            self._sid = _new_sid(self._req)
            self.lock()
            Cookie.add_cookie(self._req, self.make_cookie())
            self._created = time.time()
            self._timeout = timeout or DFT_TIMEOUT

        self._accessed = time.time()

        if random.randint(1, CLEANUP_CHANCE) == 1:
            self.cleanup()

    def make_cookie(self):
        opts = self._req.get_options()
        name = _cookie_name(opts)
        if self._secret:
            c = Cookie.SignedCookie(name, self._sid, secret=self._secret)
        else:
            c = Cookie.Cookie(name, self._sid)

        if "mod_python.session.application_domain" in opts:
            c.domain = opts["mod_python.session.application_domain"]
        if "mod_python.session.application_path" in opts:
            c.path = opts["mod_python.session.application_path"]
        elif "ApplicationPath" in opts:
            c.path = opts["ApplicationPath"]
        else:
            # the folder of the block that set the handler, as a URL path
            hlist = getattr(self._req, "hlist", None)
            dirpath = getattr(hlist, "directory", None)
            path = None
            if dirpath:
                docroot = self._req.document_root()
                if dirpath.startswith(docroot):
                    path = dirpath[len(docroot):]
                    if not path.startswith("/"):
                        path = "/" + path
            if not path or not self._req.uri.startswith(path):
                path = "/"
            c.path = path
        return c

    def invalidate(self):
        c = self.make_cookie()
        c.expires = 0
        Cookie.add_cookie(self._req, c)
        self.delete()
        self._invalid = 1

    def load(self):
        data = self.do_load()
        if data is None:
            return 0
        try:
            if (time.time() - data["_accessed"]) > data["_timeout"]:
                return 0
            self._created = data["_created"]
            self._accessed = data["_accessed"]
            self._timeout = data["_timeout"]
            self.update(data["_data"])
        except (KeyError, TypeError):
            return 0
        return 1

    def save(self):
        if not self._invalid:
            self.do_save({"_data": self.copy(), "_created": self._created,
                          "_accessed": self._accessed, "_timeout": self._timeout})

    def delete(self):
        self.do_delete()
        self.clear()

    def init_lock(self):
        pass

    def lock(self):
        if self._lock:
            _locks.acquire(self._lockdir, self._sid)
            self._locked = 1
            self._req.register_cleanup(unlock_session_cleanup, self)

    def unlock(self):
        if self._lock and self._locked:
            _locks.release(self._lockdir, self._sid)
            self._locked = 0

    def is_new(self):
        return not not self._new

    def id(self):
        return self._sid

    def created(self):
        return self._created

    def last_accessed(self):
        return self._accessed

    def timeout(self):
        return self._timeout

    def set_timeout(self, secs):
        self._timeout = secs

    def cleanup(self):
        self.do_cleanup()

    def do_cleanup(self):
        pass

    def __del__(self):
        try:
            self.unlock()
        except Exception:
            pass


def unlock_session_cleanup(sess):
    sess.unlock()


# ---------------------------------------------------------------- DbmSession

def _dbm_module(filename, default):
    import dbm
    import importlib
    kind = dbm.whichdb(filename)
    if kind:
        return importlib.import_module(kind)
    return default


def dbm_cleanup(data):
    """Deletes the expired sessions of a DbmSession database."""
    filename, lockdir = data[0], data[1]
    import dbm
    _locks.acquire(lockdir, None)
    try:
        db = _dbm_module(filename, dbm).open(filename, "c")
        try:
            now = time.time()
            old = []
            for key in list(db.keys()):
                try:
                    d = pickle.loads(db[key])
                    if (now - d["_accessed"]) > d["_timeout"]:
                        old.append(key)
                except Exception:
                    old.append(key)
            for key in old:
                try:
                    del db[key]
                except KeyError:
                    pass
        finally:
            db.close()
    finally:
        _locks.release(lockdir, None)


class DbmSession(BaseSession):

    def __init__(self, req, dbm=None, sid=0, secret=None, dbmtype=None, timeout=0, lock=1):
        if not dbm:
            opts = req.get_options()
            default = os.path.join(_session_dir(opts, "mod_python.dbm_session.database_directory",
                                                "mod_python.session.database_directory"), "mp_sess.dbm")
            dbm = _option(opts, "mod_python.dbm_session.database_filename", "session_dbm", default)
        if dbmtype is None:
            import dbm as dbmtype
        self._dbmfile = dbm
        self._dbmtype = dbmtype
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _get_dbm(self):
        import dbm
        if self._dbmtype is dbm:
            self._dbmtype = _dbm_module(self._dbmfile, dbm)
        return self._dbmtype.open(self._dbmfile, "c", stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP)

    def do_cleanup(self):
        self._req.register_cleanup(dbm_cleanup, [self._dbmfile, self._lockdir])
        self._req.log_error("DbmSession: registered database cleanup.", apache.APLOG_NOTICE)

    def _with_db(self, fn):
        _locks.acquire(self._lockdir, None)
        try:
            db = self._get_dbm()
            try:
                return fn(db, self._sid.encode())
            finally:
                db.close()
        finally:
            _locks.release(self._lockdir, None)

    def do_load(self):
        def get(db, key):
            return pickle.loads(db[key]) if key in db else None
        return self._with_db(get)

    def do_save(self, data):
        def put(db, key):
            db[key] = pickle.dumps(data)
        self._with_db(put)

    def do_delete(self):
        def drop(db, key):
            try:
                del db[key]
            except KeyError:
                pass
        self._with_db(drop)


# ---------------------------------------------------------------- FileSession

DFT_FAST_CLEANUP = True
DFT_VERIFY_CLEANUP = True
DFT_GRACE_PERIOD = 240
DFT_CLEANUP_TIME_LIMIT = 2
FS_STAT_VERSION = "MPFS_3.2"


class FileSession(BaseSession):

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1, fast_cleanup=-1, verify_cleanup=-1):
        opts = req.get_options()
        self._fast_cleanup = (true_or_false(_option(opts, "mod_python.file_session.enable_fast_cleanup",
                                                    "session_fast_cleanup", DFT_FAST_CLEANUP))
                              if fast_cleanup == -1 else fast_cleanup)
        self._verify_cleanup = (true_or_false(_option(opts, "mod_python.file_session.verify_session_timeout",
                                                      "session_verify_cleanup", DFT_VERIFY_CLEANUP))
                                if verify_cleanup == -1 else verify_cleanup)
        self._grace_period = int(_option(opts, "mod_python.file_session.cleanup_grace_period",
                                         "session_grace_period", DFT_GRACE_PERIOD))
        self._cleanup_time_limit = int(_option(opts, "mod_python.file_session.cleanup_time_limit",
                                               "session_cleanup_time_limit", DFT_CLEANUP_TIME_LIMIT))
        self._sessdir = os.path.join(_session_dir(opts, "mod_python.file_session.database_directory",
                                                  "mod_python.session.database_directory"), "mp_sess")
        self._cleanup_timeout = timeout or DFT_TIMEOUT
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _filename(self):
        return os.path.join(self._sessdir, self._sid[0:2], self._sid)

    def do_cleanup(self):
        data = {"req": self._req, "sessdir": self._sessdir, "fast_cleanup": self._fast_cleanup,
                "verify_cleanup": self._verify_cleanup, "timeout": self._cleanup_timeout,
                "grace_period": self._grace_period, "cleanup_time_limit": self._cleanup_time_limit}
        self._req.register_cleanup(filesession_cleanup, data)
        self._req.log_error("FileSession: registered filesession cleanup.", apache.APLOG_NOTICE)

    def do_load(self):
        self.lock_file()
        try:
            filename = self._filename()
            try:
                with open(filename, "rb") as fp:
                    data = pickle.load(fp)
            except FileNotFoundError:
                return None
            except Exception:
                _log_exception(self._req, "Error while loading a session")
                return None
            try:
                if (time.time() - data["_accessed"]) <= data["_timeout"]:
                    os.utime(filename, None)  # keep the cleanup away until this request saves
            except Exception:
                pass
            return data
        finally:
            self.unlock_file()

    def do_save(self, data):
        self.lock_file()
        try:
            try:
                filename = self._filename()
                folder = os.path.dirname(filename)
                if not os.path.isdir(folder):
                    make_filesession_dirs(self._sessdir)
                tmp = "%s.%d.%d.tmp" % (filename, os.getpid(), threading.get_ident())
                with open(tmp, "wb") as fp:
                    pickle.dump(data, fp, 2)
                os.replace(tmp, filename)  # readers never see half a file
            except Exception:
                _log_exception(self._req, "Error while saving a session")
        finally:
            self.unlock_file()

    def do_delete(self):
        self.lock_file()
        try:
            try:
                os.unlink(self._filename())
            except OSError:
                pass
        finally:
            self.unlock_file()

    def lock_file(self):
        # With session locking on, BaseSession holds the lock already;
        # otherwise take it for the file operation alone.
        if not self._locked:
            _locks.acquire(self._lockdir, self._sid)
            self._locked = 1

    def unlock_file(self):
        if self._locked and not self._lock:
            _locks.release(self._lockdir, self._sid)
            self._locked = 0


def filesession_cleanup(data):
    """Deletes expired session files, at most `cleanup_time_limit` seconds at a
    time (the next run goes on from where this one stopped, as recorded in
    fs_status.txt). A session touched within `grace_period` is never deleted."""
    req = data["req"]
    sessdir = data["sessdir"]
    fast_cleanup = data["fast_cleanup"]
    verify_cleanup = data["verify_cleanup"]
    timeout = data["timeout"]
    grace_period = data["grace_period"]
    time_limit = data["cleanup_time_limit"]
    notice = apache.APLOG_NOTICE

    req.log_error("FileSession cleanup: (fast=%s, verify=%s) ..." % (fast_cleanup, verify_cleanup), notice)
    lockfile = os.path.join(sessdir, ".mp_sess.lck")
    try:
        os.makedirs(sessdir, 0o700, exist_ok=True)
        lockfd = os.open(lockfile, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o660)
    except OSError:
        try:
            if os.stat(lockfile).st_mtime < time.time() - 3600:
                req.log_error("FileSession cleanup: stale lockfile found - deleting it", notice)
                os.remove(lockfile)
            else:
                req.log_error("FileSession cleanup: another process is already running", notice)
        except OSError:
            pass
        return

    try:
        try:
            with open(os.path.join(sessdir, "fs_status.txt")) as f:
                parts = f.readline().split()
            if not parts or parts[0] != FS_STAT_VERSION:
                raise ValueError("wrong status file version")
            stat_version = parts[0]
            next_i, expired, total = int(parts[1]), int(parts[2]), int(parts[3])
            total_time = float(parts[4])
        except (OSError, ValueError, IndexError):
            stat_version, next_i, expired, total, total_time = FS_STAT_VERSION, 0, 0, 0, 0.0

        start = time.time()
        for i in range(next_i, 256):
            path = os.path.join(sessdir, "%02x" % i)
            if os.path.isdir(path):
                names = os.listdir(path)
                total += len(names)
                for name in names:
                    filename = os.path.join(path, name)
                    try:
                        if fast_cleanup and time.time() - os.stat(filename).st_mtime < timeout + grace_period:
                            continue
                        if fast_cleanup and not verify_cleanup:
                            delete = True
                        else:
                            with open(filename, "rb") as fp:
                                d = pickle.load(fp)
                            delete = (time.time() - d["_accessed"]) > (d["_timeout"] + grace_period)
                        if delete:
                            os.unlink(filename)
                            expired += 1
                    except Exception:
                        req.log_error("FileSession cleanup error: %s" % traceback.format_exc(), notice)
            next_i = (i + 1) % 256
            if time_limit > 0 and time.time() - start > time_limit:
                break

        total_time += time.time() - start
        if next_i == 0:
            req.log_error("FileSession cleanup: deleted %d of %d in %.4f seconds"
                          % (expired, total, total_time), notice)
            expired, total, total_time = 0, 0, 0.0
        else:
            req.log_error("FileSession cleanup incomplete: next cleanup will start at index %d (%02x)"
                          % (next_i, next_i), notice)
        with open(os.path.join(sessdir, "fs_status.txt"), "w") as f:
            f.write("%s %d %d %d %f\n" % (stat_version, next_i, expired, total, total_time))
    finally:
        os.close(lockfd)
        try:
            os.unlink(lockfile)
        except OSError:
            pass


def make_filesession_dirs(sess_dir):
    """Creates the 256 folders (00 .. ff) session files are spread over."""
    for i in range(256):
        os.makedirs(os.path.join(sess_dir, "%02x" % i), stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP,
                    exist_ok=True)


# ---------------------------------------------------------------- MemorySession

def mem_cleanup(sdict):
    now = time.time()
    for sid in list(sdict.keys()):
        try:
            s = sdict[sid]
            if (now - s["_accessed"]) > s["_timeout"]:
                del sdict[sid]
        except (KeyError, TypeError):
            pass


class MemorySession(BaseSession):
    """Sessions in a dict of this interpreter: fast, kept across config
    reloads, but private to one worker process."""

    sdict = {}

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1):
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def do_cleanup(self):
        self._req.register_cleanup(mem_cleanup, MemorySession.sdict)
        self._req.log_error("MemorySession: registered session cleanup.", apache.APLOG_NOTICE)

    def do_load(self):
        return MemorySession.sdict.get(self._sid)

    def do_save(self, data):
        MemorySession.sdict[self._sid] = data

    def do_delete(self):
        MemorySession.sdict.pop(self._sid, None)


# ---------------------------------------------------------------- Session

DEFAULT_SESSION_TYPE = "FileSession"


def Session(req, sid=0, secret=None, timeout=0, lock=1):
    """A session of the kind the options name (FileSession by default)."""
    opts = req.get_options()
    kind = _option(opts, "mod_python.session.session_type", "session", DEFAULT_SESSION_TYPE)
    cls = {"FileSession": FileSession, "DbmSession": DbmSession, "MemorySession": MemorySession}.get(kind)
    if cls is None:
        raise Exception("Unknown session type %s" % kind)
    return cls(req, sid=sid, secret=secret, timeout=timeout, lock=lock)


def true_or_false(item):
    """A PythonOption's yes/no value as a bool."""
    try:
        item = item.lower()
    except AttributeError:
        pass
    if item in ("yes", "true", "1", 1, True):
        return True
    if item in ("no", "false", "0", 0, None, False):
        return False
    raise ValueError("not a yes/no value: %r" % (item,))

"""mod_python.Session without the server: the three kinds, ids, cookies,
timeouts, cleanup, and locks that hold across threads and processes."""

import multiprocessing
import os
import pickle
import threading
import time

import pytest

from conftest import FakeReq
from mod_python import Cookie, Session


class Req(FakeReq):
    """FakeReq whose cleanups run when the test ends the request."""

    def __init__(self, tmp, cookie=None, options=None, uri="/app/page", **kw):
        opts = {"mod_python.session.database_directory": str(tmp)}
        opts.update(options or {})
        headers = {"Cookie": cookie} if cookie else {}
        FakeReq.__init__(self, uri=uri, headers=headers, options=opts, **kw)
        self.cleanups = []

    def register_cleanup(self, callable, data=None):
        self.cleanups.append((callable, data))

    def end(self):
        for fn, data in self.cleanups:
            fn(data)
        self.cleanups = []

    def set_cookie(self):
        return self.headers_out.getall("Set-Cookie") + self.err_headers_out.getall("Set-Cookie")


def _cookie_header(req):
    """The Cookie header a browser sends back for the session's Set-Cookie."""
    value = req.set_cookie()[-1]
    return value.split(";")[0]


KINDS = ["FileSession", "DbmSession", "MemorySession"]


@pytest.mark.parametrize("kind", KINDS)
def test_session_kept_across_requests_by_cookie(tmp_path, kind):
    r1 = Req(tmp_path, options={"session": kind})
    s = Session.Session(r1)
    assert type(s).__name__ == kind
    assert s.is_new()
    assert Session._check_sid(s.id())
    s["user"] = "alice"
    s.save()
    r1.end()
    cookie = _cookie_header(r1)
    assert cookie == "pysid=" + s.id()

    r2 = Req(tmp_path, cookie=cookie, options={"session": kind})
    s2 = Session.Session(r2)
    assert not s2.is_new()
    assert s2.id() == s.id()
    assert s2["user"] == "alice"
    assert s2.created() == s.created()
    assert s2.timeout() == Session.DFT_TIMEOUT
    assert r2.set_cookie() == []  # an existing session sets no cookie
    r2.end()


def test_default_kind_is_file_session_and_type_option(tmp_path):
    assert isinstance(Session.Session(Req(tmp_path)), Session.FileSession)
    req = Req(tmp_path, options={"mod_python.session.session_type": "MemorySession", "session": "DbmSession"})
    assert isinstance(Session.Session(req), Session.MemorySession)
    with pytest.raises(Exception, match="Unknown session type"):
        Session.Session(Req(tmp_path, options={"session": "Nope"}))


def test_file_session_layout_on_disk(tmp_path):
    req = Req(tmp_path)
    s = Session.FileSession(req)
    s["k"] = 1
    s.save()
    path = tmp_path / "mp_sess" / s.id()[:2] / s.id()
    with open(str(path), "rb") as f:
        data = pickle.load(f)
    assert data["_data"] == {"k": 1}
    assert set(data) == {"_data", "_created", "_accessed", "_timeout"}
    req.end()


@pytest.mark.parametrize("bad", ["/path/traversal/attack/bad", "abcdef" * 64, "../" * 11, "A" * 32,
                                 "0123456789abcdef0123456789abcde"])
def test_illegal_id_from_cookie_is_replaced(tmp_path, bad):
    req = Req(tmp_path, cookie="pysid=%s; path=/" % bad)
    s = Session.Session(req)
    assert s.is_new()
    assert s.id() != bad and Session._check_sid(s.id())
    assert req.set_cookie()
    assert not os.path.exists(os.path.join(str(tmp_path), "mp_sess", bad))
    req.end()


def test_illegal_id_given_explicitly_raises(tmp_path):
    with pytest.raises(ValueError, match="Invalid Session ID"):
        Session.FileSession(Req(tmp_path), sid="../../etc/passwd")


def test_signed_cookie(tmp_path):
    r1 = Req(tmp_path, options={"session": "MemorySession"})
    s = Session.Session(r1, secret="k3y")
    s["n"] = 5
    s.save()
    r1.end()
    cookie = _cookie_header(r1)
    assert cookie.startswith("pysid=") and cookie != "pysid=" + s.id()  # signed: HMAC + id

    r2 = Req(tmp_path, cookie=cookie, options={"session": "MemorySession"})
    s2 = Session.Session(r2, secret="k3y")
    assert not s2.is_new() and s2["n"] == 5
    r2.end()

    # a wrong secret, or the plain id, does not open the session
    r3 = Req(tmp_path, cookie=cookie, options={"session": "MemorySession"})
    assert Session.Session(r3, secret="other").is_new()
    r3.end()
    r4 = Req(tmp_path, cookie="pysid=" + s.id(), options={"session": "MemorySession"})
    assert Session.Session(r4, secret="k3y").is_new()
    r4.end()


def test_cookie_name_domain_and_path_options(tmp_path):
    req = Req(tmp_path, options={"mod_python.session.cookie_name": "sid",
                                 "mod_python.session.application_domain": "example.org",
                                 "mod_python.session.application_path": "/path"})
    s = Session.Session(req)
    c = Cookie.parse(req.set_cookie()[0])["sid"]
    assert c.value == s.id()
    assert c.path == "/path" and c.domain == "example.org"
    req.end()


def test_cookie_path_from_the_handler_directory(tmp_path):
    class H(object):
        directory = "/srv/site/app/"

    req = Req(tmp_path, uri="/app/page", document_root="/srv/site")
    req.hlist = H()
    Session.Session(req)
    assert "path=/app/" in req.set_cookie()[0].lower()
    req.end()

    other = Req(tmp_path, uri="/elsewhere", document_root="/srv/site")
    other.hlist = H()
    Session.Session(other)
    c = Cookie.parse(other.set_cookie()[0])["pysid"]
    assert c.path == "/"  # the URL is outside the handler's folder
    other.end()


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_expires_a_session(tmp_path, kind):
    r1 = Req(tmp_path, options={"session": kind})
    s = Session.Session(r1)
    s.set_timeout(1)
    s._accessed = time.time() - 5  # last used five seconds ago
    s.save()
    r1.end()
    r2 = Req(tmp_path, cookie=_cookie_header(r1), options={"session": kind})
    s2 = Session.Session(r2)
    assert s2.is_new() and s2.id() != s.id()
    r2.end()


@pytest.mark.parametrize("kind", KINDS)
def test_invalidate_and_delete(tmp_path, kind):
    r1 = Req(tmp_path, options={"session": kind})
    s = Session.Session(r1)
    s["x"] = 1
    s.save()
    r1.end()
    r2 = Req(tmp_path, cookie=_cookie_header(r1), options={"session": kind})
    s2 = Session.Session(r2)
    s2.invalidate()
    s2.save()  # an invalid session is not saved again
    expired = [c for c in r2.set_cookie() if "expires" in c.lower()]
    assert expired
    r2.end()
    r3 = Req(tmp_path, cookie=_cookie_header(r1), options={"session": kind})
    assert Session.Session(r3).is_new()
    r3.end()


def test_file_session_cleanup_removes_expired_files(tmp_path):
    sessions = []
    for age in (0, 10000):
        req = Req(tmp_path)
        s = Session.FileSession(req)
        s._accessed = time.time() - age
        s.set_timeout(60)
        s.save()
        req.end()
        sessions.append(s)
    old_file = tmp_path / "mp_sess" / sessions[1].id()[:2] / sessions[1].id()
    os.utime(str(old_file), (time.time() - 10000, time.time() - 10000))
    req = Req(tmp_path, options={"mod_python.file_session.cleanup_grace_period": "0"})
    s = Session.FileSession(req, timeout=60)
    s.cleanup()
    req.end()  # cleanups run after the request
    assert not old_file.exists()
    assert (tmp_path / "mp_sess" / sessions[0].id()[:2] / sessions[0].id()).exists()
    assert (tmp_path / "mp_sess" / "fs_status.txt").read_text().startswith(Session.FS_STAT_VERSION)


@pytest.mark.parametrize("kind", ["DbmSession", "MemorySession"])
def test_cleanup_of_dbm_and_memory(tmp_path, kind):
    r1 = Req(tmp_path, options={"session": kind})
    old = Session.Session(r1)
    old._accessed = time.time() - 10000
    old.set_timeout(1)
    old.save()
    r1.end()
    r2 = Req(tmp_path, options={"session": kind})
    fresh = Session.Session(r2)
    fresh.save()
    fresh.cleanup()
    r2.end()
    if kind == "MemorySession":
        assert old.id() not in Session.MemorySession.sdict
        assert fresh.id() in Session.MemorySession.sdict
    else:
        import dbm
        filename = str(tmp_path / "mp_sess.dbm")
        db = Session._dbm_module(filename, dbm).open(filename, "r")
        try:
            assert old.id().encode() not in db  # deleted by the cleanup
            assert fresh.id().encode() in db
        finally:
            db.close()


# ---------------------------------------------------------------- locking

def test_lock_excludes_another_thread_until_unlock(tmp_path):
    r1 = Req(tmp_path)
    s = Session.FileSession(r1)
    s.save()
    cookie = "pysid=" + s.id()
    order = []
    started = threading.Event()

    def other():
        started.set()
        r2 = Req(tmp_path, cookie=cookie)
        s2 = Session.FileSession(r2)  # blocks while r1 holds the lock
        order.append(("second", s2.get("step")))
        r2.end()

    t = threading.Thread(target=other)
    t.start()
    assert started.wait(10)
    # the second request cannot get in while the first holds the session
    t.join(0.3)
    assert t.is_alive() and order == []
    s["step"] = "first saved"
    s.save()
    order.append(("first", None))
    r1.end()  # the request ends: unlock
    t.join(10)
    assert not t.is_alive()
    assert order == [("first", None), ("second", "first saved")]


def test_lock_is_reentrant_within_one_thread_for_one_slot(tmp_path):
    d = str(tmp_path / "locks")
    assert Session._locks.acquire(d, "a" * 32)
    assert Session._locks.acquire(d, "a" * 32)
    Session._locks.release(d, "a" * 32)
    Session._locks.release(d, "a" * 32)
    assert Session._locks.acquire(d, "a" * 32, blocking=False)
    Session._locks.release(d, "a" * 32)


def _hold_lock(lockdir, sid, held, release):
    Session._locks.acquire(lockdir, sid)
    held.set()
    release.wait(30)
    Session._locks.release(lockdir, sid)


def test_lock_excludes_another_process(tmp_path):
    ctx = multiprocessing.get_context("fork")
    lockdir = str(tmp_path / "mp_sess_locks")
    sid = "0123456789abcdef0123456789abcdef"
    held, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(lockdir, sid, held, release))
    p.start()
    try:
        assert held.wait(20)
        assert not Session._locks.acquire(lockdir, sid, blocking=False)
        release.set()
        p.join(20)
        assert p.exitcode == 0
        assert Session._locks.acquire(lockdir, sid, blocking=False)
        Session._locks.release(lockdir, sid)
    finally:
        release.set()
        p.join(5)
        if p.is_alive():
            p.kill()


def _increment(tmpdir, cookie, rounds, kind):
    for _ in range(rounds):
        req = Req(tmpdir, cookie=cookie, options={"session": kind})
        s = Session.Session(req)
        s["n"] = s.get("n", 0) + 1
        s.save()
        req.end()


@pytest.mark.parametrize("kind", ["FileSession", "DbmSession"])
def test_no_update_is_lost_across_processes(tmp_path, kind):
    req = Req(tmp_path, options={"session": kind})
    s = Session.Session(req)
    s["n"] = 0
    s.save()
    req.end()
    cookie = "pysid=" + s.id()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_increment, args=(tmp_path, cookie, 25, kind)) for _ in range(3)]
    for p in procs:
        p.start()
    _increment(tmp_path, cookie, 25, kind)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    req = Req(tmp_path, cookie=cookie, options={"session": kind})
    assert Session.Session(req)["n"] == 100
    req.end()


def test_true_or_false():
    assert Session.true_or_false("Yes") is True
    assert Session.true_or_false("0") is False
    with pytest.raises(ValueError):
        Session.true_or_false("maybe")

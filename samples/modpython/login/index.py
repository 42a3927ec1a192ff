"""A small login application written for mod_python 3.5 (publisher + PSP +
Session + Cookie + util.FieldStorage); subhttpd serves it unchanged.

/login/            the login form, or the welcome page once signed in
/login/signin      POST user + password: starts the session
/login/note        POST text: adds a note to the session
/login/logout      ends the session
/login/pages/about.psp   a PSP page served by mod_python.psp, using the session
"""

import os

from mod_python import Cookie, Session, apache, psp, util  # noqa: F401

_HERE = os.path.dirname(os.path.abspath(__file__))

USERS = {"ada": "lovelace", "grace": "hopper"}  # a sample: never keep passwords like this


def _session(req):
    if not hasattr(req, "session"):
        req.session = Session.Session(req)
    return req.session


def _render(req, template, **vars):
    req.content_type = "text/html; charset=utf-8"
    psp.PSP(req, filename=os.path.join(_HERE, "templates", template), vars=vars).run()


def index(req):
    session = _session(req)
    if "user" not in session:
        last = Cookie.get_cookies(req).get("last_user")
        _render(req, "login.psp", error=None, last_user=last.value if last else "")
    else:
        _render(req, "welcome.psp", user=session["user"], notes=session.get("notes", []))


def signin(req):
    form = req.form if isinstance(getattr(req, "form", None), util.FieldStorage) else util.FieldStorage(req)
    user = form.getfirst("user", "")
    password = form.getfirst("password", "")
    session = _session(req)
    if USERS.get(user) != password or not user:
        req.status = apache.HTTP_UNAUTHORIZED
        _render(req, "login.psp", error="Unknown user or wrong password.", last_user=user)
        return
    session["user"] = str(user)
    session["notes"] = []
    session.save()
    Cookie.add_cookie(req, "last_user", str(user), path="/login", max_age=30 * 24 * 3600)
    util.redirect(req, "./")


def note(req, text=""):
    session = _session(req)
    if "user" not in session:
        util.redirect(req, "./")
    if text:
        session["notes"] = session.get("notes", []) + [str(text)]
        session.save()
    util.redirect(req, "./")


def logout(req):
    _session(req).invalidate()
    util.redirect(req, "./")

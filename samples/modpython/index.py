"""Publisher pages of the sample mod_python application.

Written for mod_python 3.5 (Apache + PythonHandler mod_python.publisher); subhttpd
serves it unchanged. Each public function is a page: /hello is index.hello, form
fields arrive as arguments, and names starting with '_' are never published.
"""

from html import escape

from mod_python import Cookie, apache

_PAGE = """<!DOCTYPE html>
<html><head><title>%(title)s</title></head>
<body>
<h1>%(title)s</h1>
%(body)s
</body></html>
"""


def _page(req, title, body):
    req.content_type = "text/html; charset=utf-8"
    return _PAGE % {"title": escape(title), "body": body}


def index(req):
    return _page(req, "A mod_python application", """
<p>Served by %(server)s in interpreter <code>%(interp)s</code>.</p>
<ul>
  <li><a href="hello?name=World">hello</a> (publisher arguments)</li>
  <li><a href="visits">visits</a> (a signed cookie)</li>
  <li><a href="form">form</a> (util.FieldStorage in a plain handler)</li>
  <li><a href="private">private</a> (__auth__: admin / secret)</li>
  <li><a href="login/">login</a> (Session, PSP templates, Cookie and a form: ada / lovelace)</li>
</ul>
<form action="upload" method="post" enctype="multipart/form-data">
  <input type="file" name="upload"> <input type="submit" value="Upload">
</form>
""" % {"server": escape(req.server.server_hostname), "interp": escape(req.interpreter)})


def hello(req, name="world"):
    return _page(req, "Hello", "<p>Hello, %s!</p>" % escape(name))


def upload(req, upload=None):
    if upload is None or not getattr(upload, "filename", None):
        return _page(req, "Upload", "<p>No file was sent.</p>")
    data = upload.file.read()
    return _page(req, "Upload", "<p>Received %s (%s): %d bytes.</p>"
                 % (escape(upload.filename), escape(upload.type or "?"), len(data)))


def visits(req):
    secret = req.get_options().get("cookie_secret", "change-me")
    cookie = Cookie.get_cookie(req, "visits", Cookie.SignedCookie, secret=secret)
    count = 0
    if isinstance(cookie, Cookie.SignedCookie):   # a bad signature downgrades to Cookie
        try:
            count = int(cookie.value)
        except ValueError:
            count = 0
    count += 1
    Cookie.add_cookie(req, Cookie.SignedCookie("visits", str(count), secret, path="/"))
    return _page(req, "Visits", "<p>This is your visit %d.</p>" % count)


def private(req):
    # The publisher reads these from the function's code before calling it.
    __auth_realm__ = "Sample"  # noqa: F841
    __auth__ = {"admin": "secret"}  # noqa: F841
    return _page(req, "Private", "<p>Welcome, %s.</p>" % escape(req.user))


def _helpers():
    """Never published: the name starts with an underscore."""
    return apache.OK

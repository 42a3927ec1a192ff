"""A plain mod_python content handler (PythonHandler form) that reads its form
with util.FieldStorage: GET shows the form, POST echoes what was sent."""

from html import escape

from mod_python import apache, util

_FORM = """<!DOCTYPE html>
<html><head><title>Form</title></head>
<body>
<h1>Favourite colour</h1>
%s
<form method="post">
  <label>Name <input name="name"></label>
  <label>Colour <select name="colour"><option>red</option><option>blue</option></select></label>
  <input type="submit" value="Send">
</form>
</body></html>
"""


def handler(req):
    req.content_type = "text/html; charset=utf-8"
    if req.method not in ("GET", "HEAD", "POST"):
        req.allow_methods(["GET", "POST"])
        return apache.HTTP_METHOD_NOT_ALLOWED
    form = util.FieldStorage(req, keep_blank_values=1)
    message = ""
    if req.method == "POST":
        name = form.getfirst("name", "") or "stranger"
        colour = form.getfirst("colour", "") or "no colour"
        message = "<p>Thank you, %s: %s it is.</p>" % (escape(str(name)), escape(str(colour)))
    req.write(_FORM % message)
    return apache.OK

# util.FieldStorage of the request, as JSON (test_modpython_forms.py).
import json
from mod_python import apache, util

import os

def handler(req):
    saved = []
    def file_callback(filename):
        path = os.path.join(os.path.dirname(__file__), "cb-" + os.path.basename(filename))
        saved.append(path)
        return open(path, "w+b")
    def field_callback():
        import io
        saved.append("field")
        return io.BytesIO()
    if req.args == "callbacks":
        fs = util.FieldStorage(req, file_callback=file_callback, field_callback=field_callback)
        for f in fs.list:
            f.file.close() if f.filename else None
        req.content_type = "application/json"
        req.write(json.dumps({"saved": [os.path.basename(p) for p in saved],
                              "contents": [open(p, "rb").read().decode("latin-1") for p in saved if p != "field"],
                              "values": [str(f.value) for f in fs.list if not f.filename]}))
        return apache.OK
    fs = util.FieldStorage(req, keep_blank_values=1)
    out = []
    for f in fs.list:
        if f.filename:
            data = f.file.read()
            out.append({"name": f.name, "filename": f.filename, "type": f.type,
                        "len": len(data), "data": data.decode("latin-1") if len(data) < 4096 else None,
                        "value_same": f.value == data,
                        "on_disk": getattr(f.file, "name", None) is not None,
                        "disp": f.disposition, "cls": type(f).__name__})
        else:
            out.append({"name": f.name, "value": f.value, "cls": type(f).__name__,
                        "is_str": isinstance(f, str)})
    first = fs.getfirst("a")
    req.content_type = "application/json"
    req.write(json.dumps({"fields": out, "keys": list(fs.keys()),
                          "a_list": [str(v) for v in fs.getlist("a")],
                          "getfirst_a": None if first is None else str(first),
                          "has_b": fs.has_key("b"),
                          "parse_qs": util.parse_qs("x=1&x=2&y=", 1),
                          "parse_qsl": util.parse_qsl("x=1&x=2&y=")}))
    return apache.OK

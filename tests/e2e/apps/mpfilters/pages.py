# The handlers whose output and input the filters see (test_mpfilters.py).
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    flush = int(req.args == "stream")
    req.write("piece one;", flush)
    req.write("piece two;", flush)
    req.write("end", flush)
    return apache.OK

def echo(req):
    body = req.read()
    req.content_type = "text/plain"
    req.write(b"got:" + body)
    return apache.OK

def count_echo(req):
    line = req.readline()  # pulls only the first piece(s) through the filter
    line += req.read(100)  # within the same piece
    first = len(req.notes.getall("piece"))
    body = line + req.read()
    req.content_type = "text/plain"
    pieces = [int(p) for p in req.notes.getall("piece")]
    req.write("%d %d %s %s %s" % (len(body), first, ",".join(map(str, pieces)), req.notes.get("eos"),
                                  body == body.upper()))
    return apache.OK

def runtime(req):
    req.content_type = "text/plain"
    req.write("before;")
    req.register_output_filter("SHOUT", "filters::upper")
    req.add_output_filter("SHOUT")
    req.write("after")
    try:
        req.add_output_filter("NOPE")
    except ValueError as e:
        req.write(";err:" + ("NOPE" in str(e) and "unknown" or "?"))
    return apache.OK

# Output and input filters (test_mpfilters.py).
import codecs

def upper(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    if s is None:
        filter.close()

def outputfilter(filter):
    upper(filter)

def passon(filter):
    filter.req.notes["calls"] = str(int(filter.req.notes.get("calls", "0")) + 1)
    filter.pass_on()

def disabler(filter):
    # the first piece is marked, then the filter steps aside
    s = filter.read()
    if s:
        filter.write(b"<" + s + b">")
    filter.disable()

def brackets(filter):
    s = filter.read()
    while s:
        filter.write(b"[" + s + b"]")
        s = filter.read()

def broken(filter):
    raise ValueError("filter trouble")

def stamp(filter):
    s = filter.read()
    while s:
        filter.write(s)
        s = filter.read()
    if s is None:
        r = filter.req
        filter.write(("[%s %s]" % (r.uri, r.interpreter)).encode())
        filter.close()

def counting(filter):
    # one call per piece of the body: its size, and an E once the stream ends
    r = filter.req
    n = 0
    s = filter.read()
    while s:
        n += len(s)
        filter.write(s.upper())
        s = filter.read()
    r.notes.add("piece", str(n))
    if s is None:
        r.notes["eos"] = r.notes.get("eos", "") + "E"
        filter.close()

def rot13(filter):
    s = filter.read()
    while s:
        filter.write(codecs.encode(s.decode("ascii"), "rot13"))
        s = filter.read()
    if s is None:
        filter.close()

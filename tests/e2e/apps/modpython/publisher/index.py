# Objects published by mod_python.publisher (test_modpython_publisher.py).
import os
from mod_python import apache

def index(req):
    return "publisher index"

def hello(req, name="world", n="1"):
    return "hello %s x%s" % (name, n)

def noreq(a, b="B"):
    return "a=%s b=%s" % (a, b)

def kw(req, **fields):
    return ",".join("%s=%s" % kv for kv in sorted(fields.items()))

def _private(req):
    return "secret"

def html(req):
    return "<html><body>hi</body></html>"

def typed(req):
    req.content_type = "text/csv"
    return "a,b\n1,2\n"

def gen(req):
    for i in range(3):
        yield "item%d;" % i

def upload(req, f):
    return "%s:%d" % (f.filename, len(f.value))

def secret(req):
    __auth_realm__ = "Vault"
    __auth__ = {"bob": "builder"}
    __access__ = ["bob"]
    return "vault opened by %s" % req.user

def blocked(req):
    __access__ = ["nobody"]
    return "never"

def checker(req, user, passwd):
    return user == "carol" and passwd == "pw"

class _Area(object):
    __auth__ = staticmethod(checker)
    __auth_realm__ = "Area"
    def page(self, req):
        return "area page for %s" % req.user

area = _Area()

class Thing(object):
    pass

class _Callable(object):
    def __call__(self, req, x="1"):
        return "called with x=" + x

callme = _Callable()

class _Plain(object):
    def __str__(self):
        return "plain instance"

plain = _Plain()

module_ref = os
number = 42

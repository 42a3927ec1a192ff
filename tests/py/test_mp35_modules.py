"""mod_python 3.5's smaller modules without the server: cache, httpdconf,
cgihandler, python22, testhandler, version."""

import gc
import io
import os
import sys
import threading
import time

import pytest

from conftest import FakeReq
from mod_python import apache, cache, cgihandler, httpdconf


# ---------------------------------------------------------------- cache

class Counting(cache.Cache):
    def __init__(self, max_size=0):
        cache.Cache.__init__(self, max_size)
        self.built = []

    def build(self, key, name, opened, entry):
        self.built.append(key)
        return key.upper()


def test_cache_builds_once():
    c = Counting()
    assert c["a"] == "A" and c["a"] == "A"
    assert c.built == ["a"]
    c["b"] = "set"
    assert c["b"] == "set" and c.built == ["a"]
    del c["a"]
    assert c["a"] == "A" and c.built == ["a", "a"]
    c.clear()
    assert c.mru() is None and c.lru() is None  # unbounded: no LRU list


def test_cache_lru_bound():
    c = Counting(max_size=2)
    c["a"], c["b"]
    assert (c.lru(), c.mru()) == ("a", "b")
    c["a"]  # a is now the most recent
    assert (c.lru(), c.mru()) == ("b", "a")
    c["c"]  # evicts b
    assert sorted(c._dict) == ["a", "c"]
    c["b"]
    assert c.built == ["a", "b", "c", "b"]


def test_cache_one_build_per_entry_under_threads():
    gate = threading.Event()

    class Slow(cache.Cache):
        builds = 0

        def build(self, key, name, opened, entry):
            gate.wait(10)
            Slow.builds += 1
            return 1

    c = Slow()
    threads = [threading.Thread(target=lambda: c["k"]) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert Slow.builds == 1


def test_weak_cache_drops_unreferenced_values():
    class Obj(object):
        pass

    class W(cache.WeakCache):
        def build(self, key, name, opened, entry):
            return Obj()

    c = W()
    v = c["x"]
    assert c["x"] is v
    del v
    gc.collect()
    assert "x" not in c._dict


def test_file_cache_and_module_cache(tmp_path):
    f = tmp_path / "data.txt"
    f.write_bytes(b"one")
    fc = cache.FileCache()
    assert fc[str(f)] == b"one"
    f.write_bytes(b"two")
    t = time.time() + 5
    os.utime(str(f), (t, t))
    assert fc[str(f)] == b"two"

    m = tmp_path / "mod.py"
    m.write_text("X = 1\n")
    mc = cache.ModuleCache()
    mod = mc[str(m)]
    assert mod.X == 1 and mod.__file__ == str(m)
    assert mc[str(m)] is mod
    assert mod.__name__ not in sys.modules
    m.write_text("X = 2\n")
    os.utime(str(m), (t + 5, t + 5))
    assert mc[str(m)].X == 2


def test_function_cache():
    calls = []

    def f(a, b=0):
        calls.append((a, b))
        return a + b

    fc = cache.FunctionCache(f)
    assert fc(1, b=2) == 3 and fc(1, b=2) == 3 and fc(5) == 5
    assert calls == [(1, 2), (5, 0)]


def test_http_entity_repr():
    e = cache.HTTPEntity(b"body", {"a": "b"})
    assert repr(e) == "HTTPEntity(b'body', {'a': 'b'})"
    assert str(e) == "body"


# ---------------------------------------------------------------- httpdconf

def test_httpdconf_text_and_repr_round_trip():
    from mod_python.httpdconf import (Comment, Container, Directory, Listen, PythonDebug, PythonHandler,
                                      PythonInterpPerDirectory, PythonOption, PythonPath, ServerName,
                                      SetHandler, VirtualHost)
    c = VirtualHost("*",
                    ServerName("test"),
                    Directory("C:\\htdocs",
                              SetHandler("mod_python"),
                              PythonHandler("tests::handler"),
                              PythonOption("a 1"),
                              PythonInterpPerDirectory(),
                              PythonPath("['C:\\\\x']"),
                              PythonDebug("On")),
                    Comment("two\nlines"),
                    Container(Listen("8080"), only_if="False"))
    text = str(c)
    assert text == ("<VirtualHost *>\n"
                    "  ServerName test\n"
                    "  <Directory C:/htdocs>\n"
                    "    SetHandler mod_python\n"
                    "    PythonHandler tests::handler\n"
                    "    PythonOption a 1\n"
                    "    PythonInterpPerDirectory Off\n"
                    "    PythonPath ['C:\\\\x']\n"
                    "    PythonDebug On\n"
                    "  </Directory>\n"
                    "  # two\n"
                    "  # lines\n"
                    "</VirtualHost>\n")
    ns = vars(httpdconf)
    again = eval(repr(c), dict(ns))
    assert str(again) == text.replace("C:/htdocs", "C://htdocs")  # repr doubles the backslash


def test_httpdconf_append_checks_type():
    with pytest.raises(TypeError):
        httpdconf.Container().append("text")


def test_write_basic_config(tmp_path, capsys):
    root = str(tmp_path / "site")
    path = httpdconf.write_basic_config(root, listen="127.0.0.1:9999", pythonoptions=["x 1"])
    assert os.path.isfile(path)
    src = open(path).read()
    assert "from mod_python.httpdconf import *" in src
    g = {}
    out = io.StringIO()
    old = sys.stdout
    sys.stdout = out
    try:
        exec(compile(src, path, "exec"), g)
    finally:
        sys.stdout = old
    text = out.getvalue()
    assert "Listen 127.0.0.1:9999" in text and "PythonOption x 1" in text
    assert httpdconf.write_basic_config(root) is None  # never overwrites


# ---------------------------------------------------------------- cgihandler

class CgiReq(FakeReq):
    def __init__(self, script, **kw):
        FakeReq.__init__(self, filename=script, **kw)

    def add_cgi_vars(self):
        self.subprocess_env["REQUEST_METHOD"] = self.method
        self.subprocess_env["QUERY_STRING"] = self.args or ""
        self.subprocess_env["CONTENT_LENGTH"] = self.headers_in.get("Content-Length", "")

    add_common_vars = add_cgi_vars


def _script(tmp_path, text, name="s.py"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_cgi_headers_and_body(tmp_path):
    s = _script(tmp_path, 'print("Content-type: text/plain")\nprint("X-A: 1")\nprint()\nprint("test ok")\n')
    req = CgiReq(s)
    assert cgihandler.handler(req) == apache.OK
    assert req.text == "test ok\n"
    assert req.content_type == "text/plain"
    assert req.headers_out["X-A"] == "1"


def test_cgi_status_and_location(tmp_path):
    req = CgiReq(_script(tmp_path, 'print("Status: 404 Not Found\\r\\nContent-Type: text/html\\r\\n\\r\\nnope", end="")'))
    cgihandler.handler(req)
    assert req.status == 404 and req.text == "nope"
    req = CgiReq(_script(tmp_path, 'print("Location: http://x/\\n")', "r.py"))
    cgihandler.handler(req)
    assert req.status == 302 and req.headers_out["Location"] == "http://x/"


def test_cgi_environ_and_stdin(tmp_path):
    s = _script(tmp_path, "import os, sys\n"
                          "body = sys.stdin.read()\n"
                          "raw = sys.stdin.buffer.read()\n"
                          "print('Content-Type: text/plain\\n')\n"
                          "print(os.environ['REQUEST_METHOD'], os.environ.get('QUERY_STRING'), repr(body), repr(raw))\n"
                          "os.environ['LEAK'] = 'x'\n"
                          "del os.environ['QUERY_STRING']\n"
                          "print('QUERY_STRING' in os.environ)\n")
    req = CgiReq(s, method="POST", args="a=1", body=b"payload")
    cgihandler.handler(req)
    assert req.text == "POST a=1 'payload' b''\nFalse\n"
    assert "LEAK" not in os.environ and "REQUEST_METHOD" not in os.environ
    assert sys.stdout is not None and not isinstance(getattr(sys.stdout, "_original", None), cgihandler.CGIStdout)


def test_cgi_scripts_in_two_threads_do_not_see_each_other(tmp_path):
    s = _script(tmp_path, "import os, sys\n"
                          "print('Content-Type: text/plain\\n')\n"
                          "me = os.environ['QUERY_STRING']\n"
                          "sys.modules['__cgi_gate__'][me].set()\n"
                          "sys.modules['__cgi_gate__']['wait_' + me].wait(10)\n"
                          "print(me, os.environ['QUERY_STRING'])\n")
    gates = {"a": threading.Event(), "b": threading.Event(), "wait_a": threading.Event(),
             "wait_b": threading.Event()}
    sys.modules["__cgi_gate__"] = gates
    reqs = {k: CgiReq(s, args=k) for k in ("a", "b")}
    threads = [threading.Thread(target=cgihandler.handler, args=(reqs[k],)) for k in ("a", "b")]
    try:
        for t in threads:
            t.start()
        assert gates["a"].wait(10) and gates["b"].wait(10)  # both scripts are running now
        gates["wait_a"].set()
        gates["wait_b"].set()
        for t in threads:
            t.join(10)
    finally:
        del sys.modules["__cgi_gate__"]
    assert reqs["a"].text == "a a\n" and reqs["b"].text == "b b\n"


def test_cgi_missing_script_is_404(tmp_path):
    with pytest.raises(apache.SERVER_RETURN) as e:
        cgihandler.handler(CgiReq(str(tmp_path / "none.py")))
    assert e.value.args[0] == apache.HTTP_NOT_FOUND


def test_cgi_sys_exit_zero_is_fine(tmp_path):
    req = CgiReq(_script(tmp_path, "import sys\nprint('Content-Type: text/plain\\n\\nbye')\nsys.exit(0)\n"))
    assert cgihandler.handler(req) == apache.OK
    assert req.text == "bye\n"


# ---------------------------------------------------------------- small ones

def test_python22_star_import_and_version():
    ns = {}
    exec("from mod_python.python22 import *", ns)
    import mod_python
    from mod_python import version
    assert mod_python.version is version and version.version.startswith("3.5")
    assert mod_python.mp_version == version.version


def test_testhandler_bounded_buffer():
    from mod_python import testhandler
    b = testhandler.bounded_buffer(3)
    for i in range(5):
        b.append(i)
    assert list(b) == [2, 3, 4]


def test_setup_cgi_and_restore_nocgi(tmp_path):
    req = CgiReq(str(tmp_path / "x.py"), args="k=v")
    saved = apache.setup_cgi(req)
    try:
        print("Content-Type: text/plain\n")
        print("from", os.environ["QUERY_STRING"])
    finally:
        apache.restore_nocgi(*saved)
    assert req.text == "from k=v\n" and req.content_type == "text/plain"
    assert "QUERY_STRING" not in os.environ


def test_cgi_environ_router_keeps_environb_in_step(tmp_path):
    cgihandler._install()
    assert os.environb._data is os.environ._data
    os.environ["MP35_PROBE"] = "1"
    try:
        assert os.environb[b"MP35_PROBE"] == b"1"
    finally:
        del os.environ["MP35_PROBE"]

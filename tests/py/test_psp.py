"""mod_python.psp without the server: the translator (mod_python 3.5's
grammar, including its own parser test page), PSP objects, caching by mtime,
error pages, display_code, form and session."""

import os
import time

import pytest

from conftest import FakeReq
from mod_python import _psp, apache, psp


class Req(FakeReq):
    def __init__(self, filename="", **kw):
        FakeReq.__init__(self, filename=filename, **kw)
        self.cleanups = []

    def register_cleanup(self, fn, data=None):
        self.cleanups.append((fn, data))


def render(template, **vars):
    req = Req()
    psp.PSP(req, string=template, vars=vars).run()
    return req.text


# ---------------------------------------------------------------- the translator

def test_plain_text_and_quotes():
    assert render('say "hi"\n') == 'say "hi"\n'
    assert psp.parsestring('a"b') == 'req.write("""a\\"b""",0)\n'


def test_empty_template_gives_no_code():
    assert psp.parsestring("") == ""


def test_expression_and_code():
    assert render("<%= 1 + 1 %>") == "2"
    assert render("<% x = 'v' %><%= x %>") == "v"


def test_backslash_escapes_stay_literal():
    # mod_python 3.5's psp_parser.psp: \n, \r, \t in text are written as is
    assert render("\\n|\\r|\\t|\\r\\n") == "\\n|\\r|\\t|\\r\\n"


def test_upstream_parser_page():
    """The cases of mod_python 3.5's test/htdocs/psp_parser.psp, checked the way
    its test_psp_parser does (test:<expected>:<output>$, '-' standing for '\\')."""
    page = (
        "test:-n:\\n$\n"
        "test:-r:\\r$\n"
        "test:-t:\\t$\n"
        "test:-r-n:\\r\\n$\n"
        "<%\n"
        "req.write(\"test:-n:\\\\n$\")\n"
        "%>\n"
        "\n"
        "<%\n"
        "test_str='single_quotes'\n"
        "%>\n"
        "test:'single_quotes':'<%= test_str %>'$\n"
        "<%\n"
        "test_str='double_quotes'\n"
        "%>\n"
        "test:\"double_quotes\":\"<%= test_str %>\"$\n"
    )
    out = render(page)
    checked = 0
    for line in [part.strip() for part in out.split("$") if part]:
        parts = line.split(":", 2)
        if len(parts) < 3 or not parts[0].strip().startswith("test"):
            continue
        expected = parts[1].replace("-", "\\")
        assert parts[2] == expected, line
        checked += 1
    assert checked == 7


def test_upstream_psptest_page():
    # test/htdocs/psptest.psp
    assert render('<%\nif 1:\n    req.write("t")\n%>est<%=" "+"ok"%>\n') == "test ok\n"


def test_indentation_of_code_carries_over_to_text():
    page = "<%\nfor i in range(3):\n    %>[<%= i %>]<%\n%>end"
    assert render(page) == "[0][1][2]end"


def test_block_ended_by_a_comment_line():
    page = ("<%\nfor i in range(2):\n    x = i * 10\n%><%= x %>,<%\n# end\n%>after\n")
    assert render(page) == "0,10,after\n"


def test_indented_close_on_its_own_line_indents_twice():
    # 3.5's scanner writes a code line's indentation and then the block's again
    # before the text, so "    %>" under an indented statement is an error there too
    src = psp.parsestring("<%\nif 1:\n    x = 1\n    %>t")
    assert "\n        req.write" in src
    with pytest.raises(IndentationError):
        compile(src, "p", "exec")


def test_text_after_a_colon_is_inside_the_block():
    page = "<%\nfor i in range(2):%>(<%= i %>)<%\n%>!"
    assert render(page) == "(0)(1)!"


def test_if_else_around_text():
    page = ("<%\nif flag:\n    %>yes<%\nelse:\n    %>no<%\n# end\n%>.")
    assert render(page, flag=True) == "yes."
    assert render(page, flag=False) == "no."


def test_comment_is_dropped():
    assert render("a<%-- hidden <%= boom %> --%>b") == "ab"


def test_line_numbers_are_kept():
    src = psp.parsestring("line1\nline2\n<%\nx = 1\ny = 2\n%>line6\n")
    lines = src.splitlines()
    assert lines[3] == "x = 1" and lines[4] == "y = 2"


def test_crlf_input():
    assert render("a\r\nb<%\r\nx = 3\r\n%><%= x %>") == "a\nb3"


def test_include(tmp_path):
    (tmp_path / "head.psp").write_text("<h1><%= title %></h1>")
    (tmp_path / "page.psp").write_text('A<%@ include file="head.psp" %>B\n')
    req = Req(filename=str(tmp_path / "page.psp"))
    psp.PSP(req, vars={"title": "T"}).run()
    assert req.text == "A<h1>T</h1>B\n"
    src = psp.parse("page.psp", str(tmp_path) + "/")
    assert "<h1>" in src


def test_include_missing_file_is_an_error(tmp_path):
    (tmp_path / "page.psp").write_text('<%@ include file="nope.psp" %>')
    with pytest.raises(OSError):
        psp.parse("page.psp", str(tmp_path) + "/")


def test_parse_module_function_matches_translator():
    assert psp.parsestring("x<%= y %>") == _psp.parsestring("x<%= y %>")


# ---------------------------------------------------------------- PSP objects

def test_file_is_compiled_once_and_recompiled_when_changed(tmp_path, monkeypatch):
    page = tmp_path / "p.psp"
    page.write_text("one")
    calls = []
    real = _psp.parse
    monkeypatch.setattr(_psp, "parse", lambda *a: calls.append(a) or real(*a))
    for _ in range(3):
        req = Req(filename=str(page))
        psp.PSP(req).run()
        assert req.text == "one"
    assert len(calls) == 1
    page.write_text("two")
    t = time.time() + 5
    os.utime(str(page), (t, t))
    req = Req(filename=str(page))
    psp.PSP(req).run()
    assert req.text == "two" and len(calls) == 2


def test_missing_file_is_404(tmp_path):
    with pytest.raises(apache.SERVER_RETURN) as e:
        psp.PSP(Req(filename=str(tmp_path / "none.psp")))
    assert e.value.args[0] == apache.HTTP_NOT_FOUND


def test_filename_and_string_together_refused():
    with pytest.raises(ValueError):
        psp.PSP(Req(), filename="a.psp", string="x")


def test_run_vars_and_str(tmp_path):
    req = Req()
    p = psp.PSP(req, string="<%= a %>-<%= b %>", vars={"a": 1, "b": 2})
    p.run({"b": 3})
    assert req.text == "1-3"
    req2 = Req()
    assert str(psp.PSP(req2, string="hi")) == ""
    assert req2.text == "hi" and req2.content_type == "text/html"


def test_error_page(tmp_path):
    # test/htdocs/psptest_main.psp and psptest_fail.psp, without the session
    (tmp_path / "main.psp").write_text("okay\n<%\npsp.set_error_page('fail.psp')\nraise ValueError('x')\n%>\n")
    (tmp_path / "fail.psp").write_text("fail <%= exception[0].__name__ %>\n")
    req = Req(filename=str(tmp_path / "main.psp"))
    psp.PSP(req).run()
    assert req.text.split() == ["okay", "fail", "ValueError"]


def test_error_without_error_page_propagates():
    with pytest.raises(ZeroDivisionError):
        psp.PSP(Req(), string="<% 1/0 %>").run()


def test_form_is_made_when_used():
    req = Req(args="name=bob&x=")
    psp.PSP(req, string="<%= form.getfirst('name') %>|<%= repr(str(form.getfirst('x'))) %>").run()
    assert req.text == "bob|''"  # keep_blank_values
    assert hasattr(req, "form")


def test_session_is_made_saved_and_unlocked(tmp_path):
    opts = {"mod_python.session.database_directory": str(tmp_path), "session": "MemorySession"}
    req = Req(options=opts)
    psp.PSP(req, string="<% session['n'] = 7 %><%= session.id() %>").run()
    sid = req.text
    assert not hasattr(req, "session")  # made by the page: unlocked and removed
    from mod_python import Session
    assert Session.MemorySession.sdict[sid]["_data"] == {"n": 7}
    assert Session._locks.acquire(Session.lock_directory(req), sid, blocking=False)
    Session._locks.release(Session.lock_directory(req), sid)


def test_display_code(tmp_path):
    (tmp_path / "p.psp").write_text("<b>x</b>\n<% y = 1 %>\n")
    req = Req(filename=str(tmp_path / "p.psp"))
    psp.PSP(req).display_code()
    assert "PSP-produced Python Code" in req.text
    assert "1.&nbsp;" in req.text and "&lt;b&gt;x&lt;/b&gt;" in req.text


def test_handler_serves_file_and_debug_views(tmp_path):
    (tmp_path / "p.psp").write_text("<%= 6 * 7 %>")
    req = Req(filename=str(tmp_path / "p.psp"), config={"PythonDebug": "0"})
    assert psp.handler(req) == apache.OK
    assert req.text == "42" and req.content_type == "text/html"
    req = Req(filename=str(tmp_path / "p.psp_"), config={"PythonDebug": "1"})
    psp.handler(req)
    assert "PSP-produced Python Code" in req.text
    # without debug the trailing '_' is just a missing file
    with pytest.raises(apache.SERVER_RETURN):
        psp.handler(Req(filename=str(tmp_path / "p.psp_"), config={"PythonDebug": "0"}))


def test_handler_debug_error_carries_generated_code(tmp_path):
    (tmp_path / "bad.psp").write_text("a\n<%\nx = 1\nboom()\n%>\n")
    req = Req(filename=str(tmp_path / "bad.psp"), config={"PythonDebug": "1"})
    with pytest.raises(NameError) as e:
        psp.handler(req)
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert "PSP-produced Python code" in notes
    assert ">4: boom()" in notes


def test_dbm_code_cache_option(tmp_path):
    (tmp_path / "p.psp").write_text("<%= 'cached' %>")
    opts = {"mod_python.psp.cache_database_filename": str(tmp_path / "pspcache")}

    class Srv(object):
        pass

    req = Req(filename=str(tmp_path / "p.psp"), options=opts)
    req.server = Srv()
    psp.PSP(req).run()
    assert req.text == "cached"
    mtime = os.path.getmtime(str(tmp_path / "p.psp"))
    code = psp.dbm_cache_get(req.server, opts["mod_python.psp.cache_database_filename"],
                             str(tmp_path / "p.psp"), mtime)
    assert code is not None and code.co_filename == str(tmp_path / "p.psp")
    req2 = Req(filename=str(tmp_path / "p.psp"), options=opts)
    req2.server = Srv()
    psp.PSP(req2).run()
    assert req2.text == "cached"

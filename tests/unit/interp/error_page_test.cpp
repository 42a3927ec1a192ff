// error_page: the report taken from a real Python error (frames, source,
// SyntaxError position), the fallback without the runtime, Accept sniffing,
// and both renderings (escaping, hidden credentials, WSGI labels).
#include "interp/error_page.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::raise_from;
using testing::reg;

TEST(accepts_html, browsers_yes_curl_no) {
    EXPECT_TRUE(accepts_html({{"Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}}));
    EXPECT_TRUE(accepts_html({{"accept", "application/xhtml+xml"}}));
    EXPECT_TRUE(accepts_html({{"Host", "x"}, {"ACCEPT", "text/plain"}, {"Accept", "text/html"}}));
    EXPECT_FALSE(accepts_html({{"Accept", "*/*"}}));
    EXPECT_FALSE(accepts_html({{"Accept", "application/json"}}));
    EXPECT_FALSE(accepts_html({{"X-Accept", "text/html"}}));
    EXPECT_FALSE(accepts_html({}));
}

error_report sample_report() {
    error_report r;
    r.text = "Traceback (most recent call last):\n  File \"/srv/h.py\", line 3\nValueError: <bad>\n";
    r.type = "ValueError";
    r.message = "<bad> & worse";
    error_frame f;
    f.file = "/srv/h.py";
    f.line = 3;
    f.function = "handler";
    f.source = {{2, "def handler(req):"}, {3, "    raise ValueError('<bad>')"}, {4, ""}};
    r.frames.push_back(f);
    return r;
}

error_context sample_context() {
    error_context c;
    c.method = "GET";
    c.target = "/app?x=<y>";
    c.protocol = "HTTP/1.1";
    c.headers = {{"Host", "www.example.com"}, {"Authorization", "Basic c2VjcmV0"},
                 {"proxy-authorization", "Bearer t"}, {"Cookie", "a=b"}};
    c.site = "www.example.com";
    c.block = "directory /srv/app (sites.d/a.toml:5:1)";
    c.handler = "h::handler";
    c.phase = "PythonHandler";
    c.interpreter = "www.example.com";
    return c;
}

TEST(render_error_page, plain_text_for_curl) {
    error_page p = render_error_page(sample_report(), sample_context(), false);
    EXPECT_EQ(p.content_type, "text/plain; charset=utf-8");
    const std::string& b = p.body;
    EXPECT_EQ(b.rfind("MOD_PYTHON ERROR\n", 0), 0u);
    EXPECT_NE(b.find("Phase:          'PythonHandler'\n"), std::string::npos);
    EXPECT_NE(b.find("Handler:        'h::handler'\n"), std::string::npos);
    EXPECT_NE(b.find("Exception:      ValueError: <bad> & worse\n"), std::string::npos);
    EXPECT_NE(b.find("  File \"/srv/h.py\", line 3, in handler\n"), std::string::npos);
    EXPECT_NE(b.find("  >     3 |     raise ValueError('<bad>')\n"), std::string::npos) << b;
    EXPECT_NE(b.find("        2 | def handler(req):\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  GET /app?x=<y> HTTP/1.1\n"), std::string::npos);
    EXPECT_NE(b.find("  Authorization: (hidden)\n"), std::string::npos);
    EXPECT_NE(b.find("  proxy-authorization: (hidden)\n"), std::string::npos);
    EXPECT_EQ(b.find("c2VjcmV0"), std::string::npos);
    EXPECT_NE(b.find("  Cookie: a=b\n"), std::string::npos);
    EXPECT_EQ(b.back(), '\n');
}

TEST(render_error_page, html_escapes_everything_from_the_request_and_the_error) {
    error_page p = render_error_page(sample_report(), sample_context(), true);
    EXPECT_EQ(p.content_type, "text/html; charset=utf-8");
    const std::string& b = p.body;
    EXPECT_EQ(b.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(b.find("<bad>"), std::string::npos);
    EXPECT_EQ(b.find("x=<y>"), std::string::npos);
    EXPECT_NE(b.find("&lt;bad&gt; &amp; worse"), std::string::npos);
    EXPECT_NE(b.find("<title>500 ValueError: &lt;bad&gt; &amp; worse</title>"), std::string::npos);
    EXPECT_NE(b.find("<span class=\"cur\"><span class=\"ln\">3</span>"), std::string::npos);
    EXPECT_EQ(b.find("c2VjcmV0"), std::string::npos);
    EXPECT_NE(b.find("(hidden)"), std::string::npos);
}

TEST(render_error_page, wsgi_is_labelled_as_such) {
    error_context c = sample_context();
    c.wsgi = true;
    c.handler = "app:application";
    error_page t = render_error_page(sample_report(), c, false);
    EXPECT_EQ(t.body.rfind("WSGI ERROR\n", 0), 0u);
    EXPECT_NE(t.body.find("WSGI app:       'app:application'\n"), std::string::npos);
    EXPECT_EQ(t.body.find("Phase:"), std::string::npos);
    error_page h = render_error_page(sample_report(), c, true);
    EXPECT_NE(h.body.find("<td>WSGI app</td>"), std::string::npos);
    EXPECT_EQ(h.body.find("<td>Phase</td>"), std::string::npos);
}

TEST(render_error_page, syntax_error_caret_under_the_range) {
    error_report r;
    r.text = "SyntaxError";
    r.type = "SyntaxError";
    r.message = "invalid syntax";
    r.syntax = true;
    r.syntax_file = "/srv/h.py";
    r.syntax_line = 7;
    r.syntax_text = "\tx = = 1";
    r.syntax_offset = 4;
    r.syntax_end_offset = 7;
    r.syntax_msg = "invalid syntax";
    std::string b = render_error_page(r, sample_context(), false).body;
    EXPECT_NE(b.find("  File \"/srv/h.py\", line 7\n     x = = 1\n       ^^^\n  invalid syntax\n"), std::string::npos)
        << b;
    r.syntax_offset = 0;  // unknown: no caret
    b = render_error_page(r, sample_context(), false).body;
    EXPECT_NE(b.find("     x = = 1\n    \n"), std::string::npos) << b;
    r.syntax_offset = 3;
    r.syntax_end_offset = 0;  // no end: one caret
    b = render_error_page(r, sample_context(), false).body;
    EXPECT_NE(b.find("\n      ^\n"), std::string::npos) << b;
}

TEST(render_error_page, an_empty_report_still_makes_a_page) {
    error_report r;
    error_page h = render_error_page(r, error_context{}, true);
    EXPECT_NE(h.body.find("<title>500 Internal Server Error</title>"), std::string::npos);
    error_page t = render_error_page(r, error_context{}, false);
    EXPECT_EQ(t.body.find("Exception:"), std::string::npos);
    EXPECT_EQ(t.body.find("Frames"), std::string::npos);
}

class take_error_report_test : public ::testing::Test {
protected:
    void SetUp() override {
        scope_.emplace(reg().main());
        std::string tmpl = (std::filesystem::temp_directory_path() / "error_page.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        PyErr_Clear();
        scope_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::optional<scope> scope_;
    std::string dir_;
};

TEST_F(take_error_report_test, nothing_set_gives_an_empty_report) {
    error_report r = take_error_report(reg().main().runtime());
    EXPECT_EQ(r.text, "");
    EXPECT_EQ(r.type, "");
    EXPECT_TRUE(r.frames.empty());
}

TEST_F(take_error_report_test, frames_with_source_from_a_real_file) {
    std::string file = dir_ + "/failing.py";
    std::ofstream(file) << "def inner():\n    raise KeyError('missing')\n\ndef outer():\n    inner()\n";
    raise_from("ns = {}\nexec(compile(open(" + std::string("'") + file + "').read(), '" + file +
               "', 'exec'), ns)\nns['outer']()\n");
    error_report r = take_error_report(reg().main().runtime());
    EXPECT_EQ(PyErr_Occurred(), nullptr);  // taken
    EXPECT_EQ(r.type, "KeyError");
    EXPECT_NE(r.message.find("missing"), std::string::npos);
    EXPECT_NE(r.text.find("Traceback"), std::string::npos);
    ASSERT_GE(r.frames.size(), 2u);
    const error_frame& last = r.frames.back();  // innermost last
    EXPECT_EQ(last.file, file);
    EXPECT_EQ(last.function, "inner");
    EXPECT_EQ(last.line, 2);
    bool has_line = false;
    for (const auto& [n, text] : last.source) {
        has_line = has_line || (n == 2 && text.find("raise KeyError('missing')") != std::string::npos);
    }
    EXPECT_TRUE(has_line);
    EXPECT_EQ(r.frames[r.frames.size() - 2].function, "outer");
    EXPECT_FALSE(r.syntax);
}

TEST_F(take_error_report_test, syntax_error_position) {
    raise_from("compile('x = (1,\\n  2 +* 3)\\n', '/srv/broken.py', 'exec')");
    error_report r = take_error_report(reg().main().runtime());
    EXPECT_EQ(r.type, "SyntaxError");
    ASSERT_TRUE(r.syntax);
    EXPECT_EQ(r.syntax_file, "/srv/broken.py");
    EXPECT_EQ(r.syntax_line, 2);
    EXPECT_GT(r.syntax_offset, 0);
    EXPECT_NE(r.syntax_text.find("2 +* 3"), std::string::npos);
}

TEST_F(take_error_report_test, without_the_runtime_only_the_text) {
    raise_from("raise ValueError('plain')");
    error_report r = take_error_report(nullptr);
    EXPECT_EQ(PyErr_Occurred(), nullptr);
    EXPECT_NE(r.text.find("ValueError: plain"), std::string::npos);
    EXPECT_EQ(r.type, "");
    EXPECT_TRUE(r.frames.empty());
}

TEST_F(take_error_report_test, a_runtime_whose_report_fails_falls_back_to_the_original_error) {
    ASSERT_EQ(testing::exec("class _Broken:\n    def _error_report(self, *a):\n        raise RuntimeError('report')\n"
                            "broken = _Broken()\n"),
              "");
    py::ref broken = testing::eval("broken");
    ASSERT_TRUE(broken);
    raise_from("raise ValueError('original')");
    error_report r = take_error_report(broken.get());
    EXPECT_EQ(PyErr_Occurred(), nullptr);
    EXPECT_NE(r.text.find("ValueError: original"), std::string::npos) << r.text;
    EXPECT_EQ(r.text.find("RuntimeError"), std::string::npos) << r.text;
}

}  // namespace
}  // namespace subhttpd::interp

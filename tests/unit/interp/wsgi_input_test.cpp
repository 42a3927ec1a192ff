// wsgi.input: reads bounded by the body's length, lines, size hints,
// iteration, argument errors, and an error (not a crash) once the request is over.
#include <gtest/gtest.h>

#include "wsgi_fixture.h"

namespace subhttpd::interp {
namespace {

using wsgi_input = testing::wsgi_test;

// An app that runs `steps` (expressions over `inp`) and answers their reprs, one per line.
std::string reader(const std::string& steps) {
    return "def application(environ, start_response):\n"
           "    inp = environ['wsgi.input']\n"
           "    out = []\n"
           "    for step in " + steps + ":\n"
           "        try:\n"
           "            out.append(repr(eval(step)))\n"
           "        except Exception as e:\n"
           "            out.append(type(e).__name__ + ': ' + str(e))\n"
           "    start_response('200 OK', [])\n"
           "    return [('\\n'.join(out)).encode()]\n";
}

class wsgi_input_body : public wsgi_input {
protected:
    void SetUp() override {
        wsgi_input::SetUp();
        ex_.method_ = "POST";
        ex_.body_ = "first\nsecond\nthird";
    }
};

TEST_F(wsgi_input_body, read_in_parts_then_empty) {
    ASSERT_EQ(call(reader("['inp.read(3)', 'inp.read(0)', 'inp.read()', 'inp.read()', 'inp.read(5)']")), -2)
        << error_;
    EXPECT_EQ(ex_.out, "b'fir'\nb''\nb'st\\nsecond\\nthird'\nb''\nb''");
}

TEST_F(wsgi_input_body, read_none_and_negative_mean_all) {
    ASSERT_EQ(call(reader("['inp.read(None)']")), -2) << error_;
    EXPECT_EQ(ex_.out, "b'first\\nsecond\\nthird'");
}

TEST_F(wsgi_input_body, a_body_delivered_in_pieces_reads_whole) {
    ex_.piece = 4;
    ASSERT_EQ(call(reader("['inp.read(-1)']")), -2) << error_;
    // One read() call returns what one exchange read gives; PEP 3333 allows fewer
    // bytes, so callers loop. What matters: nothing is lost or repeated.
    ASSERT_EQ(ex_.out.rfind("b'", 0), 0u) << ex_.out;
}

TEST_F(wsgi_input_body, lines_and_limits) {
    ASSERT_EQ(call(reader("['inp.readline()', 'inp.readline(3)', 'inp.readline()', 'inp.readline()', "
                          "'inp.readline()']")),
              -2)
        << error_;
    EXPECT_EQ(ex_.out, "b'first\\n'\nb'sec'\nb'ond\\n'\nb'third'\nb''");
}

TEST_F(wsgi_input_body, readlines_and_hint) {
    ASSERT_EQ(call(reader("['inp.readlines(2)', 'inp.readlines()', 'inp.readlines()']")), -2) << error_;
    EXPECT_EQ(ex_.out, "[b'first\\n']\n[b'second\\n', b'third']\n[]");
}

TEST_F(wsgi_input_body, iteration_yields_lines) {
    ASSERT_EQ(call(reader("['list(inp)', 'list(inp)']")), -2) << error_;
    EXPECT_EQ(ex_.out, "[b'first\\n', b'second\\n', b'third']\n[]");
}

TEST_F(wsgi_input_body, bad_arguments) {
    ASSERT_EQ(call(reader("['inp.read(1, 2)', 'inp.read(\"x\")', 'inp.readline(1, 2)', 'inp.read(1)']")), -2)
        << error_;
    EXPECT_EQ(ex_.out,
              "TypeError: read() takes at most 1 argument (2 given)\n"
              "TypeError: 'str' object cannot be interpreted as an integer\n"
              "TypeError: readline() takes at most 1 argument (2 given)\n"
              "b'f'");
}

TEST_F(wsgi_input, an_empty_body) {
    ASSERT_EQ(call(reader("['inp.read()', 'inp.readline()', 'inp.readlines()', 'list(inp)']")), -2) << error_;
    EXPECT_EQ(ex_.out, "b''\nb''\n[]\n[]");
}

TEST_F(wsgi_input_body, kept_after_the_request_it_refuses_use) {
    ASSERT_EQ(call("import builtins\n"
                   "def application(environ, start_response):\n"
                   "    builtins.kept_input = environ['wsgi.input']\n"
                   "    start_response('200 OK', [])\n"
                   "    return [b'ok']\n"),
              -2)
        << error_;
    EXPECT_EQ(run("kept_input.read()"), "ValueError: wsgi.input: the request is finished");
    EXPECT_EQ(run("next(iter(kept_input))"), "ValueError: wsgi.input: the request is finished");
    EXPECT_EQ(run("import builtins\ndel builtins.kept_input"), "");
}

}  // namespace
}  // namespace subhttpd::interp

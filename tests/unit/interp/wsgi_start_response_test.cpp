// start_response: the status line and headers an app may give (PEP 3333 and
// RFC 9110 checks, each refused with a clear error), exc_info, the legacy
// write callable, and the Content-Length promise.
#include <gtest/gtest.h>

#include "wsgi_fixture.h"

namespace subhttpd::interp {
namespace {

using wsgi_start_response = testing::wsgi_test;

// An app that tries start_response(<args>) and answers "accepted" or the error.
std::string trying(const std::string& args) {
    return "import sys\n"
           "def application(environ, start_response):\n"
           "    try:\n"
           "        start_response(" + args + ")\n"
           "        result = 'accepted'\n"
           "    except Exception as e:\n"
           "        result = type(e).__name__ + ': ' + str(e)\n"
           "        start_response('200 OK', [])\n"
           "    return [result.encode()]\n";
}

TEST_F(wsgi_start_response, a_plain_status_and_headers) {
    ASSERT_EQ(call(trying("'201 Created', [('X-A', '1'), ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')]")), -2)
        << error_;
    EXPECT_EQ(ex_.out, "accepted");
    EXPECT_EQ(ex_.status, 201);
    EXPECT_EQ(ex_.reason, "Created");
    EXPECT_EQ(ctx_.status, 201);
    ASSERT_EQ(ex_.response_headers.size(), 3u);
    EXPECT_EQ(ex_.response_headers[1], (std::pair<std::string, std::string>("Set-Cookie", "a=1")));
}

TEST_F(wsgi_start_response, an_empty_reason_gets_the_standard_one) {
    ASSERT_EQ(call(trying("'404 ', []")), -2) << error_;
    EXPECT_EQ(ex_.status, 404);
    EXPECT_EQ(ex_.reason, "Not Found");
    ASSERT_EQ(call(trying("'599 Custom Thing', []")), -2) << error_;
    EXPECT_EQ(ex_.reason, "Custom Thing");
}

TEST_F(wsgi_start_response, malformed_status_lines) {
    struct {
        const char* args;
        const char* error;
    } cases[] = {
        {"'200', []", "ValueError: status must look like '200 OK', not '200'"},
        {"'OK 200', []", "ValueError: status must look like '200 OK', not 'OK 200'"},
        {"'099 Low', []", "ValueError: status must look like '200 OK', not '099 Low'"},
        {"'200-OK', []", "ValueError: status must look like '200 OK', not '200-OK'"},
        {"'200 OK\\r\\nX: y', []", "ValueError: status may not hold control characters: '200 OK\\r\\nX: y'"},
        {"b'200 OK', []", "TypeError: status must be str, not bytes"},
        {"'200 \\u20ac', []", "ValueError: status must hold only Latin-1 characters: '200 \xe2\x82\xac'"},
    };
    for (const auto& c : cases) {
        ASSERT_EQ(call(trying(c.args)), -2) << error_;
        EXPECT_EQ(ex_.out, c.error) << c.args;
        EXPECT_EQ(ex_.status, 200) << c.args;  // the fallback start_response
        ex_.out.clear();
    }
}

TEST_F(wsgi_start_response, malformed_headers) {
    struct {
        const char* args;
        const char* error;
    } cases[] = {
        {"'200 OK', (('A', 'b'),)", "TypeError: response_headers must be a list, not tuple"},
        {"'200 OK', [('A', 'b', 'c')]", "TypeError: response header 0 must be a (name, value) tuple, not ('A', 'b', 'c')"},
        {"'200 OK', [['A', 'b']]", "TypeError: response header 0 must be a (name, value) tuple, not ['A', 'b']"},
        {"'200 OK', [('', 'b')]", "ValueError: empty header name"},
        {"'200 OK', [('Bad Name', 'b')]", "ValueError: invalid header name 'Bad Name'"},
        {"'200 OK', [('X-A:', 'b')]", "ValueError: invalid header name 'X-A:'"},
        {"'200 OK', [('X-A', 'a\\r\\nX-Evil: 1')]",
         "ValueError: header X-A: value may not hold CR, LF or control characters: 'a\\r\\nX-Evil: 1'"},
        {"'200 OK', [('X-A', 1)]", "TypeError: header value must be str, not int"},
        {"'200 OK', [('Connection', 'close')]",
         "ValueError: hop-by-hop header Connection is not allowed from a WSGI application (PEP 3333)"},
        {"'200 OK', [('transfer-encoding', 'chunked')]",
         "ValueError: hop-by-hop header transfer-encoding is not allowed from a WSGI application (PEP 3333)"},
        {"'200 OK', [('Content-Length', 'ten')]", "ValueError: invalid Content-Length 'ten'"},
        {"'200 OK', [('Content-Length', '-1')]", "ValueError: invalid Content-Length '-1'"},
        {"'200 OK', [('Content-Length', '')]", "ValueError: invalid Content-Length ''"},
    };
    for (const auto& c : cases) {
        ASSERT_EQ(call(trying(c.args)), -2) << error_;
        EXPECT_EQ(ex_.out, c.error) << c.args;
        ex_.out.clear();
    }
}

TEST_F(wsgi_start_response, tabs_and_latin1_in_values_are_fine) {
    ASSERT_EQ(call(trying("'200 OK', [('X-A', 'a\\tb'), ('X-B', 'caf\\xe9')]")), -2) << error_;
    EXPECT_EQ(ex_.out, "accepted");
    EXPECT_EQ(ex_.header("X-A"), "a\tb");
    EXPECT_EQ(ex_.header("X-B"), "caf\xe9");
}

TEST_F(wsgi_start_response, twice_without_exc_info_is_an_error) {
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [])\n"
                   "    try:\n"
                   "        start_response('500 Again', [])\n"
                   "        r = 'accepted'\n"
                   "    except AssertionError as e:\n"
                   "        r = str(e)\n"
                   "    return [r.encode()]\n"),
              -2)
        << error_;
    EXPECT_EQ(ex_.out, "start_response() called again without exc_info");
    EXPECT_EQ(ex_.status, 200);
}

TEST_F(wsgi_start_response, exc_info_before_the_body_replaces_the_response) {
    ASSERT_EQ(call("import sys\n"
                   "def application(environ, start_response):\n"
                   "    start_response('200 OK', [('X-First', '1')])\n"
                   "    try:\n"
                   "        raise ValueError('late')\n"
                   "    except ValueError:\n"
                   "        start_response('500 Oops', [('X-Second', '2')], sys.exc_info())\n"
                   "    return [b'error page']\n"),
              -2)
        << error_;
    EXPECT_EQ(ex_.status, 500);
    EXPECT_EQ(ex_.reason, "Oops");
    EXPECT_FALSE(ex_.has_header("X-First"));
    EXPECT_EQ(ex_.header("X-Second"), "2");
    EXPECT_EQ(ex_.out, "error page");
}

TEST_F(wsgi_start_response, exc_info_must_be_a_triple) {
    ASSERT_EQ(call(trying("'200 OK', [], 'oops'")), -2) << error_;
    EXPECT_EQ(ex_.out, "TypeError: exc_info must be a (type, value, traceback) tuple or None");
}

TEST_F(wsgi_start_response, the_write_callable) {
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    write = start_response('200 OK', [])\n"
                   "    write(b'legacy ')\n"
                   "    try:\n"
                   "        write('text')\n"
                   "    except TypeError as e:\n"
                   "        write(str(e).encode() + b' ')\n"
                   "    return [b'then iterable']\n"),
              -2)
        << error_;
    EXPECT_EQ(ex_.out, "legacy write() takes bytes, not str then iterable");
}

TEST_F(wsgi_start_response, body_before_start_response_is_an_app_error) {
    EXPECT_EQ(call("def application(environ, start_response):\n"
                   "    return [b'too early']\n"),
              500);
    EXPECT_NE(error_.find("before calling start_response()"), std::string::npos) << error_;
    EXPECT_EQ(ex_.out, "");
}

TEST_F(wsgi_start_response, never_more_than_the_promised_content_length) {
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [('Content-Length', '5')])\n"
                   "    return [b'abc', b'defgh']\n"),
              -2)
        << error_;
    EXPECT_EQ(ex_.out, "abcde");
    EXPECT_FALSE(ex_.has_header("Content-Length"));  // buffered: the exchange counts what was written
}

TEST_F(wsgi_start_response, head_keeps_the_apps_content_length) {
    ex_.method_ = "HEAD";
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [('Content-Length', '1234')])\n"
                   "    return []\n"),
              -2)
        << error_;
    EXPECT_EQ(ex_.header("Content-Length"), "1234");
}

TEST_F(wsgi_start_response, kept_after_the_request_it_refuses_use) {
    ASSERT_EQ(call("import builtins\n"
                   "def application(environ, start_response):\n"
                   "    builtins.kept_sr = start_response\n"
                   "    start_response('200 OK', [])\n"
                   "    return [b'ok']\n"),
              -2)
        << error_;
    EXPECT_EQ(run("kept_sr('200 OK', [])"), "RuntimeError: start_response/write: the request is finished");
    EXPECT_EQ(run("import builtins\ndel builtins.kept_sr"), "");
}

}  // namespace
}  // namespace subhttpd::interp

// The req type's attributes: request facts read from the exchange, scalars a
// handler may set (with their checks), None for empty optional strings, and a
// finished request refusing further use.
#include <gtest/gtest.h>

#include "request_fixture.h"

namespace subhttpd::interp {
namespace {

using request_type = testing::request_test;

TEST_F(request_type, request_facts) {
    EXPECT_EQ(val("req.method"), "'POST'");
    EXPECT_EQ(val("req.unparsed_uri"), "'/app/hello.py/extra?a=1&b=2'");
    EXPECT_EQ(val("req.the_request"), "'POST /app/hello.py/extra?a=1&b=2 HTTP/1.1'");
    EXPECT_EQ(val("req.protocol"), "'HTTP/1.1'");
    EXPECT_EQ(val("req.proto_num"), "1001");
    EXPECT_EQ(val("req.hostname"), "'www.example.com'");  // port cut, lower case
    EXPECT_EQ(val("req.header_only"), "False");
    EXPECT_EQ(val("req.interpreter"), "'request-tests'");
    EXPECT_EQ(val("req.handler"), "'mod_python'");
    EXPECT_EQ(val("req.uri"), "'/app/hello.py'");
    EXPECT_EQ(val("req.filename"), "'/srv/www/app/hello.py'");
    EXPECT_EQ(val("req.canonical_filename"), "'/srv/www/app/hello.py'");
    EXPECT_EQ(val("req.path_info"), "'/extra'");
    EXPECT_EQ(val("req.args"), "'a=1&b=2'");
    EXPECT_EQ(val("req.remaining"), "18");
    EXPECT_EQ(val("req.bytes_sent"), "0");
    EXPECT_EQ(val("repr(req)"), "'<subhttpd.request POST /app/hello.py>'");
}

TEST_F(request_type, protocol_numbers_and_head) {
    ex_.protocol_ = "HTTP/1.0";
    ex_.method_ = "HEAD";
    EXPECT_EQ(val("req.proto_num"), "1000");
    EXPECT_EQ(val("req.header_only"), "True");
}

TEST_F(request_type, no_host_header_falls_back_to_the_site) {
    ex_.host_ = "";
    EXPECT_EQ(val("req.hostname"), "'www.example.com'");
    ex_.host_ = "[::1]:8080";
    EXPECT_EQ(val("req.hostname"), "'[::1]'");  // as Apache: the literal keeps its brackets
}

TEST_F(request_type, empty_optional_strings_are_none) {
    EXPECT_EQ(val("req.content_type"), "None");
    EXPECT_EQ(val("req.user"), "None");
    EXPECT_EQ(val("req.ap_auth_type"), "None");
    EXPECT_EQ(val("req.status_line"), "None");
    EXPECT_EQ(val("req._content_type_set"), "False");
    ctx_.args.clear();
    EXPECT_EQ(val("req.args"), "None");
    ctx_.path_info.clear();
    EXPECT_EQ(val("req.path_info"), "''");  // never None
}

TEST_F(request_type, handlers_may_change_strings) {
    EXPECT_EQ(run("req.content_type = 'text/plain'\nreq.uri = '/moved'\nreq.user = b'alice'"), "");
    EXPECT_EQ(ctx_.content_type, "text/plain");
    EXPECT_EQ(ctx_.uri, "/moved");
    EXPECT_EQ(ctx_.user, "alice");
    EXPECT_EQ(val("req._content_type_set"), "True");
    EXPECT_EQ(run("req.content_type = None"), "");
    EXPECT_EQ(ctx_.content_type, "");
    EXPECT_EQ(run("req.filename = '/srv/www/caf\\u00e9.py'"), "");
    EXPECT_EQ(ctx_.filename, "/srv/www/caf\xc3\xa9.py");
}

TEST_F(request_type, header_injection_is_refused) {
    EXPECT_EQ(run("req.content_type = 'text/html\\r\\nX-Evil: 1'"),
              "ValueError: value may not contain CR, LF or NUL");
    EXPECT_EQ(run("req.status_line = '200 OK\\n'"), "ValueError: value may not contain CR, LF or NUL");
    EXPECT_EQ(run("req.user = 'a\\x00b'"), "ValueError: value may not contain CR, LF or NUL");
    EXPECT_EQ(ctx_.content_type, "");
    EXPECT_EQ(run("req.uri = 5"), "TypeError: expected str or bytes, got int");
    EXPECT_EQ(run("req.method = 'GET'").rfind("AttributeError", 0), 0u);
}

TEST_F(request_type, status_must_be_an_http_code) {
    EXPECT_EQ(val("req.status"), "200");
    EXPECT_EQ(run("req.status = 404"), "");
    EXPECT_EQ(ctx_.status, 404);
    EXPECT_EQ(run("req.status = 99"), "ValueError: req.status must be an HTTP status code (100-999)");
    EXPECT_EQ(run("req.status = 1000"), "ValueError: req.status must be an HTTP status code (100-999)");
    EXPECT_EQ(run("req.status = '200'"), "TypeError: req.status must be an integer");
    EXPECT_EQ(run("req.status = 100"), "");
    EXPECT_EQ(run("req.status = 999"), "");
    EXPECT_EQ(ctx_.status, 999);
}

TEST_F(request_type, no_cache_and_clength) {
    EXPECT_EQ(run("req.no_cache = 1"), "");
    EXPECT_TRUE(ctx_.no_cache);
    EXPECT_EQ(run("req.no_cache = []"), "");
    EXPECT_FALSE(ctx_.no_cache);
    EXPECT_EQ(val("req.clength"), "0");  // not set
}

TEST_F(request_type, handlers_may_add_their_own_attributes) {
    EXPECT_EQ(run("req.my_value = 42"), "");
    EXPECT_EQ(val("req.my_value"), "42");
    EXPECT_EQ(val("req.__dict__['my_value']"), "42");
}

TEST_F(request_type, a_detached_request_refuses_use) {
    detach_request(req_.get(), &ctx_);
    EXPECT_EQ(val("repr(req)"), "'<subhttpd.request (finished)>'");
    std::string e = run("req.uri");
    EXPECT_NE(e.find("Error"), std::string::npos) << e;
    EXPECT_NE(run("req.status = 200"), "");
    EXPECT_NE(run("req.write('x')"), "");
}

}  // namespace
}  // namespace subhttpd::interp

// The WSGI environ (PEP 3333 / CGI): request facts, SCRIPT_NAME/PATH_INFO
// split at the mount, SERVER_NAME/PORT from the Host header, HTTP_* keys
// (repeats joined, names with '_' dropped), CONTENT_* without prefix, https.
#include <gtest/gtest.h>

#include "wsgi_fixture.h"

namespace subhttpd::interp {
namespace {

using wsgi_environ = testing::wsgi_test;

TEST_F(wsgi_environ, request_facts) {
    ex_.target_ = "/app/page?x=1";
    ctx_.uri = "/app/page";
    ctx_.args = "x=1";
    ASSERT_EQ(call(echo_env("['REQUEST_METHOD', 'QUERY_STRING', 'REQUEST_URI', 'SERVER_PROTOCOL', "
                            "'REMOTE_ADDR', 'REMOTE_PORT', 'SERVER_ADDR', 'DOCUMENT_ROOT', 'GATEWAY_INTERFACE', "
                            "'SERVER_SOFTWARE', 'wsgi.version', 'wsgi.url_scheme', 'wsgi.run_once', 'HTTPS', "
                            "'REQUEST_SCHEME', 'SCRIPT_FILENAME']")),
              -2)
        << error_;
    EXPECT_EQ(env_line("REQUEST_METHOD"), "'GET'");
    EXPECT_EQ(env_line("QUERY_STRING"), "'x=1'");
    EXPECT_EQ(env_line("REQUEST_URI"), "'/app/page?x=1'");
    EXPECT_EQ(env_line("SERVER_PROTOCOL"), "'HTTP/1.1'");
    EXPECT_EQ(env_line("REMOTE_ADDR"), "'192.0.2.9'");
    EXPECT_EQ(env_line("REMOTE_PORT"), "'40000'");
    EXPECT_EQ(env_line("SERVER_ADDR"), "'127.0.0.1'");
    EXPECT_EQ(env_line("DOCUMENT_ROOT"), "'/srv/www'");
    EXPECT_EQ(env_line("GATEWAY_INTERFACE"), "'CGI/1.1'");
    EXPECT_EQ(env_line("wsgi.version"), "(1, 0)");
    EXPECT_EQ(env_line("wsgi.url_scheme"), "'http'");
    EXPECT_EQ(env_line("REQUEST_SCHEME"), "'http'");
    EXPECT_EQ(env_line("wsgi.run_once"), "False");
    EXPECT_EQ(env_line("HTTPS"), "'<absent>'");
    EXPECT_EQ(env_line("SCRIPT_FILENAME"), "'" + app_file() + "'");
}

TEST_F(wsgi_environ, script_name_is_the_mount_path_info_the_rest) {
    route_.mount = "/app";
    ctx_.uri = "/app/users/7";
    ASSERT_EQ(call(echo_env("['SCRIPT_NAME', 'PATH_INFO']")), -2) << error_;
    EXPECT_EQ(env_line("SCRIPT_NAME"), "'/app'");
    EXPECT_EQ(env_line("PATH_INFO"), "'/users/7'");
}

TEST_F(wsgi_environ, at_the_root_script_name_is_empty) {
    route_.mount = "";
    ctx_.uri = "/users/7";
    ASSERT_EQ(call(echo_env("['SCRIPT_NAME', 'PATH_INFO']")), -2) << error_;
    EXPECT_EQ(env_line("SCRIPT_NAME"), "''");
    EXPECT_EQ(env_line("PATH_INFO"), "'/users/7'");
}

TEST_F(wsgi_environ, non_ascii_paths_are_latin1_decoded_bytes) {
    ctx_.uri = "/caf\xc3\xa9";  // UTF-8 bytes on the wire
    ASSERT_EQ(call(echo_env("['PATH_INFO']")), -2) << error_;
    EXPECT_EQ(env_line("PATH_INFO"), "'/caf\\xc3\\xa9'");  // PEP 3333: one code point per byte
}

TEST_F(wsgi_environ, server_name_and_port_from_the_host_header) {
    ex_.host_ = "WWW.Example.COM:8443";
    ASSERT_EQ(call(echo_env("['SERVER_NAME', 'SERVER_PORT']")), -2) << error_;
    EXPECT_EQ(env_line("SERVER_NAME"), "'www.example.com'");
    EXPECT_EQ(env_line("SERVER_PORT"), "'8443'");
}

TEST_F(wsgi_environ, without_a_host_header_the_site_and_local_port) {
    ex_.host_ = "";
    ASSERT_EQ(call(echo_env("['SERVER_NAME', 'SERVER_PORT']")), -2) << error_;
    EXPECT_EQ(env_line("SERVER_NAME"), "'www.example.com'");
    EXPECT_EQ(env_line("SERVER_PORT"), "'8080'");
}

TEST_F(wsgi_environ, request_headers_become_http_keys) {
    ex_.headers_ = {{"Host", "www.example.com"}, {"User-Agent", "ua/1"}, {"X-Multi", "a"}, {"x-multi", "b"},
                    {"X_Under", "dropped"},      {"Content-Type", "text/plain"}, {"Content-Length", "3"}};
    ex_.method_ = "POST";
    ex_.body_ = "abc";
    ASSERT_EQ(call(echo_env("['HTTP_USER_AGENT', 'HTTP_X_MULTI', 'HTTP_X_UNDER', 'CONTENT_TYPE', "
                            "'CONTENT_LENGTH', 'HTTP_CONTENT_TYPE', 'HTTP_HOST']")),
              -2)
        << error_;
    EXPECT_EQ(env_line("HTTP_USER_AGENT"), "'ua/1'");
    EXPECT_EQ(env_line("HTTP_X_MULTI"), "'a, b'");
    EXPECT_EQ(env_line("HTTP_X_UNDER"), "'<absent>'");  // could pose as X-Under
    EXPECT_EQ(env_line("CONTENT_TYPE"), "'text/plain'");
    EXPECT_EQ(env_line("CONTENT_LENGTH"), "'3'");
    EXPECT_EQ(env_line("HTTP_CONTENT_TYPE"), "'<absent>'");
    EXPECT_EQ(env_line("HTTP_HOST"), "'www.example.com'");
}

TEST_F(wsgi_environ, https_requests) {
    ex_.peer_.scheme = "https";
    ex_.host_ = "www.example.com";
    ASSERT_EQ(call(echo_env("['wsgi.url_scheme', 'HTTPS', 'SERVER_PORT', 'REQUEST_SCHEME']")), -2) << error_;
    EXPECT_EQ(env_line("wsgi.url_scheme"), "'https'");
    EXPECT_EQ(env_line("HTTPS"), "'on'");
    EXPECT_EQ(env_line("SERVER_PORT"), "'8080'");  // no port in Host: the port it came in on
    EXPECT_EQ(env_line("REQUEST_SCHEME"), "'https'");
    ex_.out.clear();
    ex_.peer_.local_port = 0;  // not known either: the scheme's
    ASSERT_EQ(call(echo_env("['SERVER_PORT']")), -2) << error_;
    EXPECT_EQ(env_line("SERVER_PORT"), "'443'");
}

TEST_F(wsgi_environ, multithread_and_multiprocess_follow_the_config) {
    route_.offload = true;
    cfg_.server.workers = 4;
    ASSERT_EQ(call(echo_env("['wsgi.multithread', 'wsgi.multiprocess']")), -2) << error_;
    EXPECT_EQ(env_line("wsgi.multithread"), "True");
    EXPECT_EQ(env_line("wsgi.multiprocess"), "True");
}

TEST_F(wsgi_environ, each_request_gets_a_fresh_environ) {
    const std::string app =
        "def application(environ, start_response):\n"
        "    seen = environ.get('mine', 'fresh')\n"
        "    environ['mine'] = 'dirty'\n"
        "    start_response('200 OK', [])\n"
        "    return [seen.encode()]\n";
    ASSERT_EQ(call(app), -2) << error_;
    EXPECT_EQ(ex_.out, "fresh");
    subhttpd::testing::fake_exchange second;
    second.method_ = "GET";
    ctx_.ex = &second;
    ASSERT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), -2) << error_;
    EXPECT_EQ(second.out, "fresh");
    ctx_.ex = &ex_;
}

}  // namespace
}  // namespace subhttpd::interp

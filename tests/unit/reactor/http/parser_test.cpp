// The request parser against RFC 9112's rules: valid heads with every field of
// request_head checked, invalid ones with the status each must answer, every
// split point of a valid head, and chunked bodies fed in every possible way.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "reactor/http/parser.h"

namespace {

using namespace subhttpd::reactor::http;
using namespace std::string_literals;

struct valid_case {
    const char* name;
    std::string raw;
    std::string method, target, path_query;
    target_form form;
    int minor;
    std::string host;
    bool has_host;
    bool chunked;
    bool has_content_length;
    std::uint64_t content_length;
    bool keep_alive;
    bool expect_continue;
    std::size_t fields;
};

constexpr auto O = target_form::origin;
constexpr auto A = target_form::absolute;
constexpr auto S = target_form::asterisk;

// clang-format off
const std::vector<valid_case> valid_cases = {
    {"simple_get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "/", O, 1, "a", true, false, false, 0, true, false, 1},
    {"http10_no_host", "GET /x HTTP/1.0\r\n\r\n", "GET", "/x", "/x", O, 0, "", false, false, false, 0, false, false, 0},
    {"http10_keep_alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "/", O, 0, "", false, false, false, 0, true, false, 1},
    {"http10_keep_alive_then_close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", "/", O, 0, "", false, false, false, 0, false, false, 1},
    {"http11_close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET", "/", "/", O, 1, "a", true, false, false, 0, false, false, 2},
    {"http11_close_upper", "GET / HTTP/1.1\r\nHost: a\r\nCONNECTION: Upgrade, CLOSE\r\n\r\n", "GET", "/", "/", O, 1, "a", true, false, false, 0, false, false, 2},
    {"http11_close_second_field", "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", "GET", "/", "/", O, 1, "a", true, false, false, 0, false, false, 3},
    {"http11_keep_alive_token", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", "GET", "/", "/", O, 1, "a", true, false, false, 0, true, false, 2},
    {"query", "GET /p/q?a=1&b=2 HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/p/q?a=1&b=2", "/p/q?a=1&b=2", O, 1, "h", true, false, false, 0, true, false, 1},
    {"fragment_cut", "GET /p?q=1#frag HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/p?q=1", "/p?q=1", O, 1, "h", true, false, false, 0, true, false, 1},
    {"fragment_only", "GET /#x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 1},
    {"odd_but_visible_target", "GET /a%20b/~!$&'()*+,;=:@[]{}|^`\" HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/a%20b/~!$&'()*+,;=:@[]{}|^`\"", "/a%20b/~!$&'()*+,;=:@[]{}|^`\"", O, 1, "h", true, false, false, 0, true, false, 1},
    {"host_with_port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "GET", "/", "/", O, 1, "example.com:8080", true, false, false, 0, true, false, 1},
    {"host_ipv6", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "GET", "/", "/", O, 1, "[::1]:80", true, false, false, 0, true, false, 1},
    {"host_empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET", "/", "/", O, 1, "", true, false, false, 0, true, false, 1},
    {"host_ows_only", "GET / HTTP/1.1\r\nHost: \t \r\n\r\n", "GET", "/", "/", O, 1, "", true, false, false, 0, true, false, 1},
    {"host_case_name", "GET / HTTP/1.1\r\nhOsT: X.Y\r\n\r\n", "GET", "/", "/", O, 1, "X.Y", true, false, false, 0, true, false, 1},
    {"host_tab_trimmed", "GET / HTTP/1.1\r\nHost:\tx\t\r\n\r\n", "GET", "/", "/", O, 1, "x", true, false, false, 0, true, false, 1},
    {"absolute_form", "GET http://example.com/a?b HTTP/1.1\r\nHost: other\r\n\r\n", "GET", "http://example.com/a?b", "/a?b", A, 1, "example.com", true, false, false, 0, true, false, 1},
    {"absolute_form_no_host_field", "GET http://example.com:81/ HTTP/1.1\r\n\r\n", "GET", "http://example.com:81/", "/", A, 1, "example.com:81", true, false, false, 0, true, false, 0},
    {"absolute_form_empty_path", "GET http://example.com HTTP/1.1\r\n\r\n", "GET", "http://example.com", "/", A, 1, "example.com", true, false, false, 0, true, false, 0},
    {"absolute_form_https_upper", "GET HTTPS://h.example/x HTTP/1.1\r\nHost: h.example\r\n\r\n", "GET", "HTTPS://h.example/x", "/x", A, 1, "h.example", true, false, false, 0, true, false, 1},
    {"absolute_form_fragment", "GET http://h/p#f HTTP/1.1\r\n\r\n", "GET", "http://h/p", "/p", A, 1, "h", true, false, false, 0, true, false, 0},
    {"absolute_form_http10", "GET http://h/p HTTP/1.0\r\n\r\n", "GET", "http://h/p", "/p", A, 0, "h", true, false, false, 0, false, false, 0},
    {"asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", "*", S, 1, "h", true, false, false, 0, true, false, 1},
    {"content_length", "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, false, true, 42, true, false, 2},
    {"content_length_zero", "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, false, true, 0, true, false, 2},
    {"content_length_leading_zeros", "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, false, true, 7, true, false, 2},
    {"content_length_identical_dups", "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, false, true, 5, true, false, 3},
    {"content_length_identical_list", "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5,5\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, false, true, 5, true, false, 2},
    {"content_length_max", "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, false, true, 18446744073709551615ull, true, false, 2},
    {"chunked", "POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, true, false, 0, true, false, 2},
    {"chunked_upper", "POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, true, false, 0, true, false, 2},
    {"chunked_empty_elements", "POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n", "POST", "/f", "/f", O, 1, "h", true, true, false, 0, true, false, 2},
    {"expect_continue", "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", "PUT", "/f", "/f", O, 1, "h", true, false, true, 3, true, true, 3},
    {"expect_continue_http10_ignored", "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", "PUT", "/f", "/f", O, 0, "", false, false, true, 3, false, false, 2},
    {"expect_other_ignored", "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n", "PUT", "/f", "/f", O, 1, "h", true, false, false, 0, true, false, 2},
    {"leading_empty_lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 1},
    {"eight_empty_lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 1},
    {"custom_method", "PROPFIND /d HTTP/1.1\r\nHost: h\r\n\r\n", "PROPFIND", "/d", "/d", O, 1, "h", true, false, false, 0, true, false, 1},
    {"method_tchars", "M-!#$%&'*+.^_`|~9 / HTTP/1.1\r\nHost: h\r\n\r\n", "M-!#$%&'*+.^_`|~9", "/", "/", O, 1, "h", true, false, false, 0, true, false, 1},
    {"lowercase_method_kept", "get / HTTP/1.1\r\nHost: h\r\n\r\n", "get", "/", "/", O, 1, "h", true, false, false, 0, true, false, 1},
    {"obs_text_value", "GET / HTTP/1.1\r\nHost: h\r\nX-U: caf\xc3\xa9\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 2},
    {"empty_value", "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 2},
    {"many_fields", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 7},
    {"browser_like", "GET /index.html?x=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: a=b; c=\"d e\"\r\nUpgrade-Insecure-Requests: 1\r\nCache-Control: max-age=0\r\n\r\n", "GET", "/index.html?x=1", "/index.html?x=1", O, 1, "www.example.com", true, false, false, 0, true, false, 9},
    {"name_with_underscore", "GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 2},
    {"te_named_field_like", "GET / HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n\r\n", "GET", "/", "/", O, 1, "h", true, false, false, 0, true, false, 2},
};
// clang-format on

// ctest lists each case by its name rather than by its bytes.
void PrintTo(const valid_case& c, std::ostream* os) { *os << c.name; }

class valid_head : public ::testing::TestWithParam<valid_case> {};

TEST_P(valid_head, every_field) {
    const valid_case& c = GetParam();
    request_head h;
    parse_error err;
    ASSERT_EQ(parse_head(c.raw, limits{}, h, err), result::complete) << err.status << " " << err.reason;
    EXPECT_EQ(h.method, c.method);
    EXPECT_EQ(h.target, c.target);
    EXPECT_EQ(h.path_query, c.path_query);
    EXPECT_EQ(h.form, c.form);
    EXPECT_EQ(h.minor, c.minor);
    EXPECT_EQ(h.host, c.host);
    EXPECT_EQ(h.has_host, c.has_host);
    EXPECT_EQ(h.chunked, c.chunked);
    EXPECT_EQ(h.has_content_length, c.has_content_length);
    EXPECT_EQ(h.content_length, c.content_length);
    EXPECT_EQ(h.keep_alive, c.keep_alive);
    EXPECT_EQ(h.expect_continue, c.expect_continue);
    EXPECT_EQ(h.headers.size(), c.fields);
    EXPECT_EQ(h.head_bytes, c.raw.size());
    std::size_t line_end = c.raw.find("\r\n", c.raw.find_first_not_of("\r\n")) + 2;
    EXPECT_EQ(h.field_bytes, c.raw.size() - line_end);
}

// A body (or the next pipelined request) after the head is not part of it.
TEST_P(valid_head, bytes_after_the_head_are_left) {
    const valid_case& c = GetParam();
    std::string buf = c.raw + "GET /next HTTP/1.1\r\n";
    request_head h;
    parse_error err;
    ASSERT_EQ(parse_head(buf, limits{}, h, err), result::complete);
    EXPECT_EQ(h.head_bytes, c.raw.size());
}

TEST_P(valid_head, every_prefix_is_incomplete) {
    const valid_case& c = GetParam();
    request_head h;
    parse_error err;
    for (std::size_t i = 0; i < c.raw.size(); ++i)
        EXPECT_EQ(parse_head(std::string_view(c.raw).substr(0, i), limits{}, h, err), result::incomplete)
            << "prefix of " << i << " bytes; error " << err.status << " " << err.reason;
}

// Views point into the caller's buffer, never into a copy.
TEST_P(valid_head, views_point_into_the_buffer) {
    const valid_case& c = GetParam();
    request_head h;
    parse_error err;
    ASSERT_EQ(parse_head(c.raw, limits{}, h, err), result::complete);
    const char* b = c.raw.data();
    const char* e = b + c.raw.size();
    auto inside = [&](std::string_view v) { return v.empty() || (v.data() >= b && v.data() + v.size() <= e); };
    EXPECT_TRUE(inside(h.method) && inside(h.target) && inside(h.host));
    if (h.path_query != "/" || h.form != target_form::absolute) {
        EXPECT_TRUE(inside(h.path_query));
    }
    for (const header_field& f : h.headers) EXPECT_TRUE(inside(f.name) && inside(f.value));
}

INSTANTIATE_TEST_SUITE_P(rfc9112, valid_head, ::testing::ValuesIn(valid_cases),
                         [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string raw;
    int status;
};

// clang-format off
const std::vector<invalid_case> invalid_cases = {
    // request line
    {"two_spaces_after_method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"two_spaces_before_version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"tab_separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"leading_space", " GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"trailing_space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
    {"missing_version", "GET /\r\nHost: h\r\n\r\n", 400},
    {"http09", "GET /\r\n\r\n", 400},
    {"missing_target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"empty_method", " / HTTP/1.1\r\n\r\n", 400},
    {"method_bad_char", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"method_nul", "G\0T / HTTP/1.1\r\nHost: h\r\n\r\n"s, 400},
    {"space_in_target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"ctl_in_target", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"del_in_target", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"nul_in_target", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400},
    {"utf8_in_target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"tab_in_target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"version_lowercase", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
    {"version_negative", "GET / HTTP/-1.1\r\nHost: h\r\n\r\n", 400},
    {"version_099", "GET / HTTP/0.99\r\nHost: h\r\n\r\n", 400},
    {"version_suffix", "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400},
    {"version_no_minor", "GET / HTTP/2\r\nHost: h\r\n\r\n", 400},
    {"version_two_digit_major", "GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400},
    {"version_garbage", "GET / FOO/1.1\r\nHost: h\r\n\r\n", 400},
    {"version_20", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
    {"version_12", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505},
    {"version_09", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
    {"version_30", "GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505},
    {"bare_lf_request_line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
    {"bare_cr_request_line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400},
    {"bare_cr_in_target", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"bare_lf_leading", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"bare_cr_leading", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"too_many_empty_lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    // target forms
    {"asterisk_with_get", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"asterisk_lowercase_options", "options * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"asterisk_with_suffix", "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"authority_form", "GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"connect_authority_form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400},
    {"relative_target", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"fragment_only_target", "GET #x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"ftp_scheme", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"absolute_empty_authority", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"absolute_userinfo", "GET http://u:p@h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"absolute_query_no_path", "GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"absolute_bad_host_char", "GET http://h\"x/ HTTP/1.1\r\n\r\n", 400},
    {"scheme_without_slashes", "GET http:h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    // fields
    {"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
    {"tab_before_colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400},
    {"no_colon", "GET / HTTP/1.1\r\nHost h\r\n\r\n", 400},
    {"empty_name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400},
    {"bad_name_char", "GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", 400},
    {"utf8_name", "GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n", 400},
    {"obs_fold_space", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
    {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400},
    {"space_before_first_field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
    {"nul_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s, 400},
    {"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
    {"bare_lf_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", 400},
    {"bare_lf_field_end", "GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n", 400},
    {"bare_lf_final", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400},
    {"bare_cr_final", "GET / HTTP/1.1\r\nHost: h\r\n\rx", 400},
    {"ctl_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n", 400},
    {"esc_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[31m\r\n\r\n", 400},
    {"del_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400},
    // Host
    {"no_host_http11", "GET / HTTP/1.1\r\n\r\n", 400},
    {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"two_identical_hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400},
    {"two_hosts_http10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"two_hosts_absolute", "GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
    {"host_with_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
    {"host_with_at", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
    {"host_with_question", "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", 400},
    {"host_with_hash", "GET / HTTP/1.1\r\nHost: a#b\r\n\r\n", 400},
    {"host_with_backslash", "GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", 400},
    {"host_utf8", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", 400},
    {"host_list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400},
    // Content-Length
    {"cl_minus_zero", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -0\r\n\r\n", 400},
    {"cl_plus", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400},
    {"cl_hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n", 400},
    {"cl_space_inside", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400},
    {"cl_empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400},
    {"cl_decimal", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1.0\r\n\r\n", 400},
    {"cl_overflow", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n", 400},
    {"cl_huge", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
    {"cl_differing_fields", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
    {"cl_differing_list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400},
    {"cl_list_empty_element", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,,5\r\n\r\n", 400},
    {"cl_trailing_comma", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n", 400},
    // Transfer-Encoding
    {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"te_and_cl", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
    {"cl_and_te", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"te_chunked_twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400},
    {"te_chunked_twice_fields", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"te_chunked_not_last", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
    {"te_chunked_not_last_fields", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
    {"te_gzip_only", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
    {"te_identity", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501},
    {"te_unknown", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},
    {"te_gzip_then_chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
    {"te_empty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400},
    {"te_commas_only", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , ,\r\n\r\n", 400},
    {"te_quoted", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400},
    {"te_with_parameter", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400},
    {"te_space_inside", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chun ked\r\n\r\n", 400},
};
// clang-format on

void PrintTo(const invalid_case& c, std::ostream* os) { *os << c.name; }

class invalid_head : public ::testing::TestWithParam<invalid_case> {};

TEST_P(invalid_head, answers_the_status) {
    const invalid_case& c = GetParam();
    request_head h;
    parse_error err;
    ASSERT_EQ(parse_head(c.raw, limits{}, h, err), result::error);
    EXPECT_EQ(err.status, c.status) << err.reason;
    EXPECT_FALSE(err.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(rfc9112, invalid_head, ::testing::ValuesIn(invalid_cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(parse_head, field_names_and_values_as_received_with_ows_trimmed) {
    std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX-A:\t v1 v2 \t\r\nx-b:v\r\nX-C: \"q\" ,x\r\nEmpty: \r\n\r\n";
    request_head h;
    parse_error err;
    ASSERT_EQ(parse_head(raw, limits{}, h, err), result::complete);
    ASSERT_EQ(h.headers.size(), 5u);
    EXPECT_EQ(h.headers[0].name, "Host");
    EXPECT_EQ(h.headers[0].value, "h");
    EXPECT_EQ(h.headers[1].name, "X-A");
    EXPECT_EQ(h.headers[1].value, "v1 v2");
    EXPECT_EQ(h.headers[2].name, "x-b");
    EXPECT_EQ(h.headers[2].value, "v");
    EXPECT_EQ(h.headers[3].name, "X-C");
    EXPECT_EQ(h.headers[3].value, "\"q\" ,x");
    EXPECT_EQ(h.headers[4].name, "Empty");
    EXPECT_EQ(h.headers[4].value, "");
}

TEST(parse_head, reusing_the_head_resets_every_field) {
    request_head h;
    parse_error err;
    ASSERT_EQ(parse_head("POST http://a/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
                         "Connection: close\r\n\r\n",
                         limits{}, h, err),
              result::complete);
    std::size_t cap = h.headers.capacity();
    ASSERT_EQ(parse_head("GET /y HTTP/1.0\r\n\r\n", limits{}, h, err), result::complete);
    EXPECT_EQ(h.form, target_form::origin);
    EXPECT_EQ(h.host, "");
    EXPECT_FALSE(h.has_host);
    EXPECT_FALSE(h.chunked);
    EXPECT_FALSE(h.expect_continue);
    EXPECT_FALSE(h.keep_alive);
    EXPECT_TRUE(h.headers.empty());
    EXPECT_EQ(h.headers.capacity(), cap);
    EXPECT_EQ(h.minor, 0);
}

std::string line_of(std::size_t n) {  // a request line of exactly n bytes, CRLF excluded
    std::string prefix = "GET /", suffix = " HTTP/1.1";
    return prefix + std::string(n - prefix.size() - suffix.size(), 'a') + suffix;
}

TEST(parse_head, request_line_limit) {
    limits lim;
    lim.max_request_line = 100;
    request_head h;
    parse_error err;
    EXPECT_EQ(parse_head(line_of(100) + "\r\nHost: h\r\n\r\n", lim, h, err), result::complete);
    EXPECT_EQ(parse_head(line_of(101) + "\r\nHost: h\r\n\r\n", lim, h, err), result::error);
    EXPECT_EQ(err.status, 414);
    // Still incomplete but already too long: answered without waiting for the rest.
    EXPECT_EQ(parse_head(line_of(101), lim, h, err), result::error);
    EXPECT_EQ(err.status, 414);
    EXPECT_EQ(parse_head("GET /" + std::string(500, 'a'), lim, h, err), result::error);
    EXPECT_EQ(err.status, 414);
    // At the limit and incomplete: wait.
    EXPECT_EQ(parse_head(line_of(100), lim, h, err), result::incomplete);
    EXPECT_EQ(parse_head(line_of(100) + "\r", lim, h, err), result::incomplete);
    // The default is Apache's 8190.
    EXPECT_EQ(parse_head(line_of(8190) + "\r\nHost: h\r\n\r\n", limits{}, h, err), result::complete);
    EXPECT_EQ(parse_head(line_of(8191) + "\r\nHost: h\r\n\r\n", limits{}, h, err), result::error);
    EXPECT_EQ(err.status, 414);
}

TEST(parse_head, field_section_limit) {
    limits lim;
    lim.max_field_bytes = 200;
    request_head h;
    parse_error err;
    std::string line = "GET / HTTP/1.1\r\n";
    // "Host: h\r\n" (9) + "X: " (3) + value + "\r\n" (2) + final "\r\n" (2) = 200
    std::string fits = line + "Host: h\r\nX: " + std::string(184, 'v') + "\r\n\r\n";
    ASSERT_EQ(parse_head(fits, lim, h, err), result::complete);
    EXPECT_EQ(h.field_bytes, 200u);
    std::string over = line + "Host: h\r\nX: " + std::string(185, 'v') + "\r\n\r\n";
    EXPECT_EQ(parse_head(over, lim, h, err), result::error);
    EXPECT_EQ(err.status, 431);
    // Incomplete but already over the limit.
    EXPECT_EQ(parse_head(line + "Host: h\r\nX: " + std::string(300, 'v'), lim, h, err), result::error);
    EXPECT_EQ(err.status, 431);
    EXPECT_EQ(parse_head(line + "Host: h\r\n" + std::string(300, 'X'), lim, h, err), result::error);
    EXPECT_EQ(err.status, 431);
}

TEST(parse_head, field_count_limit) {
    limits lim;
    lim.max_fields = 5;
    request_head h;
    parse_error err;
    std::string raw = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 4; ++i) raw += "X: 1\r\n";
    EXPECT_EQ(parse_head(raw + "\r\n", lim, h, err), result::complete);
    EXPECT_EQ(parse_head(raw + "X: 1\r\n\r\n", lim, h, err), result::error);
    EXPECT_EQ(err.status, 431);
}

// Long values and targets are scanned a word at a time: a bad byte must be
// caught wherever it sits, and a good one must never stop the scan.
TEST(parse_head, every_byte_position_of_long_values_and_targets) {
    request_head h;
    parse_error err;
    for (std::size_t i = 0; i < 40; ++i) {
        for (char bad : {'\0', '\x01', '\x0b', '\x1f', '\x7f', '\n', '\r'}) {
            std::string v(40, 'v');
            v[i] = bad;
            EXPECT_EQ(parse_head("GET / HTTP/1.1\r\nHost: h\r\nX: " + v + "\r\n\r\n", limits{}, h, err),
                      result::error)
                << "value byte " << int(bad) << " at " << i;
            std::string t = "/" + std::string(40, 't');
            t[i + 1] = bad;
            EXPECT_EQ(parse_head("GET " + t + " HTTP/1.1\r\nHost: h\r\n\r\n", limits{}, h, err), result::error)
                << "target byte " << int(bad) << " at " << i;
        }
        for (char bad : {' ', '\t', '\x80', '\xff'}) {
            std::string t = "/" + std::string(40, 't');
            t[i + 1] = bad;
            EXPECT_EQ(parse_head("GET " + t + " HTTP/1.1\r\nHost: h\r\n\r\n", limits{}, h, err), result::error)
                << "target byte " << int(bad) << " at " << i;
        }
        for (char good : {'\t', ' ', '\x80', '\xff', '~', '!'}) {
            std::string v(40, 'v');
            v[i] = good;
            ASSERT_EQ(parse_head("GET / HTTP/1.1\r\nHost: h\r\nX: " + v + "\r\n\r\n", limits{}, h, err),
                      result::complete)
                << "value byte " << int(good) << " at " << i;
        }
    }
}

// A request line that no further byte can repair is refused before its CRLF.
TEST(parse_head, hopeless_incomplete_request_line_is_refused_at_once) {
    request_head h;
    parse_error err;
    for (std::string s : {"\x16\x03\x01\x02\x00"s, "GET\t"s, " GET"s, "GET  "s, "GET /a\x01"s, "GET / x"s,
                          "GET / HTTP/1.1 "s, "GET / http"s, "GET / HTTP/1x"s, "GET / HTTP/1.1x"s, "GET / HTTP/-"s,
                          "PRI * HTTP/2.0\r"s.substr(0, 14) + "0"})
        EXPECT_EQ(parse_head(s, limits{}, h, err), result::error) << s;
    for (std::string s : {"GET / HTTP/"s, "GET / HTTP/2.0"s, "OPTIONS * H"s, "GET http://a"s})
        EXPECT_EQ(parse_head(s, limits{}, h, err), result::incomplete) << s;
}

TEST(parse_head, empty_input_and_partial_empty_lines_are_incomplete) {
    request_head h;
    parse_error err;
    for (const char* s : {"", "\r", "\r\n", "\r\n\r", "G", "GET", "GET ", "GET /", "GET / HTTP/1.1\r\nHost: h\r\n\r"})
        EXPECT_EQ(parse_head(s, limits{}, h, err), result::incomplete) << s;
}

// ---- chunked bodies ----

struct chunk_case {
    const char* name;
    std::string raw;
    std::string body;
};

// clang-format off
const std::vector<chunk_case> chunk_cases = {
    {"one_chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"},
    {"two_chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
    {"empty_body", "0\r\n\r\n", ""},
    {"hex_upper", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
    {"hex_lower", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
    {"leading_zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
    {"sixteen_digits", "0000000000000003\r\nabc\r\n0\r\n\r\n", "abc"},
    {"data_with_crlf", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"},
    {"binary_data", "3\r\n\0\xff\n\r\n0\r\n\r\n"s, "\0\xff\n"s},
    {"ext_name_only", "5;foo\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_token_value", "5;name=value\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_quoted_value", "5;name=\"some value\"\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_quoted_escapes", "5;n=\"a\\\"b\\\\c\"\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_quoted_empty", "5;n=\"\"\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_quoted_semicolon", "5;n=\"a;b=c\"\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_several", "5;a;b=1;c=\"x\"\r\nhello\r\n0;last\r\n\r\n", "hello"},
    {"ext_bws", "5 ;\ta = \"x\" ; b\t=\t2\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_bws_after_value", "5;a=b ;c\r\nhello\r\n0\r\n\r\n", "hello"},
    {"ext_on_last_chunk", "0;x=y\r\n\r\n", ""},
    {"trailer", "5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n", "hello"},
    {"trailers_several", "5\r\nhello\r\n0\r\nA: 1\r\nB:\r\nC: x y\t\r\n\r\n", "hello"},
    {"trailer_obs_text", "0\r\nX: caf\xc3\xa9\r\n\r\n", ""},
};

struct bad_chunk_case {
    const char* name;
    std::string raw;
    int status;
};

const std::vector<bad_chunk_case> bad_chunk_cases = {
    {"plus_sign", "+5\r\nhello\r\n0\r\n\r\n", 400},
    {"minus_sign", "-5\r\nhello\r\n0\r\n\r\n", 400},
    {"hex_prefix", "0x5\r\nhello\r\n0\r\n\r\n", 400},
    {"empty_size", "\r\nhello\r\n0\r\n\r\n", 400},
    {"leading_space", " 5\r\nhello\r\n0\r\n\r\n", 400},
    {"seventeen_digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", 400},
    {"not_hex", "g\r\n", 400},
    {"space_then_crlf", "5 \r\nhello\r\n0\r\n\r\n", 400},
    {"bare_lf_size", "5\nhello\r\n0\r\n\r\n", 400},
    {"cr_without_lf", "5\rhello\r\n0\r\n\r\n", 400},
    {"data_too_long", "5\r\nhello!\r\n0\r\n\r\n", 400},
    {"data_bare_lf", "5\r\nhello\n0\r\n\r\n", 400},
    {"data_cr_x", "5\r\nhello\rx0\r\n\r\n", 400},
    {"ext_empty_name", "5;\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_name_eq_nothing", "5;a=\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_bad_name", "5;a(b)\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_bad_value", "5;a=b/c\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_space_then_crlf", "5;a \r\nhello\r\n0\r\n\r\n", 400},
    {"ext_value_space_then_crlf", "5;a=b \r\nhello\r\n0\r\n\r\n", 400},
    {"ext_unterminated_quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_quote_then_garbage", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_quoted_ctl", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_escaped_lf", "5;a=\"\\\n\"\r\nhello\r\n0\r\n\r\n", 400},
    {"ext_too_long", "5;a=" + std::string(5000, 'x') + "\r\nhello\r\n0\r\n\r\n", 400},
    {"trailer_obs_fold", "0\r\nA: 1\r\n b\r\n\r\n", 400},
    {"trailer_space_before_colon", "0\r\nA : 1\r\n\r\n", 400},
    {"trailer_no_colon", "0\r\nA\r\n\r\n", 400},
    {"trailer_bare_lf", "0\r\nA: 1\n\r\n", 400},
    {"trailer_nul", "0\r\nA: 1\0\r\n\r\n"s, 400},
    {"trailer_bare_cr", "0\r\nA: 1\rx\r\n\r\n", 400},
    {"last_chunk_bare_lf", "0\r\n\n", 400},
    {"last_chunk_cr_x", "0\r\n\rx", 400},
    {"trailers_too_big", "0\r\n" + [] {
         std::string t;
         for (int i = 0; i < 1100; ++i) t += "X-Trailer: " + std::string(50, 'v') + "\r\n";
         return t;
     }() + "\r\n", 431},
};
// clang-format on

// Feeds `raw` in pieces cut at `cuts` (sorted offsets); returns the decoder.
chunk_decoder feed_cut(std::string_view raw, const std::vector<std::size_t>& cuts, std::string& body,
                       std::uint64_t max_body, std::size_t& consumed) {
    chunk_decoder d;
    consumed = 0;
    std::size_t from = 0;
    auto piece = [&](std::size_t to) {
        if (d.done() || d.failed()) return;
        std::size_t used = d.feed(raw.substr(from, to - from), body, max_body);
        consumed += used;
        if (!d.done() && !d.failed()) {
            EXPECT_EQ(used, to - from);
        }
        from = to;
    };
    for (std::size_t c : cuts) piece(c);
    piece(raw.size());
    return d;
}

void PrintTo(const chunk_case& c, std::ostream* os) { *os << c.name; }
void PrintTo(const bad_chunk_case& c, std::ostream* os) { *os << c.name; }

class chunked_body : public ::testing::TestWithParam<chunk_case> {};

TEST_P(chunked_body, whole) {
    const chunk_case& c = GetParam();
    std::string body;
    std::size_t consumed;
    chunk_decoder d = feed_cut(c.raw, {}, body, 1 << 20, consumed);
    ASSERT_TRUE(d.done()) << d.error().status << " " << d.error().reason;
    EXPECT_EQ(body, c.body);
    EXPECT_EQ(consumed, c.raw.size());
}

TEST_P(chunked_body, split_at_every_byte) {
    const chunk_case& c = GetParam();
    for (std::size_t i = 0; i <= c.raw.size(); ++i) {
        std::string body;
        std::size_t consumed;
        chunk_decoder d = feed_cut(c.raw, {i}, body, 1 << 20, consumed);
        ASSERT_TRUE(d.done()) << "split at " << i << ": " << d.error().reason;
        EXPECT_EQ(body, c.body);
        EXPECT_EQ(consumed, c.raw.size());
    }
}

TEST_P(chunked_body, one_byte_at_a_time) {
    const chunk_case& c = GetParam();
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < c.raw.size(); ++i) cuts.push_back(i);
    std::string body;
    std::size_t consumed;
    chunk_decoder d = feed_cut(c.raw, cuts, body, 1 << 20, consumed);
    ASSERT_TRUE(d.done()) << d.error().reason;
    EXPECT_EQ(body, c.body);
}

TEST_P(chunked_body, stops_at_the_end_and_leaves_the_next_request) {
    const chunk_case& c = GetParam();
    std::string raw = c.raw + "GET / HTTP/1.1\r\n";
    chunk_decoder d;
    std::string body;
    EXPECT_EQ(d.feed(raw, body, 1 << 20), c.raw.size());
    EXPECT_TRUE(d.done());
    EXPECT_EQ(d.feed("more", body, 1 << 20), 0u);
}

TEST_P(chunked_body, exact_max_body_fits_one_less_is_413) {
    const chunk_case& c = GetParam();
    std::string body;
    std::size_t consumed;
    EXPECT_TRUE(feed_cut(c.raw, {}, body, c.body.size(), consumed).done());
    if (c.body.empty()) return;
    body.clear();
    chunk_decoder d = feed_cut(c.raw, {}, body, c.body.size() - 1, consumed);
    ASSERT_TRUE(d.failed());
    EXPECT_EQ(d.error().status, 413);
    EXPECT_LT(body.size(), c.body.size());
}

INSTANTIATE_TEST_SUITE_P(rfc9112, chunked_body, ::testing::ValuesIn(chunk_cases),
                         [](const auto& info) { return std::string(info.param.name); });

class bad_chunked_body : public ::testing::TestWithParam<bad_chunk_case> {};

TEST_P(bad_chunked_body, fails_whole_and_split) {
    const bad_chunk_case& c = GetParam();
    for (std::size_t i = 0; i <= c.raw.size(); i += (c.raw.size() > 200 ? 997 : 1)) {
        std::string body;
        std::size_t consumed;
        chunk_decoder d = feed_cut(c.raw, {i}, body, 1 << 20, consumed);
        ASSERT_TRUE(d.failed()) << "split at " << i;
        EXPECT_EQ(d.error().status, c.status) << d.error().reason;
        EXPECT_FALSE(d.error().reason.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(rfc9112, bad_chunked_body, ::testing::ValuesIn(bad_chunk_cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(chunk_decoder, body_limit_counts_every_chunk) {
    std::string raw = "4\r\nabcd\r\n4\r\nefgh\r\n4\r\nijkl\r\n0\r\n\r\n";
    std::string body;
    chunk_decoder d;
    d.feed(raw, body, 10);
    ASSERT_TRUE(d.failed());
    EXPECT_EQ(d.error().status, 413);
    EXPECT_EQ(body, "abcdefgh");  // never more than max_body
}

TEST(chunk_decoder, huge_chunk_size_is_413_before_any_data) {
    chunk_decoder d;
    std::string body;
    d.feed("ffffffffffffffff\r\n", body, 1 << 20);
    ASSERT_TRUE(d.failed());
    EXPECT_EQ(d.error().status, 413);
}

TEST(chunk_decoder, incomplete_until_the_final_crlf) {
    std::string raw = "5\r\nhello\r\n0\r\nX: y\r\n\r\n";
    chunk_decoder d;
    std::string body;
    EXPECT_EQ(d.feed(std::string_view(raw).substr(0, raw.size() - 1), body, 100), raw.size() - 1);
    EXPECT_FALSE(d.done());
    EXPECT_FALSE(d.failed());
    EXPECT_EQ(d.feed("\n", body, 100), 1u);
    EXPECT_TRUE(d.done());
}

TEST(chunk_decoder, reset_starts_over) {
    chunk_decoder d;
    std::string body;
    d.feed("x", body, 100);
    ASSERT_TRUE(d.failed());
    d.reset();
    EXPECT_FALSE(d.failed());
    d.feed("1\r\na\r\n0\r\n\r\n", body, 100);
    EXPECT_TRUE(d.done());
    EXPECT_EQ(body, "a");
}

}  // namespace

// The response head writer: framing, what the application may not set, field
// hygiene, and the Date text. Pure functions: no sockets.
#include <gtest/gtest.h>

#include <string>

#include "reactor/http/clock.h"
#include "reactor/http/response.h"

namespace http = subhttpd::reactor::http;
using subhttpd::interp::header_list;

namespace {

std::string head(const http::head_spec& spec, int* refused = nullptr, bool* app_close = nullptr) {
    std::string out;
    int n = http::build_head(spec, out, app_close);
    if (refused != nullptr) {
        *refused = n;
    }
    return out;
}

// The head without its Date line, which changes every second.
std::string no_date(std::string h) {
    auto at = h.find("Date: ");
    auto end = h.find("\r\n", at);
    return h.erase(at, end + 2 - at);
}

}  // namespace

TEST(response, buffered_answer_has_its_length_and_one_date) {
    header_list h{{"Content-Type", "text/plain"}};
    http::head_spec s;
    s.status = 200;
    s.headers = &h;
    s.length = 14;
    std::string out = head(s);
    EXPECT_EQ(no_date(out), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n");
    EXPECT_EQ(out.find("Date: "), out.rfind("Date: "));
}

TEST(response, framing_fields_from_the_application_are_replaced) {
    header_list h{{"Content-Length", "999"}, {"Transfer-Encoding", "gzip"}, {"Date", "yesterday"},
                  {"Keep-Alive", "timeout=5"}, {"X-A", "1"}};
    http::head_spec s;
    s.headers = &h;
    s.length = 3;
    EXPECT_EQ(no_date(head(s)), "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n");
}

TEST(response, chunked_and_close_delimited_streams) {
    http::head_spec s;
    s.frame = http::framing::chunked;
    EXPECT_EQ(no_date(head(s)), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    s.frame = http::framing::close;
    s.http10 = true;
    EXPECT_EQ(no_date(head(s)), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

TEST(response, no_body_statuses_and_head) {
    http::head_spec s;
    s.status = 304;
    s.frame = http::framing::none;
    EXPECT_EQ(no_date(head(s)), "HTTP/1.1 304 Not Modified\r\n\r\n");
    s.status = 200;
    s.announce_length = true;  // HEAD: the length the GET would have
    s.length = 42;
    EXPECT_EQ(no_date(head(s)), "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");
    EXPECT_TRUE(http::status_has_no_body(204));
    EXPECT_TRUE(http::status_has_no_body(101));
    EXPECT_FALSE(http::status_has_no_body(200));
}

TEST(response, keep_alive_by_version) {
    http::head_spec s;
    s.length = 0;
    s.http10 = true;
    EXPECT_NE(head(s).find("Connection: keep-alive\r\n"), std::string::npos);
    s.keep_alive = false;
    EXPECT_NE(head(s).find("Connection: close\r\n"), std::string::npos);
    s.http10 = false;
    s.keep_alive = true;
    EXPECT_EQ(head(s).find("Connection:"), std::string::npos);
}

TEST(response, application_close_is_honoured_once) {
    header_list h{{"Connection", "keep-alive, Close"}};
    http::head_spec s;
    s.headers = &h;
    bool app_close = false;
    std::string out = head(s, nullptr, &app_close);
    EXPECT_TRUE(app_close);
    EXPECT_EQ(out.find("Connection: close"), out.rfind("Connection: close"));
    EXPECT_EQ(out.find("keep-alive"), std::string::npos);
}

TEST(response, fields_that_would_corrupt_the_head_never_reach_it) {
    header_list h{{"X-Ok", "fine"},         {"X-Bad", "a\r\nInjected: 1"}, {"X-Nul", std::string("a\0b", 3)},
                  {"Bad Name", "1"},        {"X-Lf\nInjected", "1"},      {"", "empty name"},
                  {"X-Colon:", "1"}};
    http::head_spec s;
    s.headers = &h;
    int refused = 0;
    std::string out = head(s, &refused);
    EXPECT_EQ(refused, 6);
    EXPECT_EQ(out.find("Injected"), std::string::npos);
    EXPECT_NE(out.find("X-Ok: fine\r\n"), std::string::npos);
}

TEST(response, a_reason_with_line_breaks_is_replaced) {
    http::head_spec s;
    s.status = 404;
    s.reason = "Gone\r\nX-Injected: 1";
    s.length = 0;
    std::string out = head(s);
    EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
    EXPECT_EQ(out.find("Injected"), std::string::npos);
}

TEST(response, declared_length) {
    EXPECT_EQ(http::declared_length({{"content-length", "12"}}), 12);
    EXPECT_EQ(http::declared_length({{"Content-Length", "+12"}}), -1);
    EXPECT_EQ(http::declared_length({{"Content-Length", ""}}), -1);
    EXPECT_EQ(http::declared_length({{"X", "1"}}), -1);
}

TEST(clock, http_date_format) {
    char buf[30];
    http::format_http_date(784111777, buf);  // RFC 9110's example
    EXPECT_STREQ(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    http::format_http_date(0, buf);
    EXPECT_STREQ(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(http::http_date_now().size(), 29u);
}

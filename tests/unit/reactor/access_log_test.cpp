// format_access_line: the three formats, escaping, and times that ignore TZ.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "reactor/access_log.h"

namespace subhttpd::reactor {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2026-12-01 20:35:22.123 UTC
system_clock::time_point when() { return system_clock::time_point(milliseconds(1796157322123LL)); }

access_fields sample() {
    access_fields f;
    f.remote_ip = "127.0.0.1";
    f.user = "alice";
    f.time = when();
    f.method = "GET";
    f.target = "/app/x?a=1";
    f.protocol = "HTTP/1.1";
    f.status = 200;
    f.bytes = 1234;
    f.referer = "http://example.com/";
    f.user_agent = "curl/7.88.1";
    f.interpreter = "www.example.com";
    f.micros = 456;
    f.site = "www.example.com";
    return f;
}

TEST(access_log, combined) {
    EXPECT_EQ(format_access_line(sample(), access_format::combined),
              "127.0.0.1 - alice [01/Dec/2026:20:35:22 +0000] \"GET /app/x?a=1 HTTP/1.1\" 200 1234 "
              "\"http://example.com/\" \"curl/7.88.1\" www.example.com 456us");
}

TEST(access_log, common) {
    EXPECT_EQ(format_access_line(sample(), access_format::common),
              "127.0.0.1 - alice [01/Dec/2026:20:35:22 +0000] \"GET /app/x?a=1 HTTP/1.1\" 200 1234 "
              "www.example.com 456us");
}

TEST(access_log, json) {
    EXPECT_EQ(format_access_line(sample(), access_format::json),
              "{\"time\":\"2026-12-01T20:35:22.123Z\",\"remote_ip\":\"127.0.0.1\",\"user\":\"alice\","
              "\"method\":\"GET\",\"target\":\"/app/x?a=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
              "\"bytes\":1234,\"referer\":\"http://example.com/\",\"user_agent\":\"curl/7.88.1\","
              "\"site\":\"www.example.com\",\"interpreter\":\"www.example.com\",\"micros\":456}");
}

TEST(access_log, absent_fields_are_dashes_or_null) {
    access_fields f = sample();
    f.user.clear();
    f.referer.clear();
    f.user_agent.clear();
    f.interpreter.clear();
    f.site.clear();
    EXPECT_EQ(format_access_line(f, access_format::combined),
              "127.0.0.1 - - [01/Dec/2026:20:35:22 +0000] \"GET /app/x?a=1 HTTP/1.1\" 200 1234 \"-\" \"-\" - 456us");
    std::string j = format_access_line(f, access_format::json);
    EXPECT_NE(j.find("\"user\":null,"), std::string::npos) << j;
    EXPECT_NE(j.find("\"referer\":null,\"user_agent\":null,\"site\":null,\"interpreter\":null,"), std::string::npos)
        << j;
}

TEST(access_log, a_client_cannot_forge_fields_or_lines) {
    access_fields f = sample();
    f.target = "/x\" 200 0 \"a\nfake";
    f.user_agent = "ua\\\x01\xc3\xa9";
    std::string c = format_access_line(f, access_format::combined);
    EXPECT_NE(c.find("\"GET /x\\\" 200 0 \\\"a\\x0afake HTTP/1.1\""), std::string::npos) << c;
    EXPECT_NE(c.find("\"ua\\\\\\x01\\xc3\\xa9\""), std::string::npos) << c;
    EXPECT_EQ(c.find('\n'), std::string::npos);
    std::string j = format_access_line(f, access_format::json);
    EXPECT_NE(j.find("\"target\":\"/x\\\" 200 0 \\\"a\\u000afake\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"user_agent\":\"ua\\\\\\u0001\\u00c3\\u00a9\""), std::string::npos) << j;
}

TEST(access_log, times_do_not_follow_the_process_tz) {
    const char* old = std::getenv("TZ");
    std::string saved = old != nullptr ? old : "";
    setenv("TZ", "America/Chicago", 1);
    tzset();
    std::string a = format_access_line(sample(), access_format::combined);
    std::string t = iso_time(when());
    if (old != nullptr) {
        setenv("TZ", saved.c_str(), 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
    EXPECT_NE(a.find("[01/Dec/2026:20:35:22 +0000]"), std::string::npos) << a;
    EXPECT_EQ(t, "2026-12-01T20:35:22.123Z");
}

TEST(access_log, times_before_a_second_boundary_and_the_epoch) {
    EXPECT_EQ(iso_time(system_clock::time_point(milliseconds(0))), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso_time(system_clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(apache_time(system_clock::time_point(milliseconds(951782400999LL))), "29/Feb/2000:00:00:00 +0000");
}

}  // namespace
}  // namespace subhttpd::reactor

// The Date header's text: IMF-fixdate for any time, and the cached "now".
#include "reactor/http/clock.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace subhttpd::reactor::http {
namespace {

std::string fmt(time_t t) {
    char out[30];
    format_http_date(t, out);
    return out;
}

TEST(http_date, rfc_9110_example) { EXPECT_EQ(fmt(784111777), "Sun, 06 Nov 1994 08:49:37 GMT"); }

TEST(http_date, epoch_and_boundaries) {
    EXPECT_EQ(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(fmt(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");  // leap day of a century leap year
    EXPECT_EQ(fmt(946684799), "Fri, 31 Dec 1999 23:59:59 GMT");
    EXPECT_EQ(fmt(4102444800), "Fri, 01 Jan 2100 00:00:00 GMT");
    EXPECT_EQ(fmt(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(http_date, every_weekday_and_month_name) {
    const char* days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    for (int d = 0; d < 7; ++d) {
        EXPECT_EQ(fmt(d * 86400).substr(0, 3), days[d]);
    }
    const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int m = 0; m < 12; ++m) {
        tm t{};
        t.tm_year = 126;
        t.tm_mon = m;
        t.tm_mday = 15;
        EXPECT_EQ(fmt(timegm(&t)).substr(8, 3), months[m]);
    }
}

TEST(http_date, the_local_time_zone_does_not_matter) {
    const char* old = getenv("TZ");
    std::string saved = old != nullptr ? old : "";
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    EXPECT_EQ(fmt(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    if (old != nullptr) {
        setenv("TZ", saved.c_str(), 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

TEST(http_date, now_is_the_current_second) {
    time_t before = time(nullptr);
    std::string now(http_date_now());
    time_t after = time(nullptr);
    ASSERT_EQ(now.size(), 29u);
    EXPECT_TRUE(now == fmt(before) || now == fmt(after)) << now;
    EXPECT_EQ(now.substr(25), " GMT");
}

}  // namespace
}  // namespace subhttpd::reactor::http

#include "reactor/http/clock.h"

#include <cstring>

namespace subhttpd::reactor::http {
namespace {

constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void two(char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

void format_http_date(time_t t, char out[30]) {
    tm g{};
    gmtime_r(&t, &g);
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    std::memcpy(out, days[g.tm_wday], 3);
    out[3] = ',';
    out[4] = ' ';
    two(out + 5, g.tm_mday);
    out[7] = ' ';
    std::memcpy(out + 8, months[g.tm_mon], 3);
    out[11] = ' ';
    int year = g.tm_year + 1900;
    two(out + 12, year / 100 % 100);
    two(out + 14, year % 100);
    out[16] = ' ';
    two(out + 17, g.tm_hour);
    out[19] = ':';
    two(out + 20, g.tm_min);
    out[22] = ':';
    two(out + 23, g.tm_sec);
    std::memcpy(out + 25, " GMT", 4);
    out[29] = '\0';
}

std::string_view http_date_now() {
    thread_local time_t cached = 0;
    thread_local char text[30];
    time_t now = time(nullptr);
    if (now != cached) {
        cached = now;
        format_http_date(now, text);
    }
    return {text, 29};
}

}  // namespace subhttpd::reactor::http

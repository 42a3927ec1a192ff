#pragma once
// Clocks for the HTTP layer: a monotonic reading in seconds, and the Date
// header's text, formatted at most once a second. Loop thread only (the Date
// cache is thread-local, so another thread gets its own).
#include <ctime>
#include <string_view>

namespace subhttpd::reactor::http {

inline double mono_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" for the current second.
std::string_view http_date_now();

// The same format for any time.
void format_http_date(time_t t, char out[30]);

}  // namespace subhttpd::reactor::http

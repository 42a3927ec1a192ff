#pragma once
// The Date header's text, formatted at most once a second. Loop thread only (the Date
// cache is thread-local, so another thread gets its own).
#include <ctime>
#include <string_view>

#include "common/clock.h"  // mono_now

namespace subhttpd::reactor::http {

// "Sun, 06 Nov 1994 08:49:37 GMT" for the current second.
std::string_view http_date_now();

// The same format for any time.
void format_http_date(time_t t, char out[30]);

}  // namespace subhttpd::reactor::http

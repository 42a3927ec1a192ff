#pragma once
// One access-log line from the facts of one answered request, in the configured
// format: Apache "common" or "combined", each followed by the interpreter and
// the duration in µs, or one JSON object per line. Times are always written in
// UTC (+0000 / Z) from the clock value alone: no TZ, no locale, so a handler
// that calls tzset() or setlocale() cannot shift or translate them. Pure; any thread.
#include <chrono>
#include <cstdint>
#include <string>

#include "conf/config.h"

namespace subhttpd::reactor {

using access_format = conf::access_log_format;

struct access_fields {
    std::string remote_ip;
    std::string user;         // "" when not authenticated
    std::chrono::system_clock::time_point time;
    std::string method;
    std::string target;       // as the client sent it
    std::string protocol;     // "HTTP/1.1"
    int status = 0;
    std::uint64_t bytes = 0;  // body bytes sent
    std::string referer;      // "" when absent
    std::string user_agent;   // "" when absent
    std::string interpreter;  // "" when no Python ran
    std::int64_t micros = 0;  // from the request's arrival to the access line
    std::string site;         // server_name, "" when none was chosen
};

// The line without its "\n".
std::string format_access_line(const access_fields& f, access_format fmt);

// "01/Dec/2026:20:35:22 +0000" (Apache's %t without brackets), always UTC.
std::string apache_time(std::chrono::system_clock::time_point t);
// "2026-12-01T20:35:22.123Z", always UTC.
std::string iso_time(std::chrono::system_clock::time_point t);

}  // namespace subhttpd::reactor

#pragma once
// The one logger: error log lines "[time] [level] [subsystem] [interp] message"
// (time in UTC, "2026-12-01T20:35:22.123Z", whatever TZ a handler sets)
// and access log lines. The level is checked before anything is formatted.
// Any thread may log: each line is written with one write(2) under a mutex.
// The reactor owns the files (open/reopen on SIGUSR1); everyone else only logs.
#include <cstdarg>
#include <cstdint>
#include <string>
#include <string_view>

namespace subhttpd::log {

enum class level { debug, info, notice, warn, error, crit };

// Opens (or reopens) the error and access logs: a path, "-" (stderr) or "off".
// Returns "" on success, else a message naming the file and the reason.
std::string open(const std::string& error_log, const std::string& access_log);
std::string reopen();
void set_level(level lv);
// The error log's descriptor (-1: off), for a crash handler's write(2).
int error_fd();
// Log writes that failed since start (each also said on stderr, once per interval).
std::uint64_t write_failures();
bool enabled(level lv);

void write(level lv, std::string_view subsystem, std::string_view interp, std::string_view message);
void writef(level lv, std::string_view subsystem, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
void access(std::string_view line);  // one already formatted line, without "\n"
bool access_enabled();
bool access_is_tty();

}  // namespace subhttpd::log

#define SUBHTTPD_LOG(lv, subsystem, ...)                                      \
    do {                                                                      \
        if (::subhttpd::log::enabled(lv)) {                                   \
            ::subhttpd::log::writef(lv, subsystem, __VA_ARGS__);              \
        }                                                                     \
    } while (0)

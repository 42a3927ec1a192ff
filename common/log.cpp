#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <sys/time.h>

namespace subhttpd::log {
namespace {

struct sink {
    std::string path;  // "-" stderr, "off", or a file
    int fd = 2;
};

std::mutex mu_;
sink error_{"-", 2};
sink access_{"-", 2};
std::atomic<int> level_{static_cast<int>(level::info)};
std::atomic<int> error_fd_{2};                 // read by the crash handler
std::atomic<std::uint64_t> write_failures_{0};
std::uint64_t failures_reported_ = 0;           // under mu_
time_t last_failure_report_ = 0;                // under mu_
constexpr time_t failure_report_interval = 10;  // seconds

std::string open_sink(sink& s, const std::string& path) {
    int fd = -1;
    if (path == "-") {
        fd = 2;
    } else if (path != "off") {
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            return path + ": cannot open log file: " + std::strerror(errno);
        }
    }
    if (s.fd > 2) {
        ::close(s.fd);
    }
    s.path = path;
    s.fd = fd;
    if (&s == &error_) {
        error_fd_.store(fd);
    }
    return "";
}

// A failed write (full disk, EFBIG, a broken pipe) is counted and said on
// stderr at most once per interval; logging never blocks serving.
void write_failed(int fd, int err) {
    std::uint64_t total = ++write_failures_;
    time_t now = time(nullptr);
    if (fd == 2 || now - last_failure_report_ < failure_report_interval) {
        return;
    }
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, "subhttpd: %llu log write(s) failed (%llu since the last report): %s\n",
                          static_cast<unsigned long long>(total),
                          static_cast<unsigned long long>(total - failures_reported_), std::strerror(err));
    last_failure_report_ = now;
    failures_reported_ = total;
    if (n > 0) {
        ssize_t ignored = ::write(2, buf, static_cast<std::size_t>(n));
        (void)ignored;
    }
}

void write_all(int fd, const std::string& line) {
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            write_failed(fd, errno);
            return;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

const char* level_name(level lv) {
    switch (lv) {
        case level::debug: return "debug";
        case level::info: return "info";
        case level::notice: return "notice";
        case level::warn: return "warn";
        case level::error: return "error";
        case level::crit: return "crit";
    }
    return "?";
}

// UTC with an explicit "Z": a handler that changes TZ and calls tzset() (Django
// does, for its TIME_ZONE) cannot shift the log's times. gmtime_r reads no TZ.
std::string timestamp() {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm t{};
    gmtime_r(&tv.tv_sec, &t);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900, t.tm_mon + 1,
                  t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(tv.tv_usec / 1000));
    return buf;
}

}  // namespace

std::string open(const std::string& error_log, const std::string& access_log) {
    std::lock_guard<std::mutex> g(mu_);
    std::string err = open_sink(error_, error_log);
    if (!err.empty()) {
        return err;
    }
    return open_sink(access_, access_log);
}

std::string reopen() {
    std::string a, b, err;
    {
        std::lock_guard<std::mutex> g(mu_);
        a = error_.path;
        b = access_.path;
        err = open_sink(error_, a);
        if (err.empty()) {
            err = open_sink(access_, b);
        }
    }
    if (err.empty()) {
        write(level::notice, "log", "", "reopened the log files (error_log " + a + ", access_log " + b + ")");
    }
    return err;
}

int error_fd() { return error_fd_.load(std::memory_order_relaxed); }
std::uint64_t write_failures() { return write_failures_.load(std::memory_order_relaxed); }

void set_level(level lv) { level_.store(static_cast<int>(lv)); }
bool enabled(level lv) { return static_cast<int>(lv) >= level_.load(std::memory_order_relaxed); }

void write(level lv, std::string_view subsystem, std::string_view interp, std::string_view message) {
    if (!enabled(lv)) {
        return;
    }
    std::string line;
    line.reserve(message.size() + 64);
    line += '[';
    line += timestamp();
    line += "] [";
    line += level_name(lv);
    line += "] [";
    line += subsystem;
    line += ']';
    if (!interp.empty()) {
        line += " [interp ";
        line += interp;
        line += ']';
    }
    line += ' ';
    line += message;
    while (!line.empty() && line.back() == '\n') {
        line.pop_back();
    }
    line += '\n';
    std::lock_guard<std::mutex> g(mu_);
    if (error_.fd >= 0) {
        write_all(error_.fd, line);
    }
}

void writef(level lv, std::string_view subsystem, const char* fmt, ...) {
    if (!enabled(lv)) {
        return;
    }
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    write(lv, subsystem, "", buf);
}

void access(std::string_view text) {
    std::string line(text);
    line += '\n';
    std::lock_guard<std::mutex> g(mu_);
    if (access_.fd >= 0) {
        write_all(access_.fd, line);
    }
}

bool access_enabled() {
    std::lock_guard<std::mutex> g(mu_);
    return access_.fd >= 0;
}

bool access_is_tty() {
    std::lock_guard<std::mutex> g(mu_);
    return access_.fd >= 0 && isatty(access_.fd);
}

}  // namespace subhttpd::log

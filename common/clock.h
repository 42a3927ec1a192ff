#pragma once
// The process's one monotonic clock (CLOCK_MONOTONIC): deadlines, back-offs,
// durations. Never wall time: a clock step must not fire or delay a timer.
// Any thread.
#include <cstdint>
#include <ctime>

namespace subhttpd {

inline double mono_now() {  // seconds
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

inline std::uint64_t mono_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace subhttpd

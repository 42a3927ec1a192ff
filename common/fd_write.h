#pragma once
// Writing a whole C string to a descriptor with write(2) alone: async-signal-safe,
// for crash reports written from a fatal-signal handler (reactor/faults and
// interp/crash_trace). Gives up silently on an error: there is nowhere to report it.
#include <unistd.h>

#include <cstring>

namespace subhttpd {

inline void write_all(int fd, const char* s) {
    std::size_t n = std::strlen(s);
    while (n > 0) {
        ssize_t w = ::write(fd, s, n);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= static_cast<std::size_t>(w);
    }
}

}  // namespace subhttpd

#pragma once
// faults: what a worker process shares with its supervisor, and what it says
// when it dies. A `worker_slot` lives in shared memory mapped by the supervisor
// before fork: the worker's loop stamps `beat_ms` from a timer (a loop that stops
// stamping is stalled), asks to be recycled, and keeps the "current request"
// record (interpreter, handler, request line) of what runs on its loop thread.
// The crash handler (SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL) writes the signal,
// that record, the C stack and the Python stack of the crashing thread to the
// error log with write(2), then dies of the same signal.
// Record setters: loop thread. Slot fields: atomics, any process.
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace subhttpd::reactor::faults {

struct worker_slot {
    std::atomic<std::int64_t> pid{0};
    std::atomic<std::uint64_t> beat_ms{0};    // CLOCK_MONOTONIC ms of the loop's last tick; 0: not serving yet
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> rss_bytes{0};
    std::atomic<std::uint32_t> recycle{0};    // 1: the worker asks to be replaced
    std::atomic<std::uint32_t> busy{0};       // 1 while a request runs on the loop thread
    std::atomic<std::uint32_t> reloads{0};    // reload attempts finished (SIGHUP, file change)
    char interp[64] = {};
    char handler[160] = {};
    char request[256] = {};
};

// Supervisor, before any fork: `n` zeroed slots in shared anonymous memory.
worker_slot* map_slots(std::size_t n);
void reset(worker_slot& s);

// Worker: the slot this process reports in (nullptr: a private one).
void attach(worker_slot* slot);
worker_slot& self();

// The request now running on the loop thread: its interpreter, handler and
// request line, each given as pieces joined in place (no allocation).
void set_current(std::string_view interp, std::initializer_list<std::string_view> handler,
                 std::initializer_list<std::string_view> request_line);
void clear_current();

// Installs the crash handler on an alternate stack; `dump_python` (may be null)
// writes the crashing thread's Python stack to a descriptor.
void install_crash_handler(void (*dump_python)(int fd));

// True when at least `n` more descriptors can be opened now (creating an
// interpreter opens many; without them CPython can abort the process).
bool descriptors_available(int n);

std::uint64_t current_rss();  // bytes, 0 when unknown
const char* signal_name(int sig);

}  // namespace subhttpd::reactor::faults

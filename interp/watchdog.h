#pragma once
// watchdog: interrupts an inline handler that holds the loop past its
// handler_timeout, by raising subhttpd.HandlerTimeout inside it (as mod_wsgi's
// request timeout does). One watchdog thread; the loop arms it around each
// handler call. C code that never returns to the interpreter (a blocking call
// that ignores signals, a loop in C holding the GIL) is interrupted only when it
// returns. arm/disarm: loop thread with the GIL held.
#include <Python.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "interp/registry.h"

namespace subhttpd::interp {

class watchdog {
public:
    watchdog();
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    // Watches the handler about to run on this thread in `in` for `ms` (0 = never).
    void arm(interpreter& in, std::uint64_t ms);
    // Ends the watch; true if it fired (a HandlerTimeout was raised or is pending,
    // and has now been cleared if it was not delivered).
    bool disarm();

private:
    void main();

    std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
    bool stop_ = false;
    std::uint64_t generation_ = 0;  // one per arm()
    bool armed_ = false;
    bool fired_ = false;
    double deadline_ = 0;
    interpreter* in_ = nullptr;
    unsigned long target_ = 0;  // the loop thread's Python thread id
    thread_states states_;      // the watchdog's own thread states
};

}  // namespace subhttpd::interp

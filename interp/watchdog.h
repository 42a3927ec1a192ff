#pragma once
// watchdog: interrupts an inline handler that holds the loop past its
// handler_timeout, by raising subhttpd.HandlerTimeout inside it (as mod_wsgi's
// request timeout does). One watchdog thread polls every 20 ms; arming is a few
// atomic stores, so the hot path pays no lock and no wake-up. C code that does
// not return to the interpreter (a blocking call, a loop in C holding the GIL) is
// interrupted only when it returns. arm/disarm: loop thread with the GIL held.
#include <Python.h>

#include <atomic>
#include <cstdint>
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
    // Ends the watch; true if it fired (a pending, undelivered interrupt is cleared).
    bool disarm();

private:
    void main();

    std::atomic<bool> stop_{false};
    // The watch: `armed_` holds the generation being watched (0 = none).
    std::atomic<std::uint64_t> armed_{0};
    std::atomic<std::uint64_t> fired_{0};
    std::atomic<double> deadline_{0};
    std::atomic<interpreter*> in_{nullptr};
    std::uint64_t generation_ = 0;  // loop thread only
    unsigned long target_ = 0;      // the loop thread's Python thread id
    thread_states states_;          // the watchdog's own thread states
    // Last: the thread runs main() as soon as it is constructed, so every member
    // above must be initialised by then (UBSan caught main() reading stop_ first).
    std::thread thread_;
};

}  // namespace subhttpd::interp

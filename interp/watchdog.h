#pragma once
// watchdog: interrupts an inline handler that holds the loop past its
// handler_timeout, by raising subhttpd.HandlerTimeout inside it (as mod_wsgi's
// request timeout does). One watchdog thread polls every 20 ms; arming is a few
// atomic stores, so the hot path pays no lock and no wake-up. C code that does
// not return to the interpreter (a blocking call, a loop in C holding the GIL) is
// interrupted only when it returns. arm/disarm: loop thread with the GIL held.
//
// The same thread sends deferred output: an inline handler's req.write(flush=1)
// may wait for the handler to return (one write, with a Content-Length), but
// when the handler is still running at the next poll the watchdog takes the GIL
// and sends it (deferred_output::send_deferred) while the handler waits.
#include <Python.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "interp/registry.h"

namespace subhttpd::interp {

// What holds output an inline handler flushed but the loop has not sent yet.
class deferred_output {
public:
    // Called with the GIL held in the handler's interpreter, on the watchdog
    // thread while the loop thread waits inside the handler (GIL released).
    virtual void send_deferred() = 0;

protected:
    ~deferred_output() = default;
};

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

    // Deferred output of the handler about to run on the loop in `in`: while
    // watched, a flush the handler asked for (flush_wanted) is sent by this
    // thread at its next poll. unwatch: the call returned (GIL held).
    void watch_output(interpreter& in, deferred_output& out);
    void unwatch_output() {
        out_armed_.store(0, std::memory_order_release);
        out_wanted_.store(false, std::memory_order_relaxed);
    }
    void flush_wanted() { out_wanted_.store(true, std::memory_order_release); }

private:
    void send_output();

    void main();

    std::atomic<bool> stop_{false};
    // The watch: `armed_` holds the generation being watched (0 = none).
    std::atomic<std::uint64_t> armed_{0};
    std::atomic<std::uint64_t> fired_{0};
    std::atomic<double> deadline_{0};
    std::atomic<interpreter*> in_{nullptr};
    std::uint64_t generation_ = 0;  // loop thread only
    unsigned long target_ = 0;      // the loop thread's Python thread id
    // The output watch: `out_armed_` holds its generation (0 = none).
    std::atomic<std::uint64_t> out_armed_{0};
    std::atomic<bool> out_wanted_{false};
    std::atomic<interpreter*> out_in_{nullptr};
    std::atomic<deferred_output*> out_{nullptr};
    std::uint64_t out_generation_ = 0;  // loop thread only
    thread_states states_;          // the watchdog's own thread states
    // Last: the thread runs main() as soon as it is constructed, so every member
    // above must be initialised by then (UBSan caught main() reading stop_ first).
    std::thread thread_;
};

}  // namespace subhttpd::interp

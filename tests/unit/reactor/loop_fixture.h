#pragma once
// A libevent loop for reactor tests: made with threads enabled (as the server
// does), and a bounded "run until" that never relies on how long anything takes
// beyond a generous safety cap.
#include <event2/event.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <functional>

namespace subhttpd::reactor::testing {

class loop_test : public ::testing::Test {
protected:
    void SetUp() override {
        static const bool threads_on = evthread_use_pthreads() == 0;
        ASSERT_TRUE(threads_on);
        base_ = event_base_new();
        ASSERT_NE(base_, nullptr);
        // A 10 ms tick wakes the loop so a predicate set from another thread is seen.
        tick_ = event_new(base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
        timeval tv{0, 10000};
        event_add(tick_, &tv);
    }
    void TearDown() override {
        event_free(tick_);
        event_base_free(base_);
    }

    // Runs the loop until `done()` holds; false after ~20 s of ticks (a hang, not a slow machine).
    bool run_until(const std::function<bool()>& done) {
        for (int i = 0; i < 2000 && !done(); ++i) {
            event_base_loop(base_, EVLOOP_ONCE);
        }
        return done();
    }

    event_base* base_ = nullptr;
    event* tick_ = nullptr;
};

}  // namespace subhttpd::reactor::testing

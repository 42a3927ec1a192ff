// loop_executor: jobs run on pool threads within the queue bound, results and
// timers come back on the loop thread, in order; cancel and drain.
#include "reactor/pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "loop_fixture.h"

namespace subhttpd::reactor {
namespace {

// A one-shot gate a pool job can wait on (bounded: it opens by itself after 20 s).
class gate {
public:
    void open() {
        std::lock_guard<std::mutex> g(mu_);
        open_ = true;
        cv_.notify_all();
    }
    bool wait() {
        std::unique_lock<std::mutex> g(mu_);
        return cv_.wait_for(g, std::chrono::seconds(20), [this] { return open_; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool open_ = false;
};

using pool_test = testing::loop_test;

TEST_F(pool_test, a_job_runs_on_a_pool_thread_and_posts_back_to_the_loop) {
    loop_executor ex(base_, 2, 16);
    EXPECT_FALSE(ex.on_pool_thread());
    const std::thread::id loop_id = std::this_thread::get_id();
    std::atomic<bool> job_on_pool{false};
    std::atomic<bool> job_other_thread{false};
    bool back_on_loop = false;
    bool done = false;
    ASSERT_TRUE(ex.submit([&] {
        job_on_pool = ex.on_pool_thread();
        job_other_thread = std::this_thread::get_id() != loop_id;
        ex.post([&] {
            back_on_loop = std::this_thread::get_id() == loop_id && !ex.on_pool_thread();
            done = true;
        });
    }));
    ASSERT_TRUE(run_until([&] { return done; }));
    EXPECT_TRUE(job_on_pool);
    EXPECT_TRUE(job_other_thread);
    EXPECT_TRUE(back_on_loop);
}

TEST_F(pool_test, the_queue_is_bounded_and_busy_threads_are_counted) {
    loop_executor ex(base_, 1, 2);
    gate started, release;
    ASSERT_TRUE(ex.submit([&] {
        started.open();
        release.wait();
    }));
    ASSERT_TRUE(started.wait());
    EXPECT_EQ(ex.busy(), 1u);
    EXPECT_TRUE(ex.submit([] {}));
    EXPECT_TRUE(ex.submit([] {}));
    EXPECT_EQ(ex.queued(), 2u);
    EXPECT_FALSE(ex.submit([] {}));  // full: nothing runs
    EXPECT_FALSE(ex.drain(0));
    release.open();
    EXPECT_TRUE(ex.drain(20000));
    EXPECT_EQ(ex.queued(), 0u);
    EXPECT_EQ(ex.busy(), 0u);
    EXPECT_TRUE(ex.submit([] {}));  // room again
    EXPECT_TRUE(ex.drain(20000));
}

TEST_F(pool_test, no_threads_means_no_jobs) {
    loop_executor ex(base_, 0, 16);
    bool ran = false;
    EXPECT_FALSE(ex.submit([&] { ran = true; }));
    EXPECT_TRUE(ex.drain(0));
    EXPECT_FALSE(ran);
}

TEST_F(pool_test, a_throwing_job_does_not_stop_its_thread) {
    loop_executor ex(base_, 1, 16);
    std::atomic<int> ran{0};
    ASSERT_TRUE(ex.submit([] { throw std::runtime_error("boom"); }));
    ASSERT_TRUE(ex.submit([] { throw 42; }));
    ASSERT_TRUE(ex.submit([&] { ++ran; }));
    EXPECT_TRUE(ex.drain(20000));
    EXPECT_EQ(ran.load(), 1);
}

TEST_F(pool_test, posts_from_many_threads_all_run_in_each_threads_order) {
    loop_executor ex(base_, 4, 64);
    constexpr int per_thread = 50;
    std::vector<std::vector<int>> seen(4);
    int total = 0;
    for (int t = 0; t < 4; ++t) {
        ASSERT_TRUE(ex.submit([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                ex.post([&, t, i] {
                    seen[t].push_back(i);
                    ++total;
                });
            }
        }));
    }
    ASSERT_TRUE(run_until([&] { return total == 4 * per_thread; }));
    for (const auto& s : seen) {
        ASSERT_EQ(s.size(), static_cast<std::size_t>(per_thread));
        for (int i = 0; i < per_thread; ++i) {
            EXPECT_EQ(s[i], i);
        }
    }
}

TEST_F(pool_test, a_throwing_completion_does_not_stop_the_others) {
    loop_executor ex(base_, 1, 16);
    bool after = false;
    ex.post([] { throw std::runtime_error("completion"); });
    ex.post([&] { after = true; });
    ASSERT_TRUE(run_until([&] { return after; }));
}

TEST_F(pool_test, timers_fire_on_the_loop_in_deadline_order) {
    loop_executor ex(base_, 1, 16);
    std::vector<int> order;
    ex.schedule(30, [&] { order.push_back(30); });
    ex.schedule(10, [&] { order.push_back(10); });
    ex.schedule(20, [&] { order.push_back(20); });
    ASSERT_TRUE(run_until([&] { return order.size() == 3; }));
    EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
}

TEST_F(pool_test, a_cancelled_timer_never_fires) {
    loop_executor ex(base_, 1, 16);
    bool early = false, late = false;
    std::uint64_t a = ex.schedule(1, [&] { early = true; });
    std::uint64_t b = ex.schedule(40, [&] { late = true; });
    EXPECT_NE(a, b);
    ex.cancel(a);
    ex.cancel(a);       // twice: harmless
    ex.cancel(999999);  // unknown: harmless
    ASSERT_TRUE(run_until([&] { return late; }));
    EXPECT_FALSE(early);  // it was due before the other one
    ex.cancel(b);         // already fired: harmless
    ex.fire_timer(b);
}

TEST_F(pool_test, a_timer_left_pending_is_freed_with_the_executor) {
    bool fired = false;
    {
        loop_executor ex(base_, 1, 16);
        ex.schedule(60000, [&] { fired = true; });
    }
    event_base_loop(base_, EVLOOP_NONBLOCK);
    EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace subhttpd::reactor

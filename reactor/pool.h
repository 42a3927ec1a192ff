#pragma once
// worker_pool + loop_bridge: the reactor's executor. `threads` pool threads take
// jobs from a bounded queue; results come back to the loop through a mutex-guarded
// queue and one libevent event made active from any thread (evthread is on).
// Timers are libevent timers on the loop. Construct and destroy on the loop thread.
#include <event2/event.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "interp/executor.h"

namespace subhttpd::reactor {

class loop_executor final : public interp::executor {
public:
    loop_executor(event_base* base, unsigned threads, std::size_t queue_limit);
    ~loop_executor() override;
    loop_executor(const loop_executor&) = delete;
    loop_executor& operator=(const loop_executor&) = delete;

    bool submit(std::function<void()> work) override;
    void post(std::function<void()> fn) override;
    std::uint64_t schedule(std::uint64_t ms, std::function<void()> fn) override;
    void cancel(std::uint64_t id) override;
    bool on_pool_thread() const override;

    // Stops taking jobs, waits for running ones up to `ms`; false if some are still running.
    bool drain(std::uint64_t ms);
    std::size_t queued() const;
    std::size_t busy() const;

    void run_posted();  // loop thread: runs what post() queued
    void fire_timer(std::uint64_t id);

private:
    // The job queue, co-owned by every pool thread: a thread still inside a
    // handler when the executor is destroyed is detached and must not touch
    // freed memory when its job ends.
    struct queue {
        mutable std::mutex mu;
        std::condition_variable cv;
        std::condition_variable idle_cv;
        std::deque<std::function<void()>> jobs;
        std::size_t running = 0;
        std::size_t threads = 0;
        bool stopping = false;
    };
    static void worker_main(const std::shared_ptr<queue>& q);

    event_base* base_;
    event* wake_ = nullptr;
    std::vector<std::thread> threads_;
    std::size_t queue_limit_;
    std::shared_ptr<queue> q_ = std::make_shared<queue>();

    std::mutex post_mu_;
    std::vector<std::function<void()>> posted_;

    struct timer {
        event* ev;
        std::function<void()> fn;
    };
    std::map<std::uint64_t, timer> timers_;
    std::uint64_t next_timer_ = 1;
};

}  // namespace subhttpd::reactor

#include "reactor/pool.h"

#include <chrono>

#include "common/log.h"

namespace subhttpd::reactor {
namespace {

thread_local bool on_pool_ = false;

void on_wake(evutil_socket_t, short, void* arg) noexcept {
    static_cast<loop_executor*>(arg)->run_posted();
}

struct timer_arg {
    loop_executor* self;
    std::uint64_t id;
};

void on_timer(evutil_socket_t, short, void* arg) noexcept {
    auto* t = static_cast<timer_arg*>(arg);
    loop_executor* self = t->self;
    std::uint64_t id = t->id;
    delete t;
    self->fire_timer(id);
}

}  // namespace

loop_executor::loop_executor(event_base* base, unsigned threads, std::size_t queue_limit)
    : base_(base), queue_limit_(queue_limit) {
    wake_ = event_new(base_, -1, EV_PERSIST, on_wake, this);
    event_add(wake_, nullptr);
    q_->threads = threads;
    for (unsigned i = 0; i < threads; ++i) {
        threads_.emplace_back([q = q_] { worker_main(q); });
    }
}

loop_executor::~loop_executor() {
    bool all_idle = false;
    {
        std::unique_lock<std::mutex> g(q_->mu);
        q_->stopping = true;
        q_->jobs.clear();
        q_->cv.notify_all();
        // Idle threads leave at once; one inside a handler may never return.
        all_idle = q_->idle_cv.wait_for(g, std::chrono::milliseconds(200), [this] { return q_->threads == 0; });
    }
    for (auto& t : threads_) {
        if (all_idle) {
            t.join();
        } else {
            t.detach();  // it holds its own reference to the queue
        }
    }
    for (auto& [id, t] : timers_) {
        // The callback arg is freed by on_timer only when it fires (as in cancel).
        auto* arg = static_cast<timer_arg*>(event_get_callback_arg(t.ev));
        event_free(t.ev);
        delete arg;
    }
    if (wake_ != nullptr) {
        event_free(wake_);
    }
}

bool loop_executor::submit(std::function<void()> work) {
    {
        std::lock_guard<std::mutex> g(q_->mu);
        if (q_->stopping || threads_.empty() || q_->jobs.size() >= queue_limit_) {
            return false;
        }
        q_->jobs.push_back(std::move(work));
    }
    q_->cv.notify_one();
    return true;
}

void loop_executor::worker_main(const std::shared_ptr<queue>& q) {
    on_pool_ = true;
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> g(q->mu);
            q->cv.wait(g, [&q] { return q->stopping || !q->jobs.empty(); });
            if (q->jobs.empty()) {
                --q->threads;
                q->idle_cv.notify_all();
                return;
            }
            job = std::move(q->jobs.front());
            q->jobs.pop_front();
            ++q->running;
        }
        try {
            job();
        } catch (const std::exception& e) {
            log::write(log::level::error, "pool", "", std::string("job failed: ") + e.what());
        } catch (...) {
            log::write(log::level::error, "pool", "", "job failed");
        }
        {
            std::lock_guard<std::mutex> g(q->mu);
            --q->running;
        }
        q->idle_cv.notify_all();
    }
}

void loop_executor::post(std::function<void()> fn) {
    {
        std::lock_guard<std::mutex> g(post_mu_);
        posted_.push_back(std::move(fn));
    }
    event_active(wake_, EV_READ, 0);
}

void loop_executor::run_posted() {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard<std::mutex> g(post_mu_);
        batch.swap(posted_);
    }
    for (auto& fn : batch) {
        try {
            fn();
        } catch (const std::exception& e) {
            log::write(log::level::error, "pool", "", std::string("completion failed: ") + e.what());
        } catch (...) {
            log::write(log::level::error, "pool", "", "completion failed");
        }
    }
}

std::uint64_t loop_executor::schedule(std::uint64_t ms, std::function<void()> fn) {
    std::uint64_t id = next_timer_++;
    auto* arg = new timer_arg{this, id};
    event* ev = evtimer_new(base_, on_timer, arg);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    evtimer_add(ev, &tv);
    timers_.emplace(id, timer{ev, std::move(fn)});
    return id;
}

void loop_executor::cancel(std::uint64_t id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) {
        return;
    }
    // The callback arg is freed by on_timer only when it fires; free it here.
    auto* arg = static_cast<timer_arg*>(event_get_callback_arg(it->second.ev));
    event_free(it->second.ev);
    delete arg;
    timers_.erase(it);
}

void loop_executor::fire_timer(std::uint64_t id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) {
        return;
    }
    std::function<void()> fn = std::move(it->second.fn);
    event_free(it->second.ev);
    timers_.erase(it);
    try {
        fn();
    } catch (...) {
        log::write(log::level::error, "pool", "", "timer callback failed");
    }
}

bool loop_executor::on_pool_thread() const { return on_pool_; }

bool loop_executor::drain(std::uint64_t ms) {
    std::unique_lock<std::mutex> g(q_->mu);
    return q_->idle_cv.wait_for(g, std::chrono::milliseconds(ms),
                                [this] { return q_->jobs.empty() && q_->running == 0; });
}

std::size_t loop_executor::queued() const {
    std::lock_guard<std::mutex> g(q_->mu);
    return q_->jobs.size();
}

std::size_t loop_executor::busy() const {
    std::lock_guard<std::mutex> g(q_->mu);
    return q_->running;
}

}  // namespace subhttpd::reactor

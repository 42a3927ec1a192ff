#pragma once
// executor: what interp/ needs from the reactor to leave the loop thread and
// come back: a bounded worker pool, a thread-safe "run this on the loop", and
// loop timers. Implemented by the reactor over libevent; interp/ never sees
// libevent. submit/schedule/cancel are loop-thread only; post is any thread.
#include <cstdint>
#include <functional>

namespace subhttpd::interp {

class executor {
public:
    virtual ~executor() = default;
    // Runs `work` on a pool thread. False (and nothing runs) when the queue is full.
    virtual bool submit(std::function<void()> work) = 0;
    // Runs `fn` on the loop thread soon. Any thread.
    virtual void post(std::function<void()> fn) = 0;
    // Runs `fn` on the loop thread after `ms` milliseconds; returns an id for cancel().
    virtual std::uint64_t schedule(std::uint64_t ms, std::function<void()> fn) = 0;
    virtual void cancel(std::uint64_t id) = 0;
    // True on a pool thread.
    virtual bool on_pool_thread() const = 0;
};

}  // namespace subhttpd::interp

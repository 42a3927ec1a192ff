#include "interp/offload_exchange.h"

#include "interp/body.h"

#include <chrono>

namespace subhttpd::interp {

offload_exchange::offload_exchange(exchange& real, executor& exec, std::shared_ptr<response_sink> sink)
    : method_(real.method()),
      target_(real.target()),
      protocol_(real.protocol()),
      host_(real.host()),
      headers_(real.request_headers()),
      peer_(real.peer()),
      exec_(exec),
      sink_(std::move(sink)) {
    body_ = read_whole_body(real);
}

void offload_exchange::post(std::function<void(exchange&)> fn) {
    std::shared_ptr<response_sink> sink = sink_;
    exec_.post([sink, fn = std::move(fn)] {
        if (!sink->abandoned.load() && sink->real != nullptr) {
            fn(*sink->real);
        }
    });
}

// Pool thread: blocks while the client is behind by more than high_water.
void offload_exchange::wait_for_room() {
    std::unique_lock<std::mutex> lk(sink_->m);
    while (sink_->backlog >= high_water && !sink_->abandoned.load()) {
        sink_->cv.wait_for(lk, std::chrono::milliseconds(100));
    }
}

// Posts one streamed step of `n` bytes; its bytes count in the backlog until
// the loop has handed them to the kernel (down to low water) or the client is gone.
void offload_exchange::post_streamed(std::size_t n, std::function<void(exchange&)> fn) {
    wait_for_room();
    {
        std::lock_guard<std::mutex> lk(sink_->m);
        sink_->backlog += n;
    }
    std::shared_ptr<response_sink> sink = sink_;
    auto ack = [sink, n] {
        std::lock_guard<std::mutex> lk(sink->m);
        sink->backlog -= n < sink->backlog ? n : sink->backlog;
        sink->cv.notify_all();
    };
    exec_.post([sink, fn = std::move(fn), ack] {
        if (sink->abandoned.load() || sink->real == nullptr) {
            ack();
            return;
        }
        exchange& ex = *sink->real;
        fn(ex);
        if (ex.unsent() <= low_water || ex.gone()) {
            ack();
        } else {
            ex.when_drained(ack);
        }
    });
}

void offload_exchange::write(const char* data, std::size_t n) {
    if (n == 0 || finished_) {
        return;
    }
    written_ += n;
    if (streaming_) {
        post_streamed(n, [chunk = std::string(data, n)](exchange& ex) { ex.write(chunk.data(), chunk.size()); });
        return;
    }
    if (pending_.empty() || pending_.back().is_file) {
        pending_.push_back(step{});
    }
    pending_.back().data.append(data, n);
}

void offload_exchange::discard_output() {
    if (!streaming_) {
        pending_.clear();
        written_ = 0;
    }
}

bool offload_exchange::send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return false;
    }
    std::fclose(f);
    written_ += length;
    step s{path, true, offset, length};
    if (streaming_) {
        post_streamed(static_cast<std::size_t>(length),
                      [s](exchange& ex) { ex.send_file(s.data, s.offset, s.length); });
    } else {
        pending_.push_back(std::move(s));
    }
    return true;
}

void offload_exchange::start_stream(int status, std::string_view reason, const header_list& headers) {
    if (streaming_ || finished_) {
        return;
    }
    streaming_ = true;
    status_ = status;
    post([status, reason = std::string(reason), headers, steps = std::move(pending_)](exchange& ex) {
        ex.start_stream(status, reason, headers);
        for (const step& s : steps) {
            if (s.is_file) {
                ex.send_file(s.data, s.offset, s.length);
            } else {
                ex.write(s.data.data(), s.data.size());
            }
        }
    });
    pending_.clear();
}

void offload_exchange::finish(int status, std::string_view reason, const header_list& headers) {
    if (finished_) {
        return;
    }
    finished_ = true;
    if (!streaming_) {
        status_ = status;
    }
    post([status, reason = std::string(reason), headers, steps = std::move(pending_)](exchange& ex) {
        for (const step& s : steps) {
            if (s.is_file) {
                ex.send_file(s.data, s.offset, s.length);
            } else {
                ex.write(s.data.data(), s.data.size());
            }
        }
        ex.finish(status, reason, headers);
    });
    pending_.clear();
}

void offload_exchange::abort() {
    if (finished_) {
        return;
    }
    finished_ = true;
    pending_.clear();
    post([](exchange& real) { real.abort(); });
}

}  // namespace subhttpd::interp

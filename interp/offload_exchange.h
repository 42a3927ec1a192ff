#pragma once
// offload_exchange: the exchange a pool thread uses. The request (line, headers,
// peer, body) is copied on the loop thread when the job is made; every response
// step (write, file, stream start, finish) becomes a closure posted to the loop,
// which replays it on the real exchange in order. Once `abandon()` is called (a
// timeout answered for it, or the client went away) later steps are dropped.
// Pool thread: every method but the constructor and abandon().
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <string>

#include "interp/exchange.h"
#include "interp/executor.h"

namespace subhttpd::interp {

// Shared by the pool side and the loop side of one offloaded request.
// Back-pressure: `backlog` counts streamed bytes posted to the loop that the
// client has not yet taken (down to the low-water mark); a pool writer waits
// while it is above exchange::high_water.
struct response_sink {
    exchange* real = nullptr;        // loop thread only
    std::atomic<bool> abandoned{false};
    std::mutex m;
    std::condition_variable cv;
    std::size_t backlog = 0;         // guarded by m
};

class offload_exchange final : public exchange_base {
public:
    offload_exchange(exchange& real, executor& exec, std::shared_ptr<response_sink> sink);

    std::string_view method() const override { return method_; }
    std::string_view target() const override { return target_; }
    std::string_view protocol() const override { return protocol_; }
    std::string_view host() const override { return host_; }
    const header_list& request_headers() const override { return headers_; }
    const peer_info& peer() const override { return peer_; }

    void write(const char* data, std::size_t n) override;
    void discard_output() override;
    void start_stream(int status, std::string_view reason, const header_list& headers) override;
    void finish(int status, std::string_view reason, const header_list& headers) override;
    bool send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) override;
    void when_drained(std::function<void()> fn) override { fn(); }
    void abort() override;

private:
    struct step {
        std::string data;        // bytes to write, or a file path when is_file
        bool is_file = false;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
    };
    void post(std::function<void(exchange&)> fn);
    void wait_for_room();
    void post_streamed(std::size_t n, std::function<void(exchange&)> fn);

    std::string method_, target_, protocol_, host_;
    header_list headers_;
    peer_info peer_;

    executor& exec_;
    std::shared_ptr<response_sink> sink_;
    std::vector<step> pending_;  // buffered body, replayed at finish/stream start
};

}  // namespace subhttpd::interp

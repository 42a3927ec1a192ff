#pragma once
// http_exchange: interp::exchange over one request of a connection. The request
// line and fields are views into the connection's buffer until the connection
// closes; then the exchange keeps copies, so a job still holding it (offload,
// a suspended coroutine, the access log) reads the same request. After the
// connection is gone every response step is dropped and gone() is true.
// Owned by whoever runs the request (the dispatcher); loop thread only.
#include <event2/event.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "interp/exchange.h"
#include "reactor/http/connection.h"
#include "reactor/http/response.h"

namespace subhttpd::reactor::http {

class http_exchange final : public interp::exchange_base {
public:
    http_exchange(connection& c, std::string body);
    ~http_exchange() override;
    http_exchange(const http_exchange&) = delete;
    http_exchange& operator=(const http_exchange&) = delete;

    std::string_view method() const override { return method_; }
    std::string_view target() const override { return target_; }
    std::string_view protocol() const override { return minor_ == 0 ? "HTTP/1.0" : "HTTP/1.1"; }
    std::string_view host() const override { return host_; }
    const interp::header_list& request_headers() const override;
    const interp::peer_info& peer() const override;

    void write(const char* data, std::size_t n) override;
    void discard_output() override;
    bool streaming() const override { return streaming_ || held_; }
    void start_stream(int status, std::string_view reason, const interp::header_list& headers) override;
    void hold_stream(int status, std::string_view reason, interp::header_list headers) override;
    void finish(int status, std::string_view reason, const interp::header_list& headers) override;
    bool send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) override;

    std::size_t unsent() const override;
    void flush() override;
    void when_drained(std::function<void()> fn) override;
    bool gone() const override { return conn_ == nullptr; }
    void abort() override;

    // X-Forwarded-For / X-Forwarded-Proto become the peer's address and scheme,
    // but only when the connection comes from one of `trusted` (IPs or CIDRs).
    void apply_forwarded(const std::vector<std::string>& trusted);
    bool asterisk() const { return asterisk_; }   // OPTIONS *
    std::string_view field(std::string_view name) const;  // first field of that name ("" if none)
    void set_started(double t) { started_ = t; }
    double started() const { return started_; }

    // The connection is closing: keep copies of the request, drop the link.
    void detach();

    // Hand-off (reactor/handoff.h): the connection and the body read so far.
    connection* link() const { return conn_; }
    std::string_view body_bytes() const { return body_; }
    // The connection went to another process, which answers this request.
    void handed_off() {
        conn_ = nullptr;
        finished_ = true;
    }

private:
    void count_refused(int n);
    void release_hold();  // a held stream starts: head and what was written leave
    // The head of the response: its status (also status_) and what the request
    // fixes; the framing is the caller's.
    head_spec head_for(int status, std::string_view reason, const interp::header_list& headers);
    // Writes `spec` into the connection's head text; true when the application
    // sent "Connection: close".
    bool render_head(const head_spec& spec);

    connection* conn_;
    event_base* base_;
    std::string_view method_, target_, host_;
    int minor_ = 1;
    bool asterisk_ = false;
    bool absolute_ = false;              // absolute-form: host_ is the target's authority
    bool head_request_ = false;
    std::string owned_;                  // the request's text after detach()
    mutable bool headers_loaded_ = false;
    mutable interp::header_list headers_;
    mutable bool peer_loaded_ = false;
    mutable interp::peer_info peer_;

    bool no_body_ = false;               // streamed answer without a body
    framing frame_ = framing::length;
    std::uint64_t stream_left_ = 0;      // framing::length: bytes still allowed
    double started_ = 0;
    // hold_stream(): the head fixed, the body kept in the buffered answer's place.
    bool held_ = false;
    std::string held_reason_;
    interp::header_list held_headers_;
};

}  // namespace subhttpd::reactor::http

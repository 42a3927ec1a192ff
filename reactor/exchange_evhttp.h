#pragma once
// evhttp_exchange: interp::exchange over one evhttp_request. Lives on the stack
// of the request callback (inline handlers) and is used by the loop thread only.
// Request headers and peer addresses are read from evhttp on first use.
#include <event2/buffer.h>
#include <event2/http.h>

#include <string>
#include <vector>

#include "interp/exchange.h"
#include "reactor/connections.h"

namespace subhttpd::reactor {

class evhttp_exchange final : public interp::exchange, public connection_closed_listener {
public:
    evhttp_exchange(evhttp_request* req, std::string_view scheme, connection_table& conns);
    ~evhttp_exchange() override;
    evhttp_exchange(const evhttp_exchange&) = delete;
    evhttp_exchange& operator=(const evhttp_exchange&) = delete;

    // The client closed the connection before the answer: evhttp frees the
    // request, so every later response step is dropped.
    void connection_closed() override;
    bool gone() const { return req_ == nullptr; }

    std::string_view method() const override { return method_; }
    std::string_view target() const override { return target_; }
    std::string_view protocol() const override { return protocol_; }
    std::string_view host() const override { return host_; }
    const interp::header_list& request_headers() const override;
    const interp::peer_info& peer() const override;

    std::size_t body_remaining() const override;
    std::size_t read_body(char* dst, std::size_t n) override;
    std::size_t read_body_line(std::string& out, std::size_t limit) override;

    void write(const char* data, std::size_t n) override;
    std::size_t bytes_written() const override { return written_; }
    void discard_output() override;
    bool streaming() const override { return streaming_; }
    void start_stream(int status, std::string_view reason, const interp::header_list& headers) override;
    void finish(int status, std::string_view reason, const interp::header_list& headers) override;
    bool finished() const override { return finished_; }
    bool send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) override;

    int status_sent() const override { return status_; }

    // X-Forwarded-For / X-Forwarded-Proto become the peer's address and scheme,
    // but only when the connection comes from one of `trusted` (IPs or IPv4 CIDRs).
    void apply_forwarded(const std::vector<std::string>& trusted);
    bool has_host_header() const { return has_host_; }
    std::size_t header_bytes() const;  // the request's header section, as sent
    void set_started(double t) { started_ = t; }
    double started() const { return started_; }  // monotonic time the request arrived

private:
    void set_headers(const interp::header_list& headers);

    void forget_connection();

    evhttp_request* req_;
    evhttp_connection* conn_ = nullptr;
    connection_table& conns_;
    std::string method_;
    std::string target_;
    std::string protocol_;
    std::string host_;
    bool has_host_ = false;
    mutable bool headers_loaded_ = false;
    mutable interp::header_list headers_;
    mutable bool peer_loaded_ = false;
    mutable interp::peer_info peer_;
    evbuffer* in_;
    evbuffer* out_;
    std::size_t written_ = 0;
    bool streaming_ = false;
    bool no_body_ = false;
    double started_ = 0;  // streaming a HEAD, 1xx, 204 or 304 answer
    bool finished_ = false;
    int status_ = 0;
};

}  // namespace subhttpd::reactor

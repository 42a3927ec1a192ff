#pragma once
// slow_clients: a deadline for reading each request, which evhttp (libevent
// 2.1) lacks: its read timeout restarts on every byte, so a client sending one
// header byte a second would hold its connection forever. Every connection's
// bufferevent is made here (evhttp_set_bevcb) with a callback on its input
// buffer; a request that has not arrived within read_timeout, plus one second
// per 500 bytes received (Apache's RequestReadTimeout MinRate), has its socket
// shut down, and evhttp then frees the connection itself. Loop thread only.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include <cstdint>
#include <unordered_map>

namespace subhttpd::reactor {

class slow_clients {
public:
    explicit slow_clients(evhttp* http);
    void set_timeout_ms(std::uint64_t ms) { timeout_ms_ = ms; }
    // A whole request arrived on this connection: its clock stops.
    void request_complete(evhttp_connection* c);
    std::uint64_t cut() const { return cut_; }

    bufferevent* make_bufferevent(event_base* base);
    void on_input(evbuffer* buf, const evbuffer_cb_info* info);

private:
    struct slot {
        bufferevent* bev = nullptr;
        double first = 0;  // monotonic time of the first byte of the request being read
        std::uint64_t bytes = 0;
    };
    std::unordered_map<evbuffer*, slot> slots_;
    std::uint64_t timeout_ms_ = 30000;
    std::uint64_t cut_ = 0;
};

}  // namespace subhttpd::reactor

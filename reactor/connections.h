#pragma once
// connection_table: the client connections that have sent a request, for the
// status page and for telling an exchange that its client went away. It owns
// each connection's close callback: evhttp frees a request whose connection
// closes, so an exchange still waiting on the pool or a coroutine must learn of
// it. Loop thread only.
#include <event2/http.h>

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "interp/exchange.h"

namespace subhttpd::reactor {

class connection_closed_listener {
public:
    virtual ~connection_closed_listener() = default;
    virtual void connection_closed() = 0;
};

class connection_table {
public:
    void attach(evhttp_connection* c, connection_closed_listener* l);
    void detach(evhttp_connection* c, connection_closed_listener* l);
    void closed(evhttp_connection* c);
    // The connection's addresses, read once per connection (nullptr if unknown).
    const interp::peer_info* peer(evhttp_connection* c) const;
    void set_peer(evhttp_connection* c, const interp::peer_info& p);
    std::size_t open() const { return open_.size(); }
    std::uint64_t total() const { return total_; }
    // Called with the open count whenever it changes.
    void on_change(std::function<void(std::size_t)> fn) { on_change_ = std::move(fn); }

private:
    std::function<void(std::size_t)> on_change_;
    struct slot {
        connection_closed_listener* listener = nullptr;
        bool peer_known = false;
        interp::peer_info peer;
    };
    std::unordered_map<evhttp_connection*, slot> open_;
    std::uint64_t total_ = 0;
};

}  // namespace subhttpd::reactor

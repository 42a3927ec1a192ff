#include "reactor/connections.h"

namespace subhttpd::reactor {
namespace {

void on_close(evhttp_connection* c, void* arg) noexcept { static_cast<connection_table*>(arg)->closed(c); }

}  // namespace

void connection_table::attach(evhttp_connection* c, connection_closed_listener* l) {
    auto [it, fresh] = open_.try_emplace(c, slot{l});
    if (fresh) {
        ++total_;
        evhttp_connection_set_closecb(c, on_close, this);
        if (on_change_) {
            on_change_(open_.size());
        }
    } else {
        it->second.listener = l;
    }
}

void connection_table::detach(evhttp_connection* c, connection_closed_listener* l) {
    auto it = open_.find(c);
    if (it != open_.end() && it->second.listener == l) {
        it->second.listener = nullptr;
    }
}

void connection_table::closed(evhttp_connection* c) {
    auto it = open_.find(c);
    if (it == open_.end()) {
        return;
    }
    connection_closed_listener* l = it->second.listener;
    open_.erase(it);
    if (on_change_) {
        on_change_(open_.size());
    }
    if (l != nullptr) {
        l->connection_closed();
    }
}

const interp::peer_info* connection_table::peer(evhttp_connection* c) const {
    auto it = open_.find(c);
    return it != open_.end() && it->second.peer_known ? &it->second.peer : nullptr;
}

void connection_table::set_peer(evhttp_connection* c, const interp::peer_info& p) {
    auto it = open_.find(c);
    if (it != open_.end()) {
        it->second.peer = p;
        it->second.peer_known = true;
    }
}

}  // namespace subhttpd::reactor

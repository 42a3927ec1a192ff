#include "reactor/slow_clients.h"

#include <sys/socket.h>
#include <time.h>

#include "common/log.h"

namespace subhttpd::reactor {
namespace {

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bufferevent* on_new_connection(event_base* base, void* arg) noexcept {
    return static_cast<slow_clients*>(arg)->make_bufferevent(base);
}

void on_input_changed(evbuffer* buf, const evbuffer_cb_info* info, void* arg) noexcept {
    static_cast<slow_clients*>(arg)->on_input(buf, info);
}

}  // namespace

slow_clients::slow_clients(evhttp* http) { evhttp_set_bevcb(http, on_new_connection, this); }

bufferevent* slow_clients::make_bufferevent(event_base* base) {
    bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) {
        return nullptr;
    }
    evbuffer* in = bufferevent_get_input(bev);
    // A reused address means the earlier connection is gone: start afresh.
    slots_[in] = slot{bev, 0, 0};
    evbuffer_add_cb(in, on_input_changed, this);
    return bev;
}

void slow_clients::on_input(evbuffer* buf, const evbuffer_cb_info* info) {
    if (info->n_added == 0) {
        return;
    }
    auto it = slots_.find(buf);
    if (it == slots_.end()) {
        return;
    }
    slot& s = it->second;
    double now = now_s();
    if (s.first == 0) {
        s.first = now;
        s.bytes = 0;
    }
    s.bytes += info->n_added;
    double allowed = static_cast<double>(timeout_ms_) / 1000.0 + static_cast<double>(s.bytes) / 500.0;
    if (timeout_ms_ > 0 && now - s.first > allowed) {
        evutil_socket_t fd = bufferevent_getfd(s.bev);
        if (fd >= 0) {
            ++cut_;
            log::writef(log::level::info, "limits", "a client took over %.1f s to send a request: cut off",
                        now - s.first);
            ::shutdown(fd, SHUT_RDWR);  // evhttp sees the end and frees the connection
        }
        slots_.erase(it);
    }
}

void slow_clients::request_complete(evhttp_connection* c) {
    bufferevent* bev = evhttp_connection_get_bufferevent(c);
    if (bev == nullptr) {
        return;
    }
    auto it = slots_.find(bufferevent_get_input(bev));
    if (it != slots_.end()) {
        it->second.first = 0;
        it->second.bytes = 0;
    }
}

}  // namespace subhttpd::reactor

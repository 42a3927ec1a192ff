// front: every open connection of one loop -- accepting (max_connections at
// accept), adopting handed-off ones, counting, and the graceful stop that closes
// the idle ones (see connection.h).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <unordered_set>
#include <vector>

#include "reactor/http/clock.h"
#include "reactor/http/connection.h"

namespace subhttpd::reactor::http {

struct front::registry {
    std::unordered_set<connection*> all;
};

front::front(event_base* base, request_fn on_request)
    : base_(base), on_request_(std::move(on_request)), all_(std::make_unique<registry>()) {}

front::~front() {
    std::vector<connection*> left(all_->all.begin(), all_->all.end());
    for (connection* c : left) {
        c->close();
    }
}

void front::adopt(int fd, const sockaddr* peer, socklen_t len) { take(fd, peer, len, false); }

connection* front::take(int fd, const sockaddr* peer, socklen_t len, bool handed) {
    if (open_ >= settings_.max_connections || (stopping_ && !handed)) {
        ++refused_;
        ::close(fd);
        return nullptr;
    }
    bool local = peer != nullptr && peer->sa_family == AF_UNIX;
    if (!local) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    auto* c = new connection(*this, fd, peer, len, local);
    opened(c);
    return c;
}

void front::adopt(int fd, const sockaddr* peer, socklen_t len, std::string_view already_read, unsigned hops) {
    connection* c = take(fd, peer, len, true);
    if (c == nullptr || already_read.empty()) {
        return;
    }
    connection::busy_guard g(c);
    c->handoff_hops_ = static_cast<std::uint8_t>(hops > 255 ? 255 : hops);
    c->grow(already_read.size());
    std::memcpy(c->buf_.get() + c->len_, already_read.data(), already_read.size());
    c->len_ += already_read.size();
    c->process();
}

void front::opened(connection* c) {
    all_->all.insert(c);
    ++open_;
    ++total_;
    if (on_change_) {
        on_change_(open_);
    }
}

void front::closed(connection* c) {
    if (all_->all.erase(c) == 0) {
        return;
    }
    --open_;
    if (on_change_) {
        on_change_(open_);
    }
}

void front::stop() {
    stopping_ = true;
    std::vector<connection*> idle;
    for (connection* c : all_->all) {
        if (c->active_ == nullptr && !c->writing_ && c->phase_ == connection::phase::idle) {
            if (c->fresh_ && c->pos_ == c->len_) {
                // Accepted, its first request not here yet (it may be on the wire):
                // answered if it comes soon, closed by its timer otherwise.
                c->set_deadline(mono_now() + 2.0);
                continue;
            }
            idle.push_back(c);
        }
    }
    for (connection* c : idle) {
        c->close();
    }
}

}  // namespace subhttpd::reactor::http

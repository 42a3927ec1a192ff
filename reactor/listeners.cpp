#include "reactor/listeners.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <event2/listener.h>

#include "common/clock.h"
#include "common/log.h"

namespace subhttpd::reactor {

std::vector<conf::listen_addr> listen_addrs(const conf::config& c, const std::vector<std::string>& override_texts) {
    if (override_texts.empty()) {
        return c.server.listen;
    }
    std::vector<conf::listen_addr> out;
    for (const auto& text : override_texts) {
        if (auto a = conf::parse_listen(text)) {
            a->reuse_port = c.server.reuse_port;
            out.push_back(*a);
        }
    }
    return out;
}

int open_listener(const conf::listen_addr& addr, std::string& err) {
    int fd = -1;
    if (addr.type == conf::listen_addr::kind::unix_socket) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (addr.path.size() >= sizeof sun.sun_path) {
            err = addr.text + ": socket path too long";
            return -1;
        }
        std::memcpy(sun.sun_path, addr.path.c_str(), addr.path.size());
        struct stat sb{};
        if (lstat(addr.path.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode)) {
            // A socket file someone still accepts on is in use; one nobody
            // answers on is left from an earlier run.
            // (Non-blocking: a full backlog answers EAGAIN, which is also "live".)
            int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            bool live = probe >= 0 && (connect(probe, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0 ||
                                       errno == EAGAIN);
            if (probe >= 0) {
                ::close(probe);
            }
            if (live) {
                err = addr.text + ": address already in use (another process accepts on this socket)";
                return -1;
            }
            ::unlink(addr.path.c_str());
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || listen(fd, 1024) != 0) {
            err = addr.text + ": " + std::strerror(errno);
            if (fd >= 0) {
                ::close(fd);
            }
            return -1;
        }
        return fd;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(addr.port);
    int rc = getaddrinfo(addr.host.empty() ? nullptr : addr.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        err = addr.text + ": " + gai_strerror(rc);
        return -1;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        // Only on request: a shared port splits the traffic between whoever
        // bound it, so by default a busy port is an error, as in other servers.
        if (addr.reuse_port) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        }
        if (ai->ai_family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
            break;
        }
        err = addr.text + ": " +
              (errno == EADDRINUSE ? std::string("address already in use (another process listens there; "
                                                 "reuse_port = true in [server] shares the port)")
                                   : std::string(std::strerror(errno)));
        ::close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        err.clear();
    } else if (err.empty()) {
        err = addr.text + ": no usable address";
    }
    return fd;
}

void listener_set::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* peer, int len, void* arg) noexcept {
    try {
        static_cast<listener_set*>(arg)->front_->adopt(fd, peer, static_cast<socklen_t>(len));
    } catch (...) {
        ::close(fd);
    }
}

void listener_set::on_accept_error(evconnlistener* l, void* arg) noexcept {
    int err = EVUTIL_SOCKET_ERROR();
    auto* self = static_cast<listener_set*>(arg);
    if (err == EMFILE || err == ENFILE) {
        self->out_of_descriptors(evconnlistener_get_fd(l), err);
        return;
    }
    log::write(log::level::error, "listen", "", std::string("accept failed: ") + evutil_socket_error_to_string(err));
}

void listener_set::on_resume(evutil_socket_t, short, void* arg) noexcept {
    auto* self = static_cast<listener_set*>(arg);
    self->fd_paused_ = false;
    self->apply_pause();
}

listener_set::~listener_set() {
    if (resume_ev_ != nullptr) {
        event_free(resume_ev_);
    }
    if (reserve_fd_ >= 0) {
        ::close(reserve_fd_);
    }
}

void listener_set::keep_reserve() {
    if (reserve_fd_ < 0) {
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
}

// No descriptor for a new connection: spend the reserve one to accept the
// waiting client and close it at once (it sees a reset, not a hang), then stop
// accepting for a while, backing off while it lasts; one log line per interval.
void listener_set::out_of_descriptors(int listen_fd, int err) {
    ++fd_exhausted_;
    if (reserve_fd_ >= 0) {
        ::close(reserve_fd_);
        reserve_fd_ = -1;
        int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
            linger lg{1, 0};
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            ::close(c);
        }
        keep_reserve();
    }
    double now = mono_now();
    backoff_ms_ = (now - last_exhausted_ > 5.0) ? 10 : std::min(1000, backoff_ms_ * 2);
    last_exhausted_ = now;
    if (now - last_fd_log_ >= 10.0) {
        log::writef(log::level::error, "listen",
                    "out of file descriptors (%s): %llu connection(s) refused so far; accepting again in %d ms",
                    std::strerror(err), static_cast<unsigned long long>(fd_exhausted_), backoff_ms_);
        last_fd_log_ = now;
    }
    fd_paused_ = true;
    apply_pause();
    if (resume_ev_ == nullptr && front_ != nullptr) {
        resume_ev_ = evtimer_new(front_->base(), on_resume, this);
    }
    if (resume_ev_ != nullptr) {
        timeval tv{backoff_ms_ / 1000, (backoff_ms_ % 1000) * 1000};
        evtimer_add(resume_ev_, &tv);
    }
}

void listener_set::apply_pause() {
    bool want = paused_ || fd_paused_;
    if (want == applied_) {
        return;
    }
    applied_ = want;
    for (auto& [text, e] : open_) {
        if (e.handle == nullptr) {
            continue;
        }
        if (want) {
            evconnlistener_disable(e.handle);
        } else {
            evconnlistener_enable(e.handle);
        }
    }
}

std::string listener_set::sync(http::front& front, const std::vector<conf::listen_addr>& want) {
    front_ = &front;
    keep_reserve();
    std::map<std::string, entry> next;
    std::vector<int> opened;
    std::string err;
    for (const auto& a : want) {
        if (next.count(a.text) != 0) {
            continue;
        }
        auto it = open_.find(a.text);
        if (it != open_.end()) {
            next.emplace(a.text, it->second);
            continue;
        }
        int fd = -1;
        bool owned = true;
        auto inh = inherited_.find(a.text);
        if (inh != inherited_.end()) {
            fd = inh->second;  // bound by the parent of the worker processes
            owned = false;
            inherited_.erase(inh);
        } else {
            fd = open_listener(a, err);
        }
        if (fd < 0) {
            break;
        }
        opened.push_back(fd);
        next.emplace(a.text, entry{a, nullptr, fd, owned});
    }
    if (!err.empty()) {
        for (int fd : opened) {
            ::close(fd);
        }
        return err;
    }
    // Commit: accept on the new sockets, close the ones no longer wanted.
    for (auto& [text, e] : next) {
        if (open_.count(text) == 0) {
            e.handle = evconnlistener_new(front.base(), on_accept, this, LEV_OPT_CLOSE_ON_FREE, -1, e.fd);
            if (e.handle == nullptr) {
                log::write(log::level::error, "listen", "", "cannot accept on " + text);
                continue;
            }
            evconnlistener_set_error_cb(e.handle, on_accept_error);
            if (applied_) {
                evconnlistener_disable(e.handle);
            }
            log::write(log::level::info, "listen", "", "opened " + text);
        }
    }
    for (auto& [text, e] : open_) {
        if (next.count(text) == 0) {
            if (e.handle != nullptr) {
                evconnlistener_free(e.handle);
            }
            if (e.owned && e.addr.type == conf::listen_addr::kind::unix_socket) {
                ::unlink(e.addr.path.c_str());
            }
            log::write(log::level::info, "listen", "", "closed " + text);
        }
    }
    open_ = std::move(next);
    return "";
}

void listener_set::close_all() {
    for (auto& [text, e] : open_) {
        if (e.handle != nullptr) {
            evconnlistener_free(e.handle);
        }
        if (e.owned && e.addr.type == conf::listen_addr::kind::unix_socket) {
            ::unlink(e.addr.path.c_str());
        }
    }
    open_.clear();
}

void listener_set::pause(bool paused) {
    if (paused == paused_) {
        return;
    }
    paused_ = paused;
    apply_pause();
    log::write(log::level::notice, "listen", "", paused ? "max_connections reached: not accepting"
                                                        : "accepting connections again");
}

std::vector<std::string> listener_set::bound() const {
    std::vector<std::string> out;
    for (const auto& [text, e] : open_) {
        out.push_back(text);
    }
    return out;
}

}  // namespace subhttpd::reactor

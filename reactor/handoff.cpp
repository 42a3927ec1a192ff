#include "reactor/handoff.h"

#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "reactor/http/connection.h"
#include "reactor/http/exchange.h"
#include "reactor/http/static_files.h"

namespace subhttpd::reactor {
namespace {

constexpr std::uint32_t wire_magic = 0x73686f31;  // "sho1"
constexpr std::uint32_t in_memfd = 1;
constexpr std::size_t inline_limit = 48 * 1024;   // larger: the bytes go in a memfd
constexpr std::size_t receive_room = 64 * 1024;
constexpr int batch = 16;                          // messages taken per wake-up
constexpr unsigned max_hops = 2;                   // worker -> group -> worker is the longest honest path

struct wire_header {
    std::uint32_t magic = wire_magic;
    std::uint32_t flags = 0;
    std::uint64_t bytes = 0;
    std::uint32_t peer_len = 0;
    std::uint32_t hops = 0;  // hand-offs of this request before this one
    sockaddr_storage peer{};
};

// The request as the client sent it: head, body framed again (a chunked body
// arrives here decoded: it leaves as one chunk), then the pipelined bytes.
struct framed_request {
    char size_line[24];
    std::vector<iovec> parts;
    std::size_t total = 0;

    void add(const void* p, std::size_t n) {
        if (n != 0) {
            parts.push_back({const_cast<void*>(p), n});
            total += n;
        }
    }
};

void frame(const http::connection& c, const http::http_exchange& ex, framed_request& f) {
    std::string_view head = c.request_head_bytes();
    std::string_view body = ex.body_bytes();
    f.add(head.data(), head.size());
    if (c.head().chunked) {
        char* end = f.size_line;
        if (!body.empty()) {
            end = std::to_chars(f.size_line, f.size_line + 18, body.size(), 16).ptr;
            *end++ = '\r';
            *end++ = '\n';
        }
        f.add(f.size_line, static_cast<std::size_t>(end - f.size_line));
        f.add(body.data(), body.size());
        static constexpr std::string_view tail_after_data = "\r\n0\r\n\r\n";
        static constexpr std::string_view tail_empty = "0\r\n\r\n";
        std::string_view tail = body.empty() ? tail_empty : tail_after_data;
        f.add(tail.data(), tail.size());
    } else {
        f.add(body.data(), body.size());
    }
    std::string_view rest = c.pipelined_bytes();
    f.add(rest.data(), rest.size());
}

// A memfd holding the bytes, or -1.
int bytes_in_memfd(const framed_request& f) {
    int fd = memfd_create("subhttpd-handoff", MFD_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    std::size_t done = 0;
    std::vector<iovec> parts = f.parts;
    std::size_t at = 0;
    while (done < f.total) {
        ssize_t n = ::writev(fd, parts.data() + at, static_cast<int>(parts.size() - at));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ::close(fd);
            return -1;
        }
        done += static_cast<std::size_t>(n);
        std::size_t left = static_cast<std::size_t>(n);
        while (at < parts.size() && left >= parts[at].iov_len) {
            left -= parts[at].iov_len;
            ++at;
        }
        if (at < parts.size()) {
            parts[at].iov_base = static_cast<char*>(parts[at].iov_base) + left;
            parts[at].iov_len -= left;
        }
    }
    return fd;
}

// 0 sent; else errno.
int send_connection(int channel, http::connection& c, const http::http_exchange& ex) {
    framed_request f;
    wire_header h;
    f.parts.reserve(8);
    f.parts.push_back({&h, sizeof h});
    frame(c, ex, f);
    std::size_t payload = f.total;  // the header is not counted in `total`
    h.bytes = payload;
    h.hops = c.handoff_hops() + 1;
    const sockaddr_storage& peer = c.peer_address();
    h.peer = peer;
    h.peer_len = peer.ss_family == AF_INET    ? sizeof(sockaddr_in)
                 : peer.ss_family == AF_INET6 ? sizeof(sockaddr_in6)
                 : peer.ss_family == AF_UNIX  ? sizeof(sockaddr_un)
                                              : 0;
    int fds[2] = {c.socket(), -1};
    int nfds = 1;
    msghdr msg{};
    if (payload > inline_limit) {
        framed_request body;
        body.parts.assign(f.parts.begin() + 1, f.parts.end());
        body.total = payload;
        fds[1] = bytes_in_memfd(body);
        if (fds[1] < 0) {
            return errno != 0 ? errno : EIO;
        }
        nfds = 2;
        h.flags |= in_memfd;
        f.parts.resize(1);
    }
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
    msg.msg_iov = f.parts.data();
    msg.msg_iovlen = f.parts.size();
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<std::size_t>(nfds));
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<std::size_t>(nfds));
    std::memcpy(CMSG_DATA(cm), fds, sizeof(int) * static_cast<std::size_t>(nfds));
    ssize_t n = -1;
    do {
        n = ::sendmsg(channel, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    if (fds[1] >= 0) {
        ::close(fds[1]);  // the receiver holds its own copy
    }
    return err;
}

void send_when_drained(std::shared_ptr<std::unique_ptr<http::http_exchange>> held, int channel,
                       std::string target) {
    http::http_exchange* ex = held->get();
    http::connection* c = ex->link();
    if (c == nullptr || c->closed()) {
        return;  // the client went away meanwhile
    }
    if (c->output_pending()) {
        c->add_drain_waiter([held, channel, target] { send_when_drained(held, channel, target); });
        return;
    }
    hand_off(std::move(*held), channel, target);
}

}  // namespace

void hand_off(std::unique_ptr<http::http_exchange> ex, int channel, const std::string& target) {
    http::connection* c = ex->link();
    if (c == nullptr || c->closed()) {
        return;
    }
    if (c->handoff_hops() >= max_hops) {
        // Processes disagree on where this request belongs (a reload that has
        // reached some of them, or a path the group's user cannot see).
        log::writef(log::level::error, "handoff",
                    "\"%.*s %.*s\" was handed over %u times without being served (the processes route it "
                    "differently: a reload under way, or a path %s cannot see); answered 503",
                    static_cast<int>(ex->method().size()), ex->method().data(), static_cast<int>(ex->target().size()),
                    ex->target().data(), c->handoff_hops(), target.c_str());
        send_error(*ex, 503, {{"Retry-After", "1"}});
        return;
    }
    if (c->output_pending()) {
        // Answers to earlier requests on this connection leave first.
        auto held = std::make_shared<std::unique_ptr<http::http_exchange>>(std::move(ex));
        send_when_drained(std::move(held), channel, target);
        return;
    }
    int err = channel < 0 ? ENOTCONN : send_connection(channel, *c, *ex);
    if (err != 0) {
        log::writef(log::level::error, "handoff", "cannot hand a connection to %s: %s; answered 503", target.c_str(),
                    err == EAGAIN || err == EWOULDBLOCK ? "its queue is full (every process busy or restarting)"
                                                        : std::strerror(err));
        send_error(*ex, 503, {{"Retry-After", "1"}});
        return;
    }
    ex->handed_off();
    c->handed_off();
}

void route_elsewhere(std::unique_ptr<http::http_exchange> ex, const std::string& route_group,
                     const handoff_links& links) {
    if (route_group.empty()) {
        hand_off(std::move(ex), links.to_workers, "the workers");
        return;
    }
    auto it = links.to_group.find(route_group);
    if (it == links.to_group.end()) {
        log::writef(log::level::error, "handoff",
                    "process group '%s' is not running (process groups start with the server: restart it, or "
                    "upgrade with SIGUSR2); answered 503",
                    route_group.c_str());
        send_error(*ex, 503, {{"Retry-After", "1"}});
        return;
    }
    hand_off(std::move(ex), it->second, "process group '" + route_group + "'");
}

handoff_inbox::handoff_inbox(event_base* base, int channel, http::front& front) : channel_(channel), front_(front) {
    room_ = std::make_unique<char[]>(receive_room);
    ev_ = event_new(base, channel, EV_READ | EV_PERSIST, on_message, this);
    event_add(ev_, nullptr);
}

handoff_inbox::~handoff_inbox() {
    if (ev_ != nullptr) {
        event_free(ev_);
    }
}

void handoff_inbox::on_message(evutil_socket_t, short, void* arg) noexcept {
    try {
        static_cast<handoff_inbox*>(arg)->read_messages();
    } catch (const std::exception& e) {
        log::write(log::level::error, "handoff", "", std::string("receiving a connection failed: ") + e.what());
    }
}

void handoff_inbox::read_messages() {
    for (int i = 0; i < batch; ++i) {
        wire_header h;
        iovec iov[2] = {{&h, sizeof h}, {room_.get(), receive_room}};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(channel_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;  // EAGAIN: another process took it, or nothing left
        }
        int fds[4] = {-1, -1, -1, -1};
        int nfds = 0;
        for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t k = 0; k < count && nfds < 4; ++k) {
                    std::memcpy(&fds[nfds++], CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
                }
            }
        }
        auto drop = [&](const char* why) {
            for (int k = 0; k < nfds; ++k) {
                ::close(fds[k]);
            }
            log::writef(log::level::error, "handoff", "a handed-over connection was dropped: %s", why);
        };
        bool memfd = (h.flags & in_memfd) != 0;
        if (static_cast<std::size_t>(n) < sizeof h || h.magic != wire_magic || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            nfds != (memfd ? 2 : 1) || h.peer_len > sizeof h.peer) {
            drop("malformed message");
            continue;
        }
        std::string_view bytes;
        std::string from_memfd;
        if (memfd) {
            from_memfd.resize(h.bytes);
            std::size_t got = 0;
            while (got < h.bytes) {
                ssize_t r = ::pread(fds[1], from_memfd.data() + got, h.bytes - got, static_cast<off_t>(got));
                if (r <= 0) {
                    break;
                }
                got += static_cast<std::size_t>(r);
            }
            ::close(fds[1]);
            nfds = 1;
            if (got != h.bytes) {
                drop("its bytes could not be read");
                continue;
            }
            bytes = from_memfd;
        } else {
            if (static_cast<std::size_t>(n) - sizeof h != h.bytes) {
                drop("length mismatch");
                continue;
            }
            bytes = std::string_view(room_.get(), h.bytes);
        }
        ++received_;
        front_.adopt(fds[0], h.peer_len == 0 ? nullptr : reinterpret_cast<const sockaddr*>(&h.peer),
                     static_cast<socklen_t>(h.peer_len), bytes, h.hops);
    }
}

}  // namespace subhttpd::reactor

#pragma once
// listener_set: the sockets the HTTP front accepts on, keyed by their configured text.
// sync() opens what is new and closes what is gone, leaving the rest untouched,
// so a reload never disturbs a listener that did not change. Loop thread only.
#include <event2/event.h>
#include <event2/listener.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "conf/config.h"
#include "reactor/http/connection.h"

namespace subhttpd::reactor {

// A listening socket for `addr` (non-blocking, close-on-exec), or -1 with `err` set.
int open_listener(const conf::listen_addr& addr, std::string& err);

// What to listen on: the config's [server] listen, or the `--listen` texts in its
// place when there are any (with the config's reuse_port).
std::vector<conf::listen_addr> listen_addrs(const conf::config& c, const std::vector<std::string>& override_texts);

class listener_set {
public:
    listener_set() = default;
    ~listener_set();
    listener_set(const listener_set&) = delete;
    listener_set& operator=(const listener_set&) = delete;

    // Returns "" or the first error; on error nothing changes.
    std::string sync(http::front& front, const std::vector<conf::listen_addr>& want);
    void close_all();
    std::vector<std::string> bound() const;
    // Stops / resumes accepting on every listener (max_connections).
    void pause(bool paused);
    // Sockets already bound (by the parent of worker processes), by listen text.
    void inherit(std::map<std::string, int> fds) { inherited_ = std::move(fds); }
    // Accepts that found no free descriptor (EMFILE/ENFILE).
    std::uint64_t fd_exhausted() const { return fd_exhausted_; }

private:
    static void on_accept(evconnlistener* l, evutil_socket_t fd, sockaddr* peer, int len, void* arg) noexcept;
    static void on_accept_error(evconnlistener* l, void* arg) noexcept;
    static void on_resume(evutil_socket_t fd, short what, void* arg) noexcept;
    void keep_reserve();
    void out_of_descriptors(int listen_fd, int err);
    void apply_pause();  // listeners follow paused_ || fd_paused_

    struct entry {
        conf::listen_addr addr;
        evconnlistener* handle = nullptr;
        int fd = -1;  // the socket, until the listener owns it through `handle`
        bool owned = true;  // false: the parent of the workers owns the socket file
    };
    std::map<std::string, entry> open_;
    std::map<std::string, int> inherited_;
    bool paused_ = false;     // max_connections
    bool fd_paused_ = false;  // out of descriptors, until resume_ev_
    bool applied_ = false;    // what the listeners are set to
    http::front* front_ = nullptr;
    int reserve_fd_ = -1;     // spent to refuse a client when descriptors run out
    event* resume_ev_ = nullptr;
    int backoff_ms_ = 10;
    double last_exhausted_ = 0;
    double last_fd_log_ = -1e9;
    std::uint64_t fd_exhausted_ = 0;
};

}  // namespace subhttpd::reactor

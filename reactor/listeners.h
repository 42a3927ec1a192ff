#pragma once
// listener_set: the sockets the HTTP front accepts on, keyed by their configured text.
// sync() opens what is new and closes what is gone, leaving the rest untouched,
// so a reload never disturbs a listener that did not change. Loop thread only.
#include <event2/event.h>
#include <event2/listener.h>

#include <map>
#include <string>
#include <vector>

#include "conf/config.h"
#include "reactor/http/connection.h"

namespace subhttpd::reactor {

// A listening socket for `addr` (non-blocking, close-on-exec), or -1 with `err` set.
int open_listener(const conf::listen_addr& addr, std::string& err);

class listener_set {
public:
    // Returns "" or the first error; on error nothing changes.
    std::string sync(http::front& front, const std::vector<conf::listen_addr>& want);
    void close_all();
    std::vector<std::string> bound() const;
    // Stops / resumes accepting on every listener (max_connections).
    void pause(bool paused);
    // Sockets already bound (by the parent of worker processes), by listen text.
    void inherit(std::map<std::string, int> fds) { inherited_ = std::move(fds); }

private:
    struct entry {
        conf::listen_addr addr;
        evconnlistener* handle = nullptr;
        int fd = -1;  // the socket, until the listener owns it through `handle`
        bool owned = true;  // false: the parent of the workers owns the socket file
    };
    std::map<std::string, entry> open_;
    std::map<std::string, int> inherited_;
    bool paused_ = false;
};

}  // namespace subhttpd::reactor

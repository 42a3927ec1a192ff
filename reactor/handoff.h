#pragma once
// handoff: moves a client connection between processes of one server (workers
// and process-group processes) over a unix SOCK_SEQPACKET socketpair. A message
// carries the socket (SCM_RIGHTS), the peer address and the bytes this process
// already read (the request head, its body framed again, whatever the client
// pipelined behind it); bodies too big for one message travel in a memfd. The
// receiver adopts the socket as if it had accepted it and parses those bytes
// first, so the client sees one ordinary keep-alive connection. Each channel
// has one reading end shared by every process that serves it (the kernel gives
// each message to one of them) and one sending end held by every sender.
// Loop thread only.
#include <event2/event.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace subhttpd::reactor {

namespace http {
class front;
class http_exchange;
}  // namespace http

// The channels one process holds (all -1/empty: no process groups).
struct handoff_links {
    std::string group;                   // "" = a worker; else the process group it serves
    int inbox = -1;                      // where connections for this process arrive
    std::map<std::string, int> to_group; // worker: the inbox of each process group
    int to_workers = -1;                 // group process: the workers' inbox
    bool active() const { return inbox >= 0; }
};

// Sends the connection of `ex` to `channel`, once the answers before it have
// left (they go out first). On failure (the channel is full: every process of
// the group is busy or restarting) the request is answered 503 here.
// `target` names the receiver in log lines.
void hand_off(std::unique_ptr<http::http_exchange> ex, int channel, const std::string& target);

// The route belongs to `route_group` ("" = the workers), not to this process:
// hands the connection to whichever process serves it, or answers 503 when no
// channel leads there (a group added by a reload starts with the next restart).
void route_elsewhere(std::unique_ptr<http::http_exchange> ex, const std::string& route_group,
                     const handoff_links& links);

// Reads a channel on the loop and gives each connection to `front`. Stops
// reading when destroyed (a process that stops leaves the rest to its peers).
class handoff_inbox {
public:
    handoff_inbox(event_base* base, int channel, http::front& front);
    ~handoff_inbox();
    handoff_inbox(const handoff_inbox&) = delete;
    handoff_inbox& operator=(const handoff_inbox&) = delete;

    std::uint64_t received() const { return received_; }

    static void on_message(evutil_socket_t fd, short what, void* arg) noexcept;

private:
    void read_messages();

    int channel_;
    http::front& front_;
    event* ev_ = nullptr;
    std::unique_ptr<char[]> room_;  // one message's inline bytes
    std::uint64_t received_ = 0;
};

}  // namespace subhttpd::reactor

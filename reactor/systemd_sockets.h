#pragma once
// Socket activation: the listening sockets systemd passes (LISTEN_FDS, from a
// subhttpd.socket unit) are matched to the configured listen addresses by what
// getsockname() says they are bound to, and used instead of binding. A socket no
// address asks for is reported and closed; an address no socket matches is
// bound as usual. Called once by main() before the server starts (one thread).
#include <map>
#include <string>
#include <vector>

#include "conf/config.h"

namespace subhttpd::reactor {

// Whether the listening socket `fd` is bound to `addr` (same family, address
// and port; or the same unix path). "0.0.0.0"/"::"/"" match the wildcard.
bool socket_matches(int fd, const conf::listen_addr& addr);

struct matched_sockets {
    std::map<std::string, int> fds;  // listen text -> socket
    std::vector<int> unused;         // sockets no address matched
};
matched_sockets match_sockets(const std::vector<int>& fds, const std::vector<conf::listen_addr>& want);

// The sockets systemd passed to this process, matched to `want` (listen text ->
// fd, ready for listener_set::inherit); empty when not socket-activated. The
// LISTEN_* variables are removed so children do not see them. Unmatched
// sockets are logged and closed.
std::map<std::string, int> systemd_listeners(const std::vector<conf::listen_addr>& want);

// "127.0.0.1:8080", "[::1]:80", "unix:/run/x.sock": what a socket is bound to.
std::string describe_socket(int fd);

}  // namespace subhttpd::reactor

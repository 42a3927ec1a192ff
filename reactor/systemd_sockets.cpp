#include "reactor/systemd_sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"

#ifdef SUBHTTPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace subhttpd::reactor {
namespace {

bool is_wildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

// The numeric address `host` names in `family`, or false.
bool parse_host(const std::string& host, int family, sockaddr_storage& out) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
        return false;
    }
    std::memcpy(&out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return true;
}

}  // namespace

bool socket_matches(int fd, const conf::listen_addr& addr) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return false;
    }
    if (addr.type == conf::listen_addr::kind::unix_socket) {
        if (ss.ss_family != AF_UNIX) {
            return false;
        }
        const auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
        std::size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        std::string path(sun->sun_path, strnlen(sun->sun_path, n));
        return path == addr.path;
    }
    if (ss.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
        if (ntohs(in->sin_port) != addr.port) {
            return false;
        }
        if (is_wildcard(addr.host)) {
            return in->sin_addr.s_addr == htonl(INADDR_ANY) && addr.host != "::";
        }
        sockaddr_storage want{};
        return parse_host(addr.host, AF_INET, want) &&
               reinterpret_cast<const sockaddr_in*>(&want)->sin_addr.s_addr == in->sin_addr.s_addr;
    }
    if (ss.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        if (ntohs(in6->sin6_port) != addr.port) {
            return false;
        }
        if (is_wildcard(addr.host)) {
            return IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) && addr.host != "0.0.0.0";
        }
        sockaddr_storage want{};
        return parse_host(addr.host, AF_INET6, want) &&
               std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&want)->sin6_addr, &in6->sin6_addr,
                           sizeof in6->sin6_addr) == 0;
    }
    return false;
}

matched_sockets match_sockets(const std::vector<int>& fds, const std::vector<conf::listen_addr>& want) {
    matched_sockets m;
    for (int fd : fds) {
        bool used = false;
        for (const auto& a : want) {
            if (m.fds.count(a.text) == 0 && socket_matches(fd, a)) {
                m.fds[a.text] = fd;
                used = true;
                break;
            }
        }
        if (!used) {
            m.unused.push_back(fd);
        }
    }
    return m;
}

std::string describe_socket(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return "fd " + std::to_string(fd);
    }
    char host[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    if (ss.ss_family == AF_UNIX) {
        const auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
        std::size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        return "unix:" + std::string(sun->sun_path, strnlen(sun->sun_path, n));
    }
    return "fd " + std::to_string(fd);
}

std::map<std::string, int> systemd_listeners(const std::vector<conf::listen_addr>& want) {
    std::vector<int> fds;
#ifdef SUBHTTPD_HAVE_SYSTEMD
    int n = sd_listen_fds(1);  // 1: unset LISTEN_PID/LISTEN_FDS for whatever we start
    if (n < 0) {
        log::write(log::level::error, "systemd", "", std::string("LISTEN_FDS: ") + std::strerror(-n));
        return {};
    }
    for (int i = 0; i < n; ++i) {
        int fd = SD_LISTEN_FDS_START + i;
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            log::writef(log::level::warn, "systemd", "passed fd %d is not a listening stream socket: ignored", fd);
            ::close(fd);
            continue;
        }
        fds.push_back(fd);
    }
#else
    (void)want;
#endif
    if (fds.empty()) {
        return {};
    }
    matched_sockets m = match_sockets(fds, want);
    for (int fd : m.unused) {
        log::write(log::level::warn, "systemd", "",
                   "socket " + describe_socket(fd) + " from systemd matches no listen address: closed");
        ::close(fd);
    }
    for (const auto& [text, fd] : m.fds) {
        // systemd hands sockets over blocking and inheritable.
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
        log::write(log::level::notice, "systemd", "", "using the socket systemd passed for " + text);
    }
    return m.fds;
}

}  // namespace subhttpd::reactor

// Matching sockets passed by systemd to listen addresses, with real sockets.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "reactor/systemd_sockets.h"

namespace subhttpd::reactor {
namespace {

// A listening TCP socket on 127.0.0.1 (or `any`: 0.0.0.0), port chosen by the kernel.
int tcp4(bool any, std::uint16_t& port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
    EXPECT_EQ(listen(fd, 8), 0);
    socklen_t len = sizeof in;
    getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
    port = ntohs(in.sin_port);
    return fd;
}

conf::listen_addr addr(const std::string& text) {
    auto a = conf::parse_listen(text);
    EXPECT_TRUE(a) << text;
    return *a;
}

TEST(systemd_sockets, tcp_sockets_match_by_address_and_port) {
    std::uint16_t p1 = 0, p2 = 0;
    int lo = tcp4(false, p1);
    int any = tcp4(true, p2);
    std::string a1 = "127.0.0.1:" + std::to_string(p1), a2 = "0.0.0.0:" + std::to_string(p2);
    EXPECT_TRUE(socket_matches(lo, addr(a1)));
    EXPECT_FALSE(socket_matches(lo, addr("127.0.0.2:" + std::to_string(p1))));
    EXPECT_FALSE(socket_matches(lo, addr("127.0.0.1:" + std::to_string(p2))));
    EXPECT_FALSE(socket_matches(lo, addr("0.0.0.0:" + std::to_string(p1))));
    EXPECT_TRUE(socket_matches(any, addr(a2)));
    EXPECT_FALSE(socket_matches(any, addr("127.0.0.1:" + std::to_string(p2))));
    EXPECT_EQ(describe_socket(lo), a1);

    matched_sockets m = match_sockets({any, lo}, {addr(a1), addr(a2), addr("127.0.0.1:1")});
    EXPECT_EQ(m.fds, (std::map<std::string, int>{{a1, lo}, {a2, any}}));
    EXPECT_TRUE(m.unused.empty());
    ::close(lo);
    ::close(any);
}

TEST(systemd_sockets, a_socket_nobody_asked_for_is_unused) {
    std::uint16_t p = 0;
    int lo = tcp4(false, p);
    matched_sockets m = match_sockets({lo}, {addr("127.0.0.1:1")});
    EXPECT_TRUE(m.fds.empty());
    EXPECT_EQ(m.unused, std::vector<int>{lo});
    ::close(lo);
}

TEST(systemd_sockets, unix_sockets_match_by_path) {
    std::string dir = (std::filesystem::temp_directory_path() / "sdsock.XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    std::string path = dir + "/s.sock";
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
    ASSERT_EQ(listen(fd, 8), 0);
    EXPECT_TRUE(socket_matches(fd, addr("unix:" + path)));
    EXPECT_FALSE(socket_matches(fd, addr("unix:" + path + "x")));
    EXPECT_FALSE(socket_matches(fd, addr("127.0.0.1:8080")));
    EXPECT_EQ(describe_socket(fd), "unix:" + path);
    ::close(fd);
    std::filesystem::remove_all(dir);
}

TEST(systemd_sockets, nothing_passed_nothing_inherited) {
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_PID");
    EXPECT_TRUE(systemd_listeners({addr("127.0.0.1:8080")}).empty());
}

}  // namespace
}  // namespace subhttpd::reactor

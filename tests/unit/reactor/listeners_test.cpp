// What the server listens on: the config's list, or --listen in its place.
#include "reactor/listeners.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace subhttpd::reactor {
namespace {

conf::config with_listen() {
    conf::config c;
    c.server.listen = {*conf::parse_listen("127.0.0.1:8080"), *conf::parse_listen("unix:/run/x.sock")};
    c.server.reuse_port = true;
    return c;
}

TEST(ListenAddrs, ConfigWhenNoOverride) {
    conf::config c = with_listen();
    auto out = listen_addrs(c, {});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].text, "127.0.0.1:8080");
    EXPECT_EQ(out[1].text, "unix:/run/x.sock");
}

TEST(ListenAddrs, OverrideReplacesAndTakesReusePort) {
    conf::config c = with_listen();
    auto out = listen_addrs(c, {"127.0.0.1:9000", "[::1]:9001"});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].text, "127.0.0.1:9000");
    EXPECT_EQ(out[0].port, 9000);
    EXPECT_TRUE(out[0].reuse_port);
    EXPECT_EQ(out[1].host, "::1");
}

TEST(ListenAddrs, UnparsableOverrideIsSkipped) {
    conf::config c = with_listen();
    auto out = listen_addrs(c, {"not an address", "127.0.0.1:9000"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].port, 9000);
}

// open_listener: a real socket on loopback or a unix path; a busy address, a
// stale unix socket and an over-long path.
std::uint16_t port_of(int fd) {
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    return ntohs(sin.sin_port);
}

TEST(OpenListener, LoopbackTcpIsNonBlockingAndCloseOnExec) {
    std::string err;
    int fd = open_listener(*conf::parse_listen("127.0.0.1:0"), err);
    ASSERT_GE(fd, 0) << err;
    EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_NE(port_of(fd), 0);
    // A second bind of the same port without reuse_port is refused, naming the address.
    conf::listen_addr again = *conf::parse_listen("127.0.0.1:" + std::to_string(port_of(fd)));
    int fd2 = open_listener(again, err);
    EXPECT_LT(fd2, 0);
    EXPECT_EQ(err.rfind(again.text + ": ", 0), 0u) << err;
    EXPECT_NE(err.find("in use"), std::string::npos) << err;
    close(fd);
}

TEST(OpenListener, UnixSocketReplacesAStaleOneButNotALiveOne) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "listen.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    const std::string path = tmpl + "/s.sock";
    conf::listen_addr a = *conf::parse_listen("unix:" + path);
    std::string err;
    int fd = open_listener(a, err);
    ASSERT_GE(fd, 0) << err;
    int busy = open_listener(a, err);
    EXPECT_LT(busy, 0);
    EXPECT_EQ(err, a.text + ": address already in use (another process accepts on this socket)");
    close(fd);  // the file stays behind, nobody answers: stale
    int fd2 = open_listener(a, err);
    EXPECT_GE(fd2, 0) << err;
    close(fd2);
    std::filesystem::remove_all(tmpl);
}

TEST(OpenListener, AnOverlongUnixPath) {
    conf::listen_addr a;
    a.type = conf::listen_addr::kind::unix_socket;
    a.path = "/tmp/" + std::string(200, 'x');
    a.text = "unix:" + a.path;
    std::string err;
    EXPECT_LT(open_listener(a, err), 0);
    EXPECT_EQ(err, a.text + ": socket path too long");
}

TEST(OpenListener, AnAddressThatIsNotOurs) {
    std::string err;
    conf::listen_addr a = *conf::parse_listen("192.0.2.1:8080");  // TEST-NET-1: not on this host
    EXPECT_LT(open_listener(a, err), 0);
    EXPECT_EQ(err.rfind("192.0.2.1:8080: ", 0), 0u) << err;
}

}  // namespace
}  // namespace subhttpd::reactor

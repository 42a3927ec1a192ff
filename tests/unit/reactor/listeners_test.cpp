// What the server listens on: the config's list, or --listen in its place.
#include "reactor/listeners.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace subhttpd::reactor

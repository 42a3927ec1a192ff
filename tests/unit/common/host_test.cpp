// The one Host-header parser: name/port split, the site key, SERVER_PORT.
#include "common/host.h"

#include <gtest/gtest.h>

namespace subhttpd::host {
namespace {

TEST(HostSplit, NameAndPort) {
    auto h = split("example.com:8080");
    EXPECT_EQ(h.name, "example.com");
    EXPECT_EQ(h.port, "8080");
}

TEST(HostSplit, NoPort) {
    auto h = split("example.com");
    EXPECT_EQ(h.name, "example.com");
    EXPECT_EQ(h.port, "");
}

TEST(HostSplit, BracketedIpv6KeepsBrackets) {
    auto h = split("[::1]:80");
    EXPECT_EQ(h.name, "[::1]");
    EXPECT_EQ(h.port, "80");
    h = split("[fe80::1]");
    EXPECT_EQ(h.name, "[fe80::1]");
    EXPECT_EQ(h.port, "");
}

TEST(HostSplit, BareIpv6HasNoPort) {
    auto h = split("::1");
    EXPECT_EQ(h.name, "::1");
    EXPECT_EQ(h.port, "");
}

TEST(HostSplit, UnclosedBracketIsKeptWhole) {
    auto h = split("[::1");
    EXPECT_EQ(h.name, "[::1");
    EXPECT_EQ(h.port, "");
}

TEST(HostSplit, SurroundingWhitespaceDropped) {
    auto h = split(" \texample.com:81\t ");
    EXPECT_EQ(h.name, "example.com");
    EXPECT_EQ(h.port, "81");
}

TEST(HostKey, LowerCaseNoPortNoTrailingDot) {
    EXPECT_EQ(key("WWW.Example.COM.:8080"), "www.example.com");
    EXPECT_EQ(key("[::1]:80"), "::1");
    EXPECT_EQ(key("[::1]"), "::1");
    EXPECT_EQ(key("::1"), "::1");
    EXPECT_EQ(key(""), "");
}

TEST(ServerPort, HostHeaderPortWins) {
    EXPECT_EQ(server_port("a.test:8123", 80, false), "8123");
    EXPECT_EQ(server_port("[::1]:9000", 80, true), "9000");
}

TEST(ServerPort, ElseLocalPortElseSchemeDefault) {
    EXPECT_EQ(server_port("a.test", 8080, false), "8080");
    EXPECT_EQ(server_port("", 0, false), "80");
    EXPECT_EQ(server_port("", 0, true), "443");
}

}  // namespace
}  // namespace subhttpd::host

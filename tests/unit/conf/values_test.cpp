// Sizes, durations and listen addresses as a user writes them.
#include <gtest/gtest.h>

#include "conf/config.h"

namespace subhttpd::conf {
namespace {

using std::chrono::milliseconds;

TEST(parse_size, accepts_bytes_and_binary_units) {
    EXPECT_EQ(parse_size("1048576"), 1048576u);
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size("64KB"), 64u * 1024);
    EXPECT_EQ(parse_size("64K"), 64u * 1024);
    EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
    EXPECT_EQ(parse_size("64kb"), 64u * 1024);
    EXPECT_EQ(parse_size("1MB"), 1024u * 1024);
    EXPECT_EQ(parse_size("10mib"), 10u * 1024 * 1024);
    EXPECT_EQ(parse_size("2GB"), 2ull * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_size("1g"), 1ull * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_size("1.5MB"), 1536u * 1024);
    EXPECT_EQ(parse_size("64 KB"), 64u * 1024);
    EXPECT_EQ(parse_size("18446744073709551615"), 18446744073709551615ull);
}

TEST(parse_size, rejects_garbage) {
    EXPECT_EQ(parse_size(""), std::nullopt);
    EXPECT_EQ(parse_size("KB"), std::nullopt);
    EXPECT_EQ(parse_size("-1"), std::nullopt);
    EXPECT_EQ(parse_size("-1KB"), std::nullopt);
    EXPECT_EQ(parse_size("10XB"), std::nullopt);
    EXPECT_EQ(parse_size("10 K B"), std::nullopt);
    EXPECT_EQ(parse_size("1e3"), std::nullopt);
    EXPECT_EQ(parse_size("lots"), std::nullopt);
    EXPECT_EQ(parse_size("99999999999999999999"), std::nullopt);
    EXPECT_EQ(parse_size("99999999999GB"), std::nullopt);
}

TEST(parse_duration, plain_numbers_are_seconds) {
    EXPECT_EQ(parse_duration("30"), milliseconds(30000));
    EXPECT_EQ(parse_duration("0"), milliseconds(0));
    EXPECT_EQ(parse_duration("1.5"), milliseconds(1500));
    EXPECT_EQ(parse_duration("0.25"), milliseconds(250));
}

TEST(parse_duration, accepts_units) {
    EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
    EXPECT_EQ(parse_duration("30s"), milliseconds(30000));
    EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
    EXPECT_EQ(parse_duration("2m"), milliseconds(120000));
    EXPECT_EQ(parse_duration("1h"), milliseconds(3600000));
    EXPECT_EQ(parse_duration("10 s"), milliseconds(10000));
    EXPECT_EQ(parse_duration("10S"), milliseconds(10000));
}

TEST(parse_duration, rejects_garbage) {
    EXPECT_EQ(parse_duration(""), std::nullopt);
    EXPECT_EQ(parse_duration("s"), std::nullopt);
    EXPECT_EQ(parse_duration("-1"), std::nullopt);
    EXPECT_EQ(parse_duration("-5s"), std::nullopt);
    EXPECT_EQ(parse_duration("10d"), std::nullopt);
    EXPECT_EQ(parse_duration("10 sec onds"), std::nullopt);
    EXPECT_EQ(parse_duration("fast"), std::nullopt);
    EXPECT_EQ(parse_duration("1e3"), std::nullopt);
}

TEST(parse_listen, host_and_port) {
    auto a = parse_listen("127.0.0.1:8080");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, listen_addr::kind::tcp);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 8080);
    EXPECT_EQ(a->text, "127.0.0.1:8080");

    a = parse_listen("0.0.0.0:80");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "0.0.0.0");
    EXPECT_EQ(a->port, 80);

    a = parse_listen("localhost:65535");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "localhost");
    EXPECT_EQ(a->port, 65535);

    a = parse_listen("127.0.0.1:0");  // ephemeral port
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 0);
}

TEST(parse_listen, bare_port_means_every_ipv4_address) {
    auto a = parse_listen(":8080");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "0.0.0.0");
    EXPECT_EQ(a->port, 8080);
    EXPECT_EQ(a->text, ":8080");
}

TEST(parse_listen, bracketed_ipv6) {
    auto a = parse_listen("[::1]:8080");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, listen_addr::kind::tcp);
    EXPECT_EQ(a->host, "::1");
    EXPECT_EQ(a->port, 8080);
    EXPECT_EQ(a->text, "[::1]:8080");

    a = parse_listen("[::]:443");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "::");

    a = parse_listen("[fe80::1%eth0]:80");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "fe80::1%eth0");
}

TEST(parse_listen, unix_socket) {
    auto a = parse_listen("unix:/run/subhttpd.sock");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, listen_addr::kind::unix_socket);
    EXPECT_EQ(a->path, "/run/subhttpd.sock");
    EXPECT_EQ(a->text, "unix:/run/subhttpd.sock");
}

TEST(parse_listen, rejects_garbage) {
    for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                            "127.0.0.1:http", "127.0.0.1:-1", "::1:8080", "[::1]8080", "[::1]",
                            "[]:80", "[hello]:80", "[::1%]:80", "unix:", "bad host:80", "127.0.0.1:8080:1"}) {
        EXPECT_EQ(parse_listen(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace subhttpd::conf

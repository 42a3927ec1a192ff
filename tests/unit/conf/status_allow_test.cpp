// [server] status_allow: addresses and CIDR blocks (IPv4 and IPv6), errors at
// file:line:col, and the matching rule (loopback always allowed).
#include "tree.h"

#include "conf/address_range.h"

namespace subhttpd::conf::testing {
namespace {

using strings = std::vector<std::string>;
using status_allow = tree;

address_range range(const std::string& text) {
    address_range r;
    EXPECT_EQ(parse_address_range(text, r), "") << text;
    return r;
}

TEST_F(status_allow, default_is_loopback_only) {
    mkdir("htdocs");
    write("server.toml", "[[site]]\nserver_name = \"a\"\ndocument_root = \"htdocs\"\n");
    auto r = load_main();
    ASSERT_TRUE(r.cfg) << ::testing::PrintToString(errors(r));
    EXPECT_TRUE(r.cfg->server.status_allow.empty());
    EXPECT_TRUE(address_allowed(r.cfg->server.status_allow, "127.0.0.1"));
    EXPECT_TRUE(address_allowed(r.cfg->server.status_allow, "127.8.9.10"));
    EXPECT_TRUE(address_allowed(r.cfg->server.status_allow, "::1"));
    EXPECT_TRUE(address_allowed(r.cfg->server.status_allow, "::ffff:127.0.0.1"));
    EXPECT_FALSE(address_allowed(r.cfg->server.status_allow, "10.0.0.1"));
    EXPECT_FALSE(address_allowed(r.cfg->server.status_allow, "::2"));
    EXPECT_FALSE(address_allowed(r.cfg->server.status_allow, ""));
    EXPECT_FALSE(address_allowed(r.cfg->server.status_allow, "unknown"));
}

TEST_F(status_allow, addresses_and_blocks) {
    mkdir("htdocs");
    write("server.toml", R"([server]
status_allow = ["127.0.0.1", "10.0.0.0/8", "192.0.2.7", "fd00::/8", "2001:db8::1", "0.0.0.0/0"]
[[site]]
server_name = "a"
document_root = "htdocs"
)");
    auto r = load_main();
    ASSERT_TRUE(r.cfg) << ::testing::PrintToString(errors(r));
    const auto& allow = r.cfg->server.status_allow;
    ASSERT_EQ(allow.size(), 6u);
    EXPECT_EQ(allow[1].text, "10.0.0.0/8");
    EXPECT_EQ(allow[1].bits, 8u);
    EXPECT_EQ(allow[2].bits, 32u);
    EXPECT_TRUE(allow[4].v6);
    EXPECT_EQ(allow[4].bits, 128u);
}

TEST_F(status_allow, matching) {
    std::vector<address_range> allow = {range("10.0.0.0/8"), range("192.0.2.7"), range("fd00::/8"),
                                        range("2001:db8::1"), range("172.16.0.0/12")};
    EXPECT_TRUE(address_allowed(allow, "10.0.0.1"));
    EXPECT_TRUE(address_allowed(allow, "10.255.255.255"));
    EXPECT_FALSE(address_allowed(allow, "11.0.0.1"));
    EXPECT_FALSE(address_allowed(allow, "9.255.255.255"));
    EXPECT_TRUE(address_allowed(allow, "192.0.2.7"));
    EXPECT_FALSE(address_allowed(allow, "192.0.2.8"));
    EXPECT_TRUE(address_allowed(allow, "172.31.255.1"));
    EXPECT_FALSE(address_allowed(allow, "172.32.0.1"));
    EXPECT_TRUE(address_allowed(allow, "fd12:3456::1"));
    EXPECT_FALSE(address_allowed(allow, "fe80::1"));
    EXPECT_TRUE(address_allowed(allow, "2001:db8::1"));
    EXPECT_TRUE(address_allowed(allow, "2001:0db8:0:0::1"));
    EXPECT_FALSE(address_allowed(allow, "2001:db8::2"));
    // IPv4-mapped IPv6 is matched as IPv4; an IPv4 rule never matches IPv6 otherwise
    EXPECT_TRUE(address_allowed(allow, "::ffff:10.1.2.3"));
    EXPECT_FALSE(address_allowed(allow, "::a01:203"));
    EXPECT_FALSE(address_allowed(allow, "10.1.2.3.4"));
    EXPECT_FALSE(address_allowed(allow, "10.1.2.3/8"));
    // /0 admits everything of its family
    std::vector<address_range> any4 = {range("0.0.0.0/0")};
    EXPECT_TRUE(address_allowed(any4, "203.0.113.5"));
    EXPECT_FALSE(address_allowed(any4, "2001:db8::5"));
}

TEST_F(status_allow, errors_name_the_entry) {
    mkdir("htdocs");
    write("server.toml", R"([server]
status_allow = ["10.0.0.0/8", "localhost", "10.0.0.1/8",
  "10.0.0.0/33", "::/129", "10.0.0.0/x", 7, "1.2.3.4/"]
[[site]]
server_name = "a"
document_root = "htdocs"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:3:42: expected a string in 'status_allow', got integer",
                         })) << "a wrong type is reported first, alone";
    write("server.toml", R"([server]
status_allow = ["10.0.0.0/8", "localhost", "10.0.0.1/8",
  "10.0.0.0/33", "::/129", "10.0.0.0/x", "1.2.3.4/"]
[[site]]
server_name = "a"
document_root = "htdocs"
)");
    r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:2:31: status_allow: 'localhost' is not an IPv4 or IPv6 address or CIDR block",
                  "@/server.toml:2:44: status_allow: '10.0.0.1/8' has host bits set beyond /8 (write the network "
                  "address)",
                  "@/server.toml:3:3: status_allow: prefix length /33 is longer than 32 bits in '10.0.0.0/33'",
                  "@/server.toml:3:18: status_allow: prefix length /129 is longer than 128 bits in '::/129'",
                  "@/server.toml:3:28: status_allow: invalid prefix length 'x' in '10.0.0.0/x'",
                  "@/server.toml:3:42: status_allow: invalid prefix length '' in '1.2.3.4/'",
              }));
    write("server.toml", "[server]\nstatus_allow = \"10.0.0.0/8\"\n");
    r = load_main();
    EXPECT_EQ(errors(r), (strings{"@/server.toml:2:16: expected an array of strings for 'status_allow', got string"}));
}

}  // namespace
}  // namespace subhttpd::conf::testing

#pragma once
// address_range: one entry of an address allow-list — an IPv4 or IPv6 address
// ("10.1.2.3", "::1") or a CIDR block ("10.0.0.0/8", "fd00::/8") — parsed once
// when the config loads ([server] status_allow) and matched against a client
// address as text. Pure; any thread.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace subhttpd::conf {

struct address_range {
    bool v6 = false;
    std::array<unsigned char, 16> net{};  // the first 4 bytes for IPv4
    unsigned bits = 0;                    // prefix length: 32 / 128 for one address
    std::string text;                     // as written

    // `ip` as text ("10.1.2.3", "::1"); an IPv4-mapped IPv6 address matches as IPv4.
    bool contains(std::string_view ip) const;
};

// "" on success, else why `text` is not an address or CIDR block (host bits set
// beyond the prefix are refused: "10.0.0.1/8" is most likely a typo).
std::string parse_address_range(std::string_view text, address_range& out);

// True when `ip` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z).
bool is_loopback(std::string_view ip);

// Loopback, or inside one of `allow`.
bool address_allowed(const std::vector<address_range>& allow, std::string_view ip);

}  // namespace subhttpd::conf

#include "conf/address_range.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace subhttpd::conf {
namespace {

// Parses an address; IPv4-mapped IPv6 comes back as IPv4.
bool parse_ip(std::string_view text, bool& v6, unsigned char (&bytes)[16]) {
    if (text.empty() || text.size() > 64) {
        return false;
    }
    char buf[65];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    std::memset(bytes, 0, sizeof bytes);
    if (inet_pton(AF_INET, buf, bytes) == 1) {
        v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, buf, bytes) != 1) {
        return false;
    }
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, mapped, 12) == 0) {
        std::memmove(bytes, bytes + 12, 4);
        std::memset(bytes + 4, 0, 12);
        v6 = false;
        return true;
    }
    v6 = true;
    return true;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, unsigned bits) {
    unsigned full = bits / 8;
    if (std::memcmp(a, b, full) != 0) {
        return false;
    }
    unsigned rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

std::string parse_address_range(std::string_view text, address_range& out) {
    out = address_range{};
    out.text = std::string(text);
    std::string_view addr = text;
    std::optional<unsigned> bits;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addr = text.substr(0, slash);
        std::string_view len = text.substr(slash + 1);
        unsigned n = 0;
        auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
        if (len.empty() || ec != std::errc() || end != len.data() + len.size()) {
            return "invalid prefix length '" + std::string(len) + "' in '" + std::string(text) + "'";
        }
        bits = n;
    }
    unsigned char bytes[16];
    bool v6 = false;
    if (!parse_ip(addr, v6, bytes)) {
        return "'" + std::string(text) + "' is not an IPv4 or IPv6 address or CIDR block";
    }
    unsigned max = v6 ? 128 : 32;
    if (bits && *bits > max) {
        return "prefix length /" + std::to_string(*bits) + " is longer than " + std::to_string(max) + " bits in '" +
               std::string(text) + "'";
    }
    out.v6 = v6;
    out.bits = bits.value_or(max);
    std::memcpy(out.net.data(), bytes, 16);
    // Host bits beyond the prefix must be zero: "10.0.0.1/8" is refused.
    for (unsigned b = out.bits; b < max; ++b) {
        if ((bytes[b / 8] >> (7 - b % 8)) & 1) {
            return "'" + std::string(text) + "' has host bits set beyond /" + std::to_string(out.bits) +
                   " (write the network address)";
        }
    }
    return "";
}

bool address_range::contains(std::string_view ip) const {
    unsigned char bytes[16];
    bool is_v6 = false;
    if (!parse_ip(ip, is_v6, bytes) || is_v6 != v6) {
        return false;
    }
    return prefix_equal(bytes, net.data(), bits);
}

bool is_loopback(std::string_view ip) {
    unsigned char bytes[16];
    bool v6 = false;
    if (!parse_ip(ip, v6, bytes)) {
        return false;
    }
    if (!v6) {
        return bytes[0] == 127;
    }
    static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(bytes, one, 16) == 0;
}

bool address_allowed(const std::vector<address_range>& allow, std::string_view ip) {
    if (is_loopback(ip)) {
        return true;
    }
    for (const auto& r : allow) {
        if (r.contains(ip)) {
            return true;
        }
    }
    return false;
}

}  // namespace subhttpd::conf

// Host header -> name and port; see host.h for the rules.
#include "common/host.h"

#include <algorithm>

#include "common/text.h"

namespace subhttpd::host {

host_port split(std::string_view header) {
    std::string_view h = text::trim(header);
    host_port out{h, {}};
    if (!h.empty() && h.front() == '[') {
        const auto close = h.find(']');
        if (close != std::string_view::npos) {
            out.name = h.substr(0, close + 1);
            if (close + 1 < h.size() && h[close + 1] == ':') {
                out.port = h.substr(close + 2);
            }
        }
    } else if (std::count(h.begin(), h.end(), ':') == 1) {
        // Exactly one colon is a port; more is a bare IPv6 address, kept whole.
        const auto colon = h.find(':');
        out.name = h.substr(0, colon);
        out.port = h.substr(colon + 1);
    }
    return out;
}

std::string key(std::string_view header) {
    std::string_view name = split(header).name;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }
    std::string k = text::to_lower(name);
    if (!k.empty() && k.back() == '.') {
        k.pop_back();
    }
    return k;
}

std::string server_port(std::string_view header, unsigned local_port, bool https) {
    std::string_view port = split(header).port;
    if (!port.empty()) {
        return std::string(port);
    }
    if (local_port != 0) {
        return std::to_string(local_port);
    }
    return https ? "443" : "80";
}

}  // namespace subhttpd::host

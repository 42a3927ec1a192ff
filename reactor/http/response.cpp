#include "reactor/http/response.h"

#include <strings.h>

#include <charconv>

#include "common/http_status.h"
#include "reactor/http/clock.h"

namespace subhttpd::reactor::http {
namespace {

bool is_tchar(unsigned char c) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           extra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Does a Connection value hold the token `close`?
bool has_close_token(std::string_view v) {
    while (!v.empty()) {
        auto comma = v.find(',');
        std::string_view t = v.substr(0, comma);
        while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) {
            t.remove_prefix(1);
        }
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) {
            t.remove_suffix(1);
        }
        if (iequals(t, "close")) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        v.remove_prefix(comma + 1);
    }
    return false;
}

void append_number(std::string& out, std::uint64_t n) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

}  // namespace

bool field_ok(std::string_view name, std::string_view value) {
    if (name.empty()) {
        return false;
    }
    for (unsigned char c : name) {
        if (!is_tchar(c)) {
            return false;
        }
    }
    for (unsigned char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') {
            return false;
        }
    }
    return true;
}

std::int64_t declared_length(const interp::header_list& headers) {
    for (const auto& [k, v] : headers) {
        if (iequals(k, "Content-Length")) {
            std::uint64_t n = 0;
            auto r = std::from_chars(v.data(), v.data() + v.size(), n);
            if (r.ec == std::errc() && r.ptr == v.data() + v.size() && !v.empty() &&
                n < (std::uint64_t{1} << 62)) {
                return static_cast<std::int64_t>(n);
            }
            return -1;
        }
    }
    return -1;
}

int build_head(const head_spec& spec, std::string& out, bool* app_close) {
    int refused = 0;
    out.append("HTTP/1.1 ", 9);
    append_number(out, static_cast<std::uint64_t>(spec.status));
    out.push_back(' ');
    std::string_view reason = spec.reason.empty() ? http_reason(spec.status) : spec.reason;
    bool reason_ok = true;
    for (unsigned char c : reason) {
        if (c == '\r' || c == '\n' || c == '\0') {
            reason_ok = false;
        }
    }
    out.append(reason_ok ? reason : http_reason(spec.status));
    out.append("\r\nDate: ", 8);
    out.append(http_date_now());
    out.append("\r\n", 2);
    bool keep_alive = spec.keep_alive;
    if (spec.headers != nullptr) {
        for (const auto& [k, v] : *spec.headers) {
            if (!field_ok(k, v)) {
                ++refused;
                continue;
            }
            // Framing and hop-by-hop fields are the server's to decide.
            switch (k.size()) {
                case 4:
                    if (iequals(k, "Date")) {
                        continue;
                    }
                    break;
                case 10:
                    if (iequals(k, "Connection")) {
                        if (has_close_token(v)) {
                            keep_alive = false;
                            if (app_close != nullptr) {
                                *app_close = true;
                            }
                        }
                        continue;
                    }
                    if (iequals(k, "Keep-Alive")) {
                        continue;
                    }
                    break;
                case 14:
                    if (iequals(k, "Content-Length")) {
                        continue;
                    }
                    break;
                case 17:
                    if (iequals(k, "Transfer-Encoding")) {
                        continue;
                    }
                    break;
                default:
                    break;
            }
            out.append(k);
            out.append(": ", 2);
            out.append(v);
            out.append("\r\n", 2);
        }
    }
    switch (spec.frame) {
        case framing::none:
            if (spec.announce_length) {
                out.append("Content-Length: ", 16);
                append_number(out, spec.length);
                out.append("\r\n", 2);
            }
            break;
        case framing::length:
            out.append("Content-Length: ", 16);
            append_number(out, spec.length);
            out.append("\r\n", 2);
            break;
        case framing::chunked:
            out.append("Transfer-Encoding: chunked\r\n", 28);
            break;
        case framing::close:
            keep_alive = false;
            break;
    }
    if (!keep_alive) {
        out.append("Connection: close\r\n", 19);
    } else if (spec.http10) {
        out.append("Connection: keep-alive\r\n", 24);
    }
    out.append("\r\n", 2);
    return refused;
}

}  // namespace subhttpd::reactor::http

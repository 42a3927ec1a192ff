#include "reactor/access_log.h"

#include <cstdio>
#include <ctime>

namespace subhttpd::reactor {
namespace {

using std::chrono::system_clock;

struct utc_parts {
    int year, month, day, hour, minute, second, millis;
};

utc_parts split(system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    tm g{};
    gmtime_r(&secs, &g);  // UTC: independent of TZ and of tzset()
    return {g.tm_year + 1900, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec,
            static_cast<int>(ms - static_cast<long long>(secs) * 1000)};
}

constexpr const char* month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Logged text never carries a byte that could forge a line or a field: '"'
// and '\' are backslashed, control and non-ASCII bytes written as their value:
// \xhh (Apache's escaping) or, in JSON, \u00hh.
void append_escaped_with(std::string& out, const std::string& s, bool json) {
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, json ? "\\u%04x" : "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
}

void append_escaped(std::string& out, const std::string& s) {
    append_escaped_with(out, s, false);
}

void append_or_dash(std::string& out, const std::string& s) {
    if (s.empty()) {
        out += '-';
    } else {
        append_escaped(out, s);
    }
}

// A JSON string; bytes that are not valid UTF-8 never reach the log raw:
// everything outside printable ASCII is written as \u00XX of its byte value.
void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    append_escaped_with(out, s, true);
    out += '"';
}

void append_json_field(std::string& out, const char* key, const std::string& value, bool null_when_empty) {
    out += ",\"";
    out += key;
    out += "\":";
    if (value.empty() && null_when_empty) {
        out += "null";
    } else {
        append_json_string(out, value);
    }
}

std::string json_line(const access_fields& f) {
    std::string out = "{\"time\":\"" + iso_time(f.time) + "\"";
    append_json_field(out, "remote_ip", f.remote_ip, false);
    append_json_field(out, "user", f.user, true);
    append_json_field(out, "method", f.method, false);
    append_json_field(out, "target", f.target, false);
    append_json_field(out, "protocol", f.protocol, false);
    out += ",\"status\":" + std::to_string(f.status);
    out += ",\"bytes\":" + std::to_string(f.bytes);
    append_json_field(out, "referer", f.referer, true);
    append_json_field(out, "user_agent", f.user_agent, true);
    append_json_field(out, "site", f.site, true);
    append_json_field(out, "interpreter", f.interpreter, true);
    out += ",\"micros\":" + std::to_string(f.micros);
    out += '}';
    return out;
}

}  // namespace

std::string apache_time(system_clock::time_point t) {
    utc_parts p = split(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d +0000", p.day, month_names[p.month], p.year, p.hour,
                  p.minute, p.second);
    return buf;
}

std::string iso_time(system_clock::time_point t) {
    utc_parts p = split(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", p.year, p.month + 1, p.day, p.hour,
                  p.minute, p.second, p.millis);
    return buf;
}

std::string format_access_line(const access_fields& f, access_format fmt) {
    if (fmt == access_format::json) {
        return json_line(f);
    }
    // %h %l %u %t "%r" %>s %b
    std::string out;
    out.reserve(160 + f.target.size() + f.user_agent.size());
    append_or_dash(out, f.remote_ip);
    out += " - ";
    append_or_dash(out, f.user);
    out += " [" + apache_time(f.time) + "] \"";
    append_escaped(out, f.method);
    out += ' ';
    append_escaped(out, f.target);
    out += ' ';
    append_escaped(out, f.protocol);
    out += "\" " + std::to_string(f.status) + ' ' + std::to_string(f.bytes);
    if (fmt == access_format::combined) {
        out += " \"";
        append_or_dash(out, f.referer);
        out += "\" \"";
        append_or_dash(out, f.user_agent);
        out += '"';
    }
    out += ' ';
    append_or_dash(out, f.interpreter);
    out += ' ' + std::to_string(f.micros) + "us";
    return out;
}

}  // namespace subhttpd::reactor

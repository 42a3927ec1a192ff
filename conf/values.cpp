// Scalar value syntax (sizes, durations, listen addresses) and the typed,
// error-collecting reads of toml11 nodes that the loader is built from.
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>

#include "common/text.h"
#include "conf/reader.h"

namespace subhttpd::conf {

namespace {

using text::trim;

// Splits "1.5MB" into a non-negative decimal number and its unit ("MB").
// Only digits and at most one '.': no sign, exponent, "inf" or "nan".
bool split_number(std::string_view text, double& number, std::string_view& unit) {
    text = trim(text);
    std::size_t i = 0;
    bool digits = false;
    bool dot = false;
    while (i < text.size()) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
        ++i;
    }
    if (!digits) {
        return false;
    }
    auto num = text.substr(0, i);
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), number);
    if (ec != std::errc() || end != num.data() + num.size() || !std::isfinite(number)) {
        return false;
    }
    unit = trim(text.substr(i));
    return true;
}

bool parse_port(std::string_view s, std::uint16_t& port) {
    if (s.empty() || s.size() > 5) {
        return false;
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

bool valid_host(std::string_view h) {
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool valid_ipv6(std::string_view h) {
    if (h.empty()) {
        return false;
    }
    auto zone = h.find('%');  // "fe80::1%eth0": the zone is an interface name
    if (zone != std::string_view::npos) {
        if (zone + 1 == h.size() || !valid_host(h.substr(zone + 1))) {
            return false;
        }
        h = h.substr(0, zone);
    }
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return h.find(':') != std::string_view::npos;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    double number = 0;
    std::string_view unit;
    if (!split_number(text, number, unit)) {
        return std::nullopt;
    }
    std::string u = text::to_lower(unit);
    double scale = 0;
    if (u.empty() || u == "b") {
        scale = 1;
    } else if (u == "k" || u == "kb" || u == "kib") {
        scale = 1024.0;
    } else if (u == "m" || u == "mb" || u == "mib") {
        scale = 1024.0 * 1024;
    } else if (u == "g" || u == "gb" || u == "gib") {
        scale = 1024.0 * 1024 * 1024;
    } else if (u == "t" || u == "tb" || u == "tib") {
        scale = 1024.0 * 1024 * 1024 * 1024;
    } else {
        return std::nullopt;
    }
    // Plain integers go through integer parsing so that large exact byte counts
    // are not rounded by the double.
    if (scale == 1 && text.find('.') == std::string_view::npos) {
        auto digits = trim(text);
        if (!u.empty()) {
            digits = trim(digits.substr(0, digits.size() - 1));
        }
        std::uint64_t exact = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exact);
        if (ec != std::errc() || end != digits.data() + digits.size()) {
            return std::nullopt;
        }
        return exact;
    }
    double bytes = std::floor(number * scale);
    if (bytes >= 18446744073709551616.0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(bytes);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    double number = 0;
    std::string_view unit;
    if (!split_number(text, number, unit)) {
        return std::nullopt;
    }
    std::string u = text::to_lower(unit);
    double ms_per_unit = 0;
    if (u.empty() || u == "s") {
        ms_per_unit = 1000;
    } else if (u == "ms") {
        ms_per_unit = 1;
    } else if (u == "m" || u == "min") {
        ms_per_unit = 60.0 * 1000;
    } else if (u == "h") {
        ms_per_unit = 3600.0 * 1000;
    } else {
        return std::nullopt;
    }
    double ms = std::round(number * ms_per_unit);
    // Far beyond any sensible timeout, and beyond what chrono arithmetic elsewhere
    // can add to a time_point without overflowing.
    if (ms > 1e15) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::optional<listen_addr> parse_listen(std::string_view text) {
    listen_addr a;
    a.text = std::string(text);
    if (text.starts_with("unix:")) {
        auto path = text.substr(5);
        if (path.empty()) {
            return std::nullopt;
        }
        a.type = listen_addr::kind::unix_socket;
        a.path = std::string(path);
        return a;
    }
    std::string_view host;
    std::string_view port;
    if (text.starts_with("[")) {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (!valid_ipv6(host)) {
            return std::nullopt;
        }
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (!valid_host(host)) {  // also rejects unbracketed IPv6 such as "::1:80"
            return std::nullopt;
        }
        if (host.empty()) {
            host = "0.0.0.0";
        }
    }
    if (!parse_port(port, a.port)) {
        return std::nullopt;
    }
    a.host = std::string(host);
    return a;
}

namespace detail {

source_loc loc_of(const toml::value& v) {
    auto l = v.location();
    return {l.file_name(), static_cast<int>(l.line()), static_cast<int>(l.column())};
}

std::string type_name(const toml::value& v) {
    switch (v.type()) {
        case toml::value_t::empty: return "nothing";
        case toml::value_t::boolean: return "boolean";
        case toml::value_t::integer: return "integer";
        case toml::value_t::floating: return "float";
        case toml::value_t::string: return "string";
        case toml::value_t::offset_datetime:
        case toml::value_t::local_datetime:
        case toml::value_t::local_date:
        case toml::value_t::local_time: return "date/time";
        case toml::value_t::array: return "array";
        case toml::value_t::table: return "table";
    }
    return "value";
}

void reporter::at(const source_loc& where, std::string message) {
    errors_.push_back({where, std::move(message)});
}

void check_keys(reporter& rep, const toml::value& table,
                std::initializer_list<std::string_view> allowed, std::string_view context) {
    for (const auto& [key, value] : table.as_table()) {
        bool known = false;
        for (auto a : allowed) {
            if (a == key) {
                known = true;
                break;
            }
        }
        if (!known) {
            rep.at(value, "unknown key '" + key + "' in " + std::string(context));
        }
    }
}

const toml::value* find_key(const toml::value& table, std::string_view key) {
    const auto& t = table.as_table();
    auto it = t.find(std::string(key));
    return it == t.end() ? nullptr : &it->second;
}

static std::string expected(std::string_view what, std::string_view key, const toml::value& v) {
    return "expected " + std::string(what) + " for '" + std::string(key) + "', got " +
           type_name(v);
}

std::optional<std::string> get_string(reporter& rep, const toml::value& v, std::string_view key) {
    if (!v.is_string()) {
        rep.at(v, expected("a string", key, v));
        return std::nullopt;
    }
    return v.as_string().str;
}

std::optional<std::string> get_nonempty_string(reporter& rep, const toml::value& v,
                                               std::string_view key) {
    auto s = get_string(rep, v, key);
    if (s && s->empty()) {
        rep.at(v, "'" + std::string(key) + "' must not be empty");
        return std::nullopt;
    }
    return s;
}

bool get_autoreload(reporter& rep, const toml::value& v, bool& on, bool& app) {
    if (v.is_boolean()) {
        on = v.as_boolean();
        app = false;
        return true;
    }
    if (v.is_string() && v.as_string().str == "app") {
        on = true;
        app = true;
        return true;
    }
    rep.at(v, "'autoreload' must be true, false or \"app\", got " +
                  (v.is_string() ? "\"" + v.as_string().str + "\"" : type_name(v)));
    return false;
}

std::optional<bool> get_bool(reporter& rep, const toml::value& v, std::string_view key) {
    if (!v.is_boolean()) {
        rep.at(v, expected("a boolean (true or false)", key, v));
        return std::nullopt;
    }
    return v.as_boolean();
}

std::optional<std::int64_t> get_int(reporter& rep, const toml::value& v, std::string_view key,
                                    std::int64_t min, std::int64_t max) {
    if (!v.is_integer()) {
        rep.at(v, expected("an integer", key, v));
        return std::nullopt;
    }
    std::int64_t n = v.as_integer();
    if (n < min || n > max) {
        std::string range = max == std::numeric_limits<std::int64_t>::max()
                                ? "at least " + std::to_string(min)
                                : "between " + std::to_string(min) + " and " + std::to_string(max);
        rep.at(v, "'" + std::string(key) + "' must be " + range + ", got " + std::to_string(n));
        return std::nullopt;
    }
    return n;
}

std::optional<std::vector<std::string>> get_string_list(reporter& rep, const toml::value& v,
                                                        std::string_view key, bool allow_single) {
    if (allow_single && v.is_string()) {
        return std::vector<std::string>{v.as_string().str};
    }
    if (!v.is_array()) {
        rep.at(v, expected(allow_single ? "a string or an array of strings" : "an array of strings",
                           key, v));
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& e : v.as_array()) {
        if (!e.is_string()) {
            rep.at(e, "expected a string in '" + std::string(key) + "', got " + type_name(e));
            ok = false;
            continue;
        }
        out.push_back(e.as_string().str);
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::uint64_t> get_size(reporter& rep, const toml::value& v, std::string_view key) {
    if (v.is_integer()) {
        if (v.as_integer() < 0) {
            rep.at(v, "'" + std::string(key) + "' must not be negative");
            return std::nullopt;
        }
        return static_cast<std::uint64_t>(v.as_integer());
    }
    if (v.is_string()) {
        auto n = parse_size(v.as_string().str);
        if (!n) {
            rep.at(v, "invalid size '" + v.as_string().str + "' for '" + std::string(key) +
                          "' (expected bytes or a number with K, KB, KiB, M, MB, MiB, G, GB, GiB)");
        }
        return n;
    }
    rep.at(v, expected("a size (integer bytes or a string like \"64KB\")", key, v));
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> get_duration(reporter& rep, const toml::value& v,
                                                      std::string_view key) {
    if (v.is_integer() || v.is_floating()) {
        double seconds = v.is_integer() ? static_cast<double>(v.as_integer()) : v.as_floating();
        if (!std::isfinite(seconds) || seconds < 0) {
            rep.at(v, "'" + std::string(key) + "' must be a non-negative number of seconds");
            return std::nullopt;
        }
        if (seconds > 1e12) {
            rep.at(v, "'" + std::string(key) + "' is too long");
            return std::nullopt;
        }
        return std::chrono::milliseconds(static_cast<std::int64_t>(std::round(seconds * 1000)));
    }
    if (v.is_string()) {
        auto d = parse_duration(v.as_string().str);
        if (!d) {
            rep.at(v, "invalid duration '" + v.as_string().str + "' for '" + std::string(key) +
                          "' (expected seconds, or a number with ms, s, m or h)");
        }
        return d;
    }
    rep.at(v, expected("a duration (seconds, or a string like \"250ms\")", key, v));
    return std::nullopt;
}

std::optional<std::map<std::string, std::string>> get_string_table(reporter& rep,
                                                                  const toml::value& v,
                                                                  std::string_view key) {
    if (!v.is_table()) {
        rep.at(v, expected("a table", key, v));
        return std::nullopt;
    }
    std::map<std::string, std::string> out;
    bool ok = true;
    for (const auto& [k, e] : v.as_table()) {
        if (e.is_string()) {
            out[k] = e.as_string().str;
        } else if (e.is_integer()) {
            out[k] = std::to_string(e.as_integer());
        } else if (e.is_boolean()) {
            out[k] = e.as_boolean() ? "true" : "false";
        } else if (e.is_floating()) {
            char buf[64];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, e.as_floating());
            out[k] = ec == std::errc() ? std::string(buf, end) : std::string();
        } else {
            rep.at(e, "expected a string for '" + std::string(key) + "." + k + "', got " +
                          type_name(e));
            ok = false;
        }
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

std::string resolve_path(const std::string& base_dir, const std::string& p) {
    namespace fs = std::filesystem;
    fs::path path(p);
    if (path.is_relative()) {
        path = fs::path(base_dir) / path;
    }
    std::string s = path.lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') {
        s.pop_back();
    }
    return s;
}

std::string parent_dir(const std::string& absolute_file) {
    auto parent = std::filesystem::path(absolute_file).parent_path().string();
    return parent.empty() ? "/" : parent;
}

}  // namespace detail
}  // namespace subhttpd::conf

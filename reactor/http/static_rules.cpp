#include "reactor/http/static_rules.h"

#include "reactor/http/clock.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

#include "common/text.h"

namespace subhttpd::reactor::http {
namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

using text::iequals;
using text::is_ows;
using text::trim;
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// 1*DIGIT, saturating at u64_max (a huge first-pos is valid, just unsatisfiable).
// Consumes the digits from `s`; nullopt when there is none.
std::optional<std::uint64_t> take_number(std::string_view& s) {
    std::size_t i = 0;
    std::uint64_t n = 0;
    while (i < s.size() && is_digit(s[i])) {
        auto d = static_cast<std::uint64_t>(s[i] - '0');
        n = n > (u64_max - d) / 10 ? u64_max : n * 10 + d;
        ++i;
    }
    if (i == 0) {
        return std::nullopt;
    }
    s.remove_prefix(i);
    return n;
}

// One range-spec (RFC 9110 14.1.1), without surrounding OWS.
enum class spec_result : std::uint8_t { invalid, unsatisfiable, satisfiable };

spec_result parse_spec(std::string_view spec, std::uint64_t size, byte_range& out) {
    if (spec.front() == '-') {  // suffix-range
        spec.remove_prefix(1);
        auto n = take_number(spec);
        if (!n || !spec.empty()) {
            return spec_result::invalid;
        }
        if (*n == 0) {
            return spec_result::unsatisfiable;
        }
        out.first = *n >= size ? 0 : size - *n;
        out.last = size - 1;
        return spec_result::satisfiable;
    }
    auto first = take_number(spec);
    if (!first || spec.empty() || spec.front() != '-') {
        return spec_result::invalid;
    }
    spec.remove_prefix(1);
    std::uint64_t last = u64_max;
    if (!spec.empty()) {
        auto l = take_number(spec);
        if (!l || !spec.empty() || *l < *first) {
            return spec_result::invalid;
        }
        last = *l;
    }
    if (*first >= size) {
        return spec_result::unsatisfiable;
    }
    out.first = *first;
    out.last = last >= size ? size - 1 : last;
    return spec_result::satisfiable;
}

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    auto yoe = static_cast<unsigned>(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap_year(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> day_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_day_names = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                            "Thursday", "Friday", "Saturday"};

// A cursor over a date text: each take_* consumes exactly what the grammar says.
struct date_reader {
    std::string_view s;

    bool literal(std::string_view lit) {
        if (s.substr(0, lit.size()) != lit) {
            return false;
        }
        s.remove_prefix(lit.size());
        return true;
    }
    bool digits(std::size_t n, unsigned& out) {
        if (s.size() < n) {
            return false;
        }
        unsigned v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!is_digit(s[i])) {
                return false;
            }
            v = v * 10 + static_cast<unsigned>(s[i] - '0');
        }
        s.remove_prefix(n);
        out = v;
        return true;
    }
    bool month(unsigned& out) {
        for (std::size_t i = 0; i < month_names.size(); ++i) {
            if (literal(month_names[i])) {
                out = static_cast<unsigned>(i + 1);
                return true;
            }
        }
        return false;
    }
    template <std::size_t N>
    bool one_of(const std::array<std::string_view, N>& names) {
        for (auto n : names) {
            if (literal(n)) {
                return true;
            }
        }
        return false;
    }
    // time-of-day = hour ":" minute ":" second
    bool time_of_day(unsigned& h, unsigned& m, unsigned& sec) {
        return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, sec);
    }
};

std::optional<std::int64_t> to_epoch(std::int64_t year, unsigned mon, unsigned day, unsigned h, unsigned m,
                                     unsigned sec) {
    static constexpr std::array<unsigned, 12> mdays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned dim = mdays[mon - 1] + (mon == 2 && leap_year(year) ? 1 : 0);
    if (day < 1 || day > dim || h > 23 || m > 59 || sec > 60) {
        return std::nullopt;
    }
    if (sec == 60) {
        sec = 59;  // a leap second names the last second of its minute
    }
    return days_from_civil(year, mon, day) * 86400 + h * 3600 + m * 60 + sec;
}

std::optional<std::int64_t> imf_fixdate(std::string_view v) {
    // Sun, 06 Nov 1994 08:49:37 GMT
    date_reader r{v};
    unsigned day = 0, mon = 0, year = 0, h = 0, m = 0, s = 0;
    if (!r.one_of(day_names) || !r.literal(", ") || !r.digits(2, day) || !r.literal(" ") || !r.month(mon) ||
        !r.literal(" ") || !r.digits(4, year) || !r.literal(" ") || !r.time_of_day(h, m, s) ||
        !r.literal(" GMT") || !r.s.empty()) {
        return std::nullopt;
    }
    return to_epoch(year, mon, day, h, m, s);
}

std::optional<std::int64_t> rfc850_date(std::string_view v) {
    // Sunday, 06-Nov-94 08:49:37 GMT; two-digit years below 70 are 20xx.
    date_reader r{v};
    unsigned day = 0, mon = 0, yy = 0, h = 0, m = 0, s = 0;
    if (!r.one_of(long_day_names) || !r.literal(", ") || !r.digits(2, day) || !r.literal("-") || !r.month(mon) ||
        !r.literal("-") || !r.digits(2, yy) || !r.literal(" ") || !r.time_of_day(h, m, s) ||
        !r.literal(" GMT") || !r.s.empty()) {
        return std::nullopt;
    }
    return to_epoch(yy < 70 ? 2000 + yy : 1900 + yy, mon, day, h, m, s);
}

std::optional<std::int64_t> asctime_date(std::string_view v) {
    // Sun Nov  6 08:49:37 1994
    date_reader r{v};
    unsigned day = 0, mon = 0, year = 0, h = 0, m = 0, s = 0;
    if (!r.one_of(day_names) || !r.literal(" ") || !r.month(mon) || !r.literal(" ")) {
        return std::nullopt;
    }
    if (!(r.literal(" ") ? r.digits(1, day) : r.digits(2, day))) {
        return std::nullopt;
    }
    if (!r.literal(" ") || !r.time_of_day(h, m, s) || !r.literal(" ") || !r.digits(4, year) || !r.s.empty()) {
        return std::nullopt;
    }
    return to_epoch(year, mon, day, h, m, s);
}

void append_u64(std::string& out, std::uint64_t n) { out += std::to_string(n); }

}  // namespace

range_set parse_range(std::string_view value, std::uint64_t size, std::size_t limit) {
    range_set none;
    value = trim(value);
    auto eq = value.find('=');
    if (eq == std::string_view::npos || !iequals(value.substr(0, eq), "bytes") || size == 0) {
        return none;
    }
    std::string_view rest = value.substr(eq + 1);
    range_set out;
    bool any_spec = false;
    std::uint64_t total = 0;
    while (true) {
        auto comma = rest.find(',');
        std::string_view spec = trim(rest.substr(0, comma));
        if (!spec.empty()) {  // list rule: empty elements are allowed and skipped
            any_spec = true;
            byte_range r;
            switch (parse_spec(spec, size, r)) {
                case spec_result::invalid:
                    return none;
                case spec_result::unsatisfiable:
                    break;
                case spec_result::satisfiable:
                    total += r.length();
                    if (out.ranges.size() == limit || total > size) {
                        return none;
                    }
                    out.ranges.push_back(r);
                    break;
            }
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    if (!any_spec) {
        return none;
    }
    out.kind = out.ranges.empty() ? range_kind::unsatisfiable : range_kind::satisfiable;
    return out;
}

std::string make_etag(std::int64_t mtime, std::uint64_t size) {
    // "<mtime hex>-<size hex>", without printf: this runs for every file answer.
    char buf[48];
    char* p = buf;
    *p++ = '"';
    p = std::to_chars(p, buf + sizeof buf, static_cast<unsigned long long>(mtime), 16).ptr;
    *p++ = '-';
    p = std::to_chars(p, buf + sizeof buf, static_cast<unsigned long long>(size), 16).ptr;
    *p++ = '"';
    return std::string(buf, static_cast<std::size_t>(p - buf));
}

bool etag_list_matches(std::string_view field, std::string_view etag, bool weak) {
    field = trim(field);
    if (field == "*") {
        return true;
    }
    bool ours_weak = etag.substr(0, 2) == "W/";
    std::string_view ours = ours_weak ? etag.substr(2) : etag;
    if (!weak && ours_weak) {
        return false;  // a weak validator never passes strong comparison
    }
    std::size_t i = 0;
    while (true) {
        while (i < field.size() && (is_ows(field[i]) || field[i] == ',')) {
            ++i;
        }
        if (i == field.size()) {
            return false;
        }
        bool elem_weak = field.compare(i, 2, "W/") == 0;
        if (elem_weak) {
            i += 2;
        }
        if (i == field.size() || field[i] != '"') {
            return false;
        }
        auto close = field.find('"', i + 1);
        if (close == std::string_view::npos) {
            return false;
        }
        std::string_view opaque = field.substr(i, close + 1 - i);
        i = close + 1;
        while (i < field.size() && is_ows(field[i])) {
            ++i;
        }
        if (i < field.size() && field[i] != ',') {
            return false;
        }
        if (opaque == ours && (weak || !elem_weak)) {
            return true;
        }
    }
}

bool if_range_matches(std::string_view value, std::string_view etag, std::int64_t mtime) {
    value = trim(value);
    if (value.substr(0, 2) == "W/") {
        return false;
    }
    if (!value.empty() && value.front() == '"') {
        return etag.substr(0, 2) != "W/" && value == etag;
    }
    auto t = parse_http_date(value);
    return t && *t == mtime;
}

std::optional<std::int64_t> parse_http_date(std::string_view value) {
    value = trim(value);
    if (auto t = imf_fixdate(value)) {
        return t;
    }
    if (auto t = rfc850_date(value)) {
        return t;
    }
    return asctime_date(value);
}

std::string format_http_date(std::int64_t t) {
    char buf[30];
    http::format_http_date(static_cast<time_t>(t), buf);
    return std::string(buf, 29);
}

file_plan plan_file_response(const file_conditions& c, const file_validators& v) {
    // RFC 9110 13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match,
    // else If-Modified-Since; then If-Range with Range.
    if (c.if_match) {
        if (!etag_list_matches(*c.if_match, v.etag, false)) {
            return {412, {}};
        }
    } else if (c.if_unmodified_since) {
        auto t = parse_http_date(*c.if_unmodified_since);
        if (t && v.mtime > *t) {
            return {412, {}};
        }
    }
    if (c.if_none_match) {
        if (etag_list_matches(*c.if_none_match, v.etag, true)) {
            return {304, {}};
        }
    } else if (c.if_modified_since) {
        auto t = parse_http_date(*c.if_modified_since);
        if (t && v.mtime <= *t) {
            return {304, {}};
        }
    }
    if (!c.range || (c.if_range && !if_range_matches(*c.if_range, v.etag, v.mtime))) {
        return {200, {}};
    }
    range_set rs = parse_range(*c.range, v.size);
    switch (rs.kind) {
        case range_kind::ignore:
            return {200, {}};
        case range_kind::unsatisfiable:
            return {416, {}};
        case range_kind::satisfiable:
            break;
    }
    return {206, std::move(rs.ranges)};
}

std::string content_range(const byte_range& r, std::uint64_t size) {
    std::string out = "bytes ";
    append_u64(out, r.first);
    out += '-';
    append_u64(out, r.last);
    out += '/';
    append_u64(out, size);
    return out;
}

std::string unsatisfied_range(std::uint64_t size) {
    std::string out = "bytes */";
    append_u64(out, size);
    return out;
}

std::string multipart_content_type(std::string_view boundary) {
    std::string out = "multipart/byteranges; boundary=";
    out += boundary;
    return out;
}

std::string multipart_part_head(std::string_view boundary, std::string_view content_type, const byte_range& r,
                                std::uint64_t size) {
    std::string out = "\r\n--";
    out += boundary;
    if (!content_type.empty()) {
        out += "\r\nContent-Type: ";
        out += content_type;
    }
    out += "\r\nContent-Range: ";
    out += content_range(r, size);
    out += "\r\n\r\n";
    return out;
}

std::string multipart_tail(std::string_view boundary) {
    std::string out = "\r\n--";
    out += boundary;
    out += "--\r\n";
    return out;
}

}  // namespace subhttpd::reactor::http

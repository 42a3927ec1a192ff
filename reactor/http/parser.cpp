// parser: RFC 9112 request heads and chunked bodies, strictly. One pass over
// the bytes with table lookups (the shape of nginx's ngx_http_parse.c); the
// head is re-parsed from the start when more bytes arrive, so there is no
// state to keep between calls. Nothing is allocated but the headers vector.
#include "reactor/http/parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace subhttpd::reactor::http {

namespace {

using table = std::array<bool, 256>;

constexpr table make_table(bool (*pred)(unsigned char)) {
    table t{};
    for (unsigned c = 0; c < 256; ++c) t[c] = pred(static_cast<unsigned char>(c));
    return t;
}

constexpr bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr bool is_one_of(unsigned char c, const char* set) {
    for (; *set; ++set)
        if (c == static_cast<unsigned char>(*set)) return true;
    return false;
}

// tchar (RFC 9110 5.6.2).
constexpr table tchar = make_table([](unsigned char c) { return is_alnum(c) || is_one_of(c, "!#$%&'*+-.^_`|~"); });
// Request-target bytes: visible ASCII; the URI grammar is the router's business.
constexpr table target_char = make_table([](unsigned char c) { return c >= 0x21 && c <= 0x7e; });
// field-value bytes: VCHAR, obs-text, SP and HTAB (OWS is trimmed afterwards).
constexpr table value_char = make_table([](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });
// uri-host [":" port]: reg-name (unreserved, pct-encoded, sub-delims), IP literals.
constexpr table host_char =
    make_table([](unsigned char c) { return is_alnum(c) || is_one_of(c, "-._~%!$&'()*+,;=:[]"); });
// qdtext (RFC 9110 5.6.4) and what may follow a backslash in a quoted-pair.
constexpr table qdtext = make_table([](unsigned char c) {
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
});
constexpr table quoted_pair_char =
    make_table([](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });

constexpr int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::size_t max_empty_lines = 8;         // CRLFs tolerated before the request line
constexpr std::size_t max_chunk_line = 4096;       // a chunk-size line with its extensions
constexpr std::size_t max_trailer_bytes = 65536;   // the whole trailer section

// Eight bytes at a time: true when none of them can stop a scan, i.e. no byte
// below `low`, no DEL and (when `ascii`) no byte >= 0x80. The per-byte table
// loop then finds the exact stop; a false alarm only means the slow path.
template <unsigned char low, bool ascii>
inline bool word_clean(const char* at8) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    std::uint64_t x;
    std::memcpy(&x, at8, 8);
    std::uint64_t below = (x - ones * low) & ~x & highs;
    std::uint64_t del = x ^ (ones * 0x7f);
    del = (del - ones) & ~del & highs;
    return (below | del | (ascii ? x & highs : 0)) == 0;
}

inline unsigned char at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }
inline bool is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

// `lower` is a lowercase literal of tchars; `s` holds tokens or field-value
// bytes, so OR-ing 0x20 folds case and can map no other valid byte onto it.
bool iequals(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if ((at(s, i) | 0x20) != static_cast<unsigned char>(lower[i])) return false;
    return true;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(at(s, 0))) s.remove_prefix(1);
    while (!s.empty() && is_ows(at(s, s.size() - 1))) s.remove_suffix(1);
    return s;
}

bool all_of(std::string_view s, const table& t) {
    for (unsigned char c : s)
        if (!t[c]) return false;
    return true;
}

// Calls f(element) for each OWS-trimmed element of a comma list (empty ones too).
template <class F>
void for_each_element(std::string_view v, F&& f) {
    for (;;) {
        std::size_t comma = v.find(',');
        f(trim_ows(v.substr(0, comma)));
        if (comma == std::string_view::npos) return;
        v.remove_prefix(comma + 1);
    }
}

// Content-Length = 1*DIGIT; a list of identical values is one value (RFC 9110 8.6).
bool parse_content_length(std::string_view v, std::uint64_t& out) {
    bool ok = true, first = true;
    std::uint64_t value = 0;
    for_each_element(v, [&](std::string_view e) {
        if (e.empty()) { ok = false; return; }
        std::uint64_t n = 0;
        for (unsigned char c : e) {
            if (c < '0' || c > '9') { ok = false; return; }
            unsigned d = c - '0';
            if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) { ok = false; return; }
            n = n * 10 + d;
        }
        if (!first && n != value) ok = false;
        value = n;
        first = false;
    });
    out = value;
    return ok;
}

// What the framing fields said, gathered while the fields are read.
struct framing {
    unsigned host_fields = 0;
    bool te_present = false;
    bool te_bad = false;          // an element that is not a token
    unsigned te_codings = 0;
    unsigned te_chunked = 0;
    bool te_last_chunked = false;
    bool conn_close = false;
    bool conn_keep_alive = false;
};

bool fail(parse_error& err, int status, std::string_view reason) {
    err.status = status;
    err.reason = reason;
    return false;
}

result error(parse_error& err, int status, std::string_view reason) {
    fail(err, status, reason);
    return result::error;
}

// The request line, without its CRLF. Sets method, target, path_query, form,
// minor and (absolute-form) host.
bool parse_request_line(std::string_view line, request_head& out, parse_error& err) {
    std::size_t p = 0, n = line.size();
    while (p < n && tchar[at(line, p)]) ++p;
    if (p == 0 || p == n || line[p] != ' ') return fail(err, 400, "bad method");
    out.method = line.substr(0, p);
    std::size_t t = ++p;
    while (p + 8 <= n && word_clean<0x21, true>(line.data() + p)) p += 8;
    while (p < n && target_char[at(line, p)]) ++p;
    if (p == t || p == n || line[p] != ' ') return fail(err, 400, "bad request target");
    std::string_view target = line.substr(t, p - t);
    std::string_view version = line.substr(p + 1);

    if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' && version[5] <= '9' &&
        version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
        if (version[5] != '1' || version[7] > '1') return fail(err, 505, "HTTP version not supported");
        out.minor = version[7] - '0';
    } else {
        return fail(err, 400, "bad HTTP version");
    }

    target = target.substr(0, target.find('#'));
    out.target = target;
    if (target.empty()) return fail(err, 400, "bad request target");
    if (target[0] == '/') {
        out.form = target_form::origin;
        out.path_query = target;
        return true;
    }
    if (target == "*") {
        if (out.method != "OPTIONS") return fail(err, 400, "asterisk-form outside OPTIONS");
        out.form = target_form::asterisk;
        out.path_query = target;
        return true;
    }
    std::size_t scheme = 0;
    if (target.size() >= 7 && iequals(target.substr(0, 7), "http://"))
        scheme = 7;
    else if (target.size() >= 8 && iequals(target.substr(0, 8), "https://"))
        scheme = 8;
    if (scheme == 0) return fail(err, 400, "unsupported request target form");
    std::string_view rest = target.substr(scheme);
    std::size_t slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    if (authority.empty() || !all_of(authority, host_char)) return fail(err, 400, "bad authority in request target");
    if (slash != std::string_view::npos && rest[slash] == '?')
        return fail(err, 400, "absolute-form with a query but no path");
    out.form = target_form::absolute;
    out.host = authority;
    out.has_host = true;
    out.path_query = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    return true;
}

// A request line still without its CRLF: false when no byte that may follow
// can make it valid (a TLS handshake on the plain port, a binary protocol), so
// such a client is answered at once rather than after the line limit.
bool request_line_prefix_ok(std::string_view s) {
    std::size_t p = 0, n = s.size();
    while (p < n && tchar[at(s, p)]) ++p;
    if (p == n) return true;
    if (p == 0 || s[p] != ' ') return false;
    std::size_t t = ++p;
    while (p < n && target_char[at(s, p)]) ++p;
    if (p == n) return true;
    if (p == t || s[p] != ' ') return false;
    std::string_view v = s.substr(p + 1);
    if (v.size() > 8) return false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        bool ok = i < 5 ? v[i] == "HTTP/"[i] : i == 6 ? v[i] == '.' : v[i] >= '0' && v[i] <= '9';
        if (!ok) return false;
    }
    return true;
}

// One field the parser interprets; the others are only collected.
bool interpret_field(const header_field& f, request_head& out, framing& fr, parse_error& err) {
    switch (f.name.size()) {
    case 4:
        if (!iequals(f.name, "host")) return true;
        if (++fr.host_fields > 1) return fail(err, 400, "more than one Host field");
        if (!all_of(f.value, host_char)) return fail(err, 400, "bad Host field");
        if (out.form != target_form::absolute) {
            out.host = f.value;
            out.has_host = true;
        }
        return true;
    case 6:
        if (iequals(f.name, "expect") && iequals(f.value, "100-continue") && out.minor == 1)
            out.expect_continue = true;
        return true;
    case 10:
        if (!iequals(f.name, "connection")) return true;
        for_each_element(f.value, [&](std::string_view e) {
            if (iequals(e, "close"))
                fr.conn_close = true;
            else if (iequals(e, "keep-alive"))
                fr.conn_keep_alive = true;
        });
        return true;
    case 14: {
        if (!iequals(f.name, "content-length")) return true;
        std::uint64_t v = 0;
        if (!parse_content_length(f.value, v)) return fail(err, 400, "bad Content-Length");
        if (out.has_content_length && v != out.content_length)
            return fail(err, 400, "differing Content-Length fields");
        out.has_content_length = true;
        out.content_length = v;
        return true;
    }
    case 17:
        if (!iequals(f.name, "transfer-encoding")) return true;
        fr.te_present = true;
        for_each_element(f.value, [&](std::string_view e) {
            if (e.empty()) return;  // empty list elements are ignored (RFC 9110 5.6.1)
            ++fr.te_codings;
            if (iequals(e, "chunked")) {
                ++fr.te_chunked;
                fr.te_last_chunked = true;
            } else {
                if (!all_of(e, tchar)) fr.te_bad = true;
                fr.te_last_chunked = false;
            }
        });
        return true;
    default:
        return true;
    }
}

// Checks that need the whole field section.
bool finish_head(request_head& out, const framing& fr, parse_error& err) {
    if (out.minor == 1 && fr.host_fields == 0 && out.form != target_form::absolute)
        return fail(err, 400, "HTTP/1.1 request without Host");
    if (fr.te_present) {
        if (out.minor == 0) return fail(err, 400, "Transfer-Encoding on HTTP/1.0");
        if (out.has_content_length) return fail(err, 400, "Transfer-Encoding with Content-Length");
        if (fr.te_bad || fr.te_codings == 0) return fail(err, 400, "bad Transfer-Encoding");
        if (fr.te_chunked > 1) return fail(err, 400, "chunked applied twice");
        if (fr.te_chunked == 1 && !fr.te_last_chunked) return fail(err, 400, "chunked is not the final coding");
        // A coding we do not decode (gzip, chunked) included: RFC 9112 6.1 says 501.
        if (fr.te_chunked == 0 || fr.te_codings > 1) return fail(err, 501, "transfer coding not implemented");
        out.chunked = true;
    }
    out.keep_alive = out.minor == 1 ? !fr.conn_close : (fr.conn_keep_alive && !fr.conn_close);
    return true;
}

void reset(request_head& out) {
    out.method = {};
    out.target = {};
    out.path_query = {};
    out.form = target_form::origin;
    out.minor = 1;
    out.host = {};
    out.has_host = false;
    out.headers.clear();
    out.chunked = false;
    out.has_content_length = false;
    out.content_length = 0;
    out.keep_alive = true;
    out.expect_continue = false;
    out.head_bytes = 0;
    out.field_bytes = 0;
}

}  // namespace

result parse_head(std::string_view buf, const limits& lim, request_head& out, parse_error& err) {
    reset(out);
    const std::size_t n = buf.size();
    std::size_t p = 0;

    for (std::size_t empty = 0; p < n && (buf[p] == '\r' || buf[p] == '\n'); p += 2) {
        if (buf[p] == '\n') return error(err, 400, "bare LF");
        if (p + 1 == n) return result::incomplete;
        if (buf[p + 1] != '\n') return error(err, 400, "bare CR");
        if (++empty > max_empty_lines) return error(err, 400, "too many empty lines before the request");
    }

    // The request line ends at the first CR or LF; every byte before it is
    // checked by parse_request_line, which sees no CR nor LF.
    const std::size_t line_start = p;
    const std::size_t scan_end = std::min(n, line_start + lim.max_request_line + 1);
    const void* cr = std::memchr(buf.data() + p, '\r', scan_end - p);
    const void* lf = std::memchr(buf.data() + p, '\n', scan_end - p);
    if (lf && (!cr || lf < cr)) return error(err, 400, "bare LF");
    if (!cr) {
        if (n - line_start > lim.max_request_line) return error(err, 414, "request line too long");
        if (!request_line_prefix_ok(buf.substr(line_start))) return error(err, 400, "bad request line");
        return result::incomplete;
    }
    p = static_cast<const char*>(cr) - buf.data();
    if (p + 1 == n) return result::incomplete;
    if (buf[p + 1] != '\n') return error(err, 400, "bare CR");
    if (!parse_request_line(buf.substr(line_start, p - line_start), out, err)) return result::error;
    p += 2;

    framing fr;
    const std::size_t fields_start = p;
    auto incomplete = [&] {
        if (n - fields_start > lim.max_field_bytes) return error(err, 431, "field section too large");
        return result::incomplete;
    };
    for (;;) {
        if (p == n) return incomplete();
        unsigned char c = at(buf, p);
        if (c == '\r') {
            if (p + 1 == n) return incomplete();
            if (buf[p + 1] != '\n') return error(err, 400, "bare CR");
            p += 2;
            break;
        }
        if (c == '\n') return error(err, 400, "bare LF");
        if (is_ows(c)) return error(err, 400, "obs-fold or whitespace before a field");

        std::size_t name_start = p;
        while (p < n && tchar[at(buf, p)]) ++p;
        if (p == n) return incomplete();
        if (buf[p] != ':' || p == name_start) return error(err, 400, "bad field name");
        header_field f;
        f.name = buf.substr(name_start, p - name_start);
        std::size_t value_start = ++p;
        while (p + 8 <= n && word_clean<0x20, false>(buf.data() + p)) p += 8;
        while (p < n && value_char[at(buf, p)]) ++p;
        if (p == n) return incomplete();
        if (buf[p] != '\r')
            return error(err, 400, buf[p] == '\n' ? "bare LF" : "bad byte in a field value");
        if (p + 1 == n) return incomplete();
        if (buf[p + 1] != '\n') return error(err, 400, "bare CR");
        f.value = trim_ows(buf.substr(value_start, p - value_start));
        p += 2;
        if (p - fields_start > lim.max_field_bytes) return error(err, 431, "field section too large");
        if (out.headers.size() >= lim.max_fields) return error(err, 431, "too many fields");
        out.headers.push_back(f);
        if (!interpret_field(f, out, fr, err)) return result::error;
    }
    out.field_bytes = p - fields_start;
    if (out.field_bytes > lim.max_field_bytes) return error(err, 431, "field section too large");
    if (!finish_head(out, fr, err)) return result::error;
    out.head_bytes = p;
    return result::complete;
}

std::size_t chunk_decoder::fail(int status, std::string_view reason, std::size_t consumed) {
    err_.status = status;
    err_.reason = reason;
    state_ = state::failed;
    return consumed;
}

// After the chunk size, an extension name or an extension value: ';' opens the
// next extension, CR ends the size line and OWS moves to `on_ows` (BWS before
// '=' or ';'). False, state unchanged, for any other byte.
inline bool chunk_decoder::end_of_token(unsigned char c, state on_ows) {
    if (c == ';') {
        state_ = state::ext_pre_name;
    } else if (c == '\r') {
        state_ = state::size_lf;
    } else if (is_ows(c)) {
        state_ = on_ows;
    } else {
        return false;
    }
    return true;
}

std::size_t chunk_decoder::feed(std::string_view in, std::string& body, std::uint64_t max_body) {
    std::size_t i = 0;
    const std::size_t n = in.size();
    while (i < n) {
        if (state_ == state::data) {
            std::size_t take = chunk_left_ < n - i ? static_cast<std::size_t>(chunk_left_) : n - i;
            body.append(in.data() + i, take);
            i += take;
            chunk_left_ -= take;
            if (chunk_left_ == 0) state_ = state::data_cr;
            continue;
        }
        if (state_ == state::done || state_ == state::failed) return i;
        const unsigned char c = at(in, i++);
        switch (state_) {
        case state::size: {
            int h = hex_value(c);
            if (h >= 0) {
                if (++digits_ > 16) return fail(400, "chunk size too long", i);
                chunk_left_ = chunk_left_ << 4 | static_cast<unsigned>(h);
                ++line_bytes_;
                continue;
            }
            if (digits_ == 0 || !end_of_token(c, state::size_ows)) return fail(400, "bad chunk size", i);
            break;
        }
        case state::size_ows:  // BWS that must lead to ";"
            if (c == ';')
                state_ = state::ext_pre_name;
            else if (!is_ows(c))
                return fail(400, "bad chunk extension", i);
            break;
        case state::ext_pre_name:
            if (tchar[c])
                state_ = state::ext_name;
            else if (!is_ows(c))
                return fail(400, "bad chunk extension", i);
            break;
        case state::ext_name:
            if (c == '=')
                state_ = state::ext_pre_value;
            else if (!end_of_token(c, state::ext_post_name) && !tchar[c])
                return fail(400, "bad chunk extension", i);
            break;
        case state::ext_post_name:
            if (c == '=')
                state_ = state::ext_pre_value;
            else if (c == ';')
                state_ = state::ext_pre_name;
            else if (!is_ows(c))
                return fail(400, "bad chunk extension", i);
            break;
        case state::ext_pre_value:
            if (c == '"')
                state_ = state::ext_quoted;
            else if (tchar[c])
                state_ = state::ext_value;
            else if (!is_ows(c))
                return fail(400, "bad chunk extension", i);
            break;
        case state::ext_value:
            if (!end_of_token(c, state::size_ows) && !tchar[c]) return fail(400, "bad chunk extension", i);
            break;
        case state::ext_quoted:
            if (c == '"')
                state_ = state::ext_after_quoted;
            else if (c == '\\')
                state_ = state::ext_quoted_escape;
            else if (!qdtext[c])
                return fail(400, "bad quoted string in chunk extension", i);
            break;
        case state::ext_quoted_escape:
            if (!quoted_pair_char[c]) return fail(400, "bad quoted string in chunk extension", i);
            state_ = state::ext_quoted;
            break;
        case state::ext_after_quoted:
            if (!end_of_token(c, state::size_ows)) return fail(400, "bad chunk extension", i);
            break;
        case state::size_lf:
            if (c != '\n') return fail(400, "chunk size line not ended by CRLF", i);
            line_bytes_ = 0;
            digits_ = 0;
            if (chunk_left_ == 0) {
                state_ = state::trailer_start;
                continue;
            }
            if (chunk_left_ > max_body - total_) return fail(413, "body too large", i);
            total_ += chunk_left_;
            state_ = state::data;
            continue;
        case state::data_cr:
            if (c != '\r') return fail(400, "chunk data not followed by CRLF", i);
            state_ = state::data_lf;
            continue;
        case state::data_lf:
            if (c != '\n') return fail(400, "chunk data not followed by CRLF", i);
            state_ = state::size;
            continue;
        case state::trailer_start:
            if (c == '\r')
                state_ = state::last_lf;
            else if (tchar[c])
                state_ = state::trailer_name;
            else
                return fail(400, "bad trailer field", i);
            break;
        case state::trailer_name:
            if (c == ':')
                state_ = state::trailer_value;
            else if (!tchar[c])
                return fail(400, "bad trailer field", i);
            break;
        case state::trailer_value:
            if (c == '\r')
                state_ = state::trailer_lf;
            else if (!value_char[c])
                return fail(400, "bad trailer field", i);
            break;
        case state::trailer_lf:
            if (c != '\n') return fail(400, "trailer field not ended by CRLF", i);
            state_ = state::trailer_start;
            break;
        case state::last_lf:
            if (c != '\n') return fail(400, "chunked body not ended by CRLF", i);
            state_ = state::done;
            return i;
        default:
            return i;
        }
        // Only the size line and the trailers reach here: both are bounded.
        if (state_ == state::trailer_name || state_ == state::trailer_value || state_ == state::trailer_lf ||
            state_ == state::trailer_start || state_ == state::last_lf) {
            if (++trailer_bytes_ > max_trailer_bytes) return fail(431, "trailer section too large", i);
        } else if (++line_bytes_ > max_chunk_line) {
            return fail(400, "chunk extensions too long", i);
        }
    }
    return i;
}

}  // namespace subhttpd::reactor::http

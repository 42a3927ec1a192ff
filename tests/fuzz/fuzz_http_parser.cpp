// libFuzzer target for reactor/http's parser. The first input byte picks a
// split point and the limits; the rest is the bytes a client sent. Checked:
// - parse_head: complete => head_bytes <= size, field_bytes < head_bytes, every
//   view points inside the buffer, a token method, framing never both chunked
//   and Content-Length, asterisk-form only with OPTIONS; a prefix cut before
//   head_bytes is incomplete; error => status in {400,413,414,431,501,505};
// - chunk_decoder: the same bytes fed whole and in two pieces end in the same
//   state with the same body and consumed count, never more than max_body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "reactor/http/parser.h"

namespace {

namespace http = subhttpd::reactor::http;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_http_parser: invariant broken: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

bool valid_status(int s) {
    return s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505;
}

bool inside(std::string_view v, std::string_view buf) {
    return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check_head(std::string_view buf, std::size_t split, const http::limits& lim) {
    http::request_head h;
    http::parse_error err;
    http::result r = http::parse_head(buf, lim, h, err);
    if (r == http::result::error) {
        check(valid_status(err.status), "parse_head: unexpected status");
        check(!err.reason.empty(), "parse_head: error without a reason");
        return;
    }
    if (r == http::result::incomplete) return;
    check(h.head_bytes > 0 && h.head_bytes <= buf.size(), "head_bytes outside the buffer");
    check(h.field_bytes >= 2 && h.field_bytes < h.head_bytes, "field_bytes inconsistent");
    check(h.field_bytes <= lim.max_field_bytes, "field section over the limit");
    check(h.headers.size() <= lim.max_fields, "more fields than the limit");
    std::string_view head = buf.substr(0, h.head_bytes);
    check(!h.method.empty() && inside(h.method, head), "method");
    check(!h.target.empty() && inside(h.target, head), "target");
    check(inside(h.host, head), "host");
    check(h.path_query == "/" || inside(h.path_query, head), "path_query");
    check(h.target.find('#') == std::string_view::npos, "fragment kept");
    check(h.minor == 0 || h.minor == 1, "minor");
    check(!(h.chunked && h.has_content_length), "chunked and Content-Length");
    check(!(h.chunked && h.minor == 0), "chunked on HTTP/1.0");
    check(h.form != http::target_form::asterisk || h.method == "OPTIONS", "asterisk-form without OPTIONS");
    check(h.minor == 0 || h.has_host, "HTTP/1.1 without a host");
    for (const http::header_field& f : h.headers) {
        check(!f.name.empty() && inside(f.name, head) && inside(f.value, head), "field view");
        for (char c : f.value) check(c != '\r' && c != '\n' && c != '\0', "CR, LF or NUL in a value");
        if (!f.value.empty()) {
            check(f.value.front() != ' ' && f.value.front() != '\t', "leading OWS kept");
            check(f.value.back() != ' ' && f.value.back() != '\t', "trailing OWS kept");
        }
    }
    // Any cut before the end of the head is only "read more".
    if (split < h.head_bytes) {
        http::request_head p;
        check(http::parse_head(buf.substr(0, split), lim, p, err) == http::result::incomplete,
              "a prefix of a complete head is not incomplete");
    }
    // The head parses the same without what follows it.
    http::request_head again;
    check(http::parse_head(head, lim, again, err) == http::result::complete && again.head_bytes == h.head_bytes,
          "the head alone parses differently");
}

void check_chunked(std::string_view buf, std::size_t split, std::uint64_t max_body) {
    http::chunk_decoder whole;
    std::string body_whole;
    std::size_t used_whole = whole.feed(buf, body_whole, max_body);
    check(used_whole <= buf.size(), "consumed more than given");
    check(whole.done() || whole.failed() || used_whole == buf.size(), "stopped early without a reason");
    check(body_whole.size() <= max_body, "body over max_body");
    if (whole.failed()) {
        int s = whole.error().status;
        check(s == 400 || s == 413 || s == 431, "chunk_decoder: unexpected status");
    }

    http::chunk_decoder parts;
    std::string body_parts;
    std::size_t used = parts.feed(buf.substr(0, split), body_parts, max_body);
    if (!parts.done() && !parts.failed()) {
        check(used == split, "first piece not fully consumed");
        used += parts.feed(buf.substr(split), body_parts, max_body);
    }
    check(parts.done() == whole.done() && parts.failed() == whole.failed(), "split changes the outcome");
    check(used == used_whole, "split changes the consumed count");
    check(body_parts == body_whole, "split changes the body");
    if (whole.failed()) check(parts.error().status == whole.error().status, "split changes the status");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t knob = data[0];
    std::string_view buf(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t split = buf.empty() ? 0 : (static_cast<std::size_t>(knob) * 131) % (buf.size() + 1);

    http::limits lim;
    if (knob & 0x80) {  // small limits, so 414 and 431 are reached from short inputs
        lim.max_request_line = 40;
        lim.max_field_bytes = 120;
        lim.max_fields = 4;
    }
    check_head(buf, split, lim);
    check_chunked(buf, split, (knob & 0x40) ? 16 : 1 << 20);
    return 0;
}

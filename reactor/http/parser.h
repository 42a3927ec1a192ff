#pragma once
// parser: strict HTTP/1.1 request heads (RFC 9112) and chunked bodies, over
// bytes the connection has already read. Nothing is allocated per header: the
// head holds views into the caller's buffer, valid until that buffer changes.
// A head is parsed in one call over everything received so far; `incomplete`
// means "read more and call again from the start". Pure functions, any thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace subhttpd::reactor::http {

struct header_field {
    std::string_view name;   // as received (token chars only)
    std::string_view value;  // OWS trimmed on both sides; may be empty
};

enum class target_form : std::uint8_t { origin, absolute, asterisk };

struct request_head {
    std::string_view method;        // a token, case kept
    std::string_view target;        // as received, without any "#fragment"
    std::string_view path_query;    // origin-form part: absolute-form's path+query ("/" when empty), or target
    target_form form = target_form::origin;
    int minor = 1;                  // HTTP/1.<minor>: 0 or 1
    std::string_view host;          // absolute-form authority, else the Host field ("" when none)
    bool has_host = false;          // a Host field was present (absolute-form: or the authority)
    std::vector<header_field> headers;  // in arrival order; reuse the object to keep capacity
    bool chunked = false;           // Transfer-Encoding ends in chunked
    bool has_content_length = false;
    std::uint64_t content_length = 0;
    bool keep_alive = true;         // from the version and every Connection field
    bool expect_continue = false;   // Expect: 100-continue
    std::size_t head_bytes = 0;     // bytes of the head, final CRLF included
    std::size_t field_bytes = 0;    // bytes of the field section alone (for the 431 limit)
};

struct limits {
    std::size_t max_request_line = 8190;  // longer: 414 (Apache's LimitRequestLine)
    std::size_t max_field_bytes = 65536;  // field section longer: 431
    std::size_t max_fields = 200;         // more fields: 431
};

enum class result : std::uint8_t { complete, incomplete, error };

struct parse_error {
    int status = 400;                // 400, 414, 431, 501 or 505
    std::string_view reason;         // a short static text for the error log
};

// Parses the head at the start of `buf`. On `complete`, `out` describes it and
// out.head_bytes says where the body starts. On `error`, `err` says what to
// answer; the connection is closed after that answer. Leading empty lines
// (CRLF) before the request line are skipped, as RFC 9112 2.2 allows; they count
// in head_bytes.
result parse_head(std::string_view buf, const limits& lim, request_head& out, parse_error& err);

// Decodes a chunked body incrementally (RFC 9112 7.1): chunk-size is 1*HEXDIG
// (at most 16 digits), chunk extensions (token[=token|quoted-string]) and
// trailer fields are accepted and ignored. State lives in the object; feed it
// bytes as they arrive.
class chunk_decoder {
public:
    // Consumes a prefix of `in`, appending body bytes to `body` (at most
    // `max_body - body_so_far` more; beyond that: error 413). Returns the number
    // of bytes of `in` consumed. After it, done() or failed() may be true;
    // otherwise all of `in` was consumed and more is needed.
    std::size_t feed(std::string_view in, std::string& body, std::uint64_t max_body);
    bool done() const { return state_ == state::done; }
    bool failed() const { return state_ == state::failed; }
    const parse_error& error() const { return err_; }
    void reset() { *this = chunk_decoder(); }

private:
    enum class state : std::uint8_t {
        size, size_ows, ext_pre_name, ext_name, ext_post_name, ext_pre_value, ext_value,
        ext_quoted, ext_quoted_escape, ext_after_quoted, size_lf, data, data_cr, data_lf,
        trailer_start, trailer_name, trailer_value, trailer_lf, last_lf, done, failed
    };
    std::size_t fail(int status, std::string_view reason, std::size_t consumed);
    bool end_of_token(unsigned char c, state on_ows);

    state state_ = state::size;
    std::uint64_t chunk_left_ = 0;
    unsigned digits_ = 0;
    std::size_t line_bytes_ = 0;  // of the current chunk-size line (extensions are bounded)
    std::uint64_t total_ = 0;
    std::size_t trailer_bytes_ = 0;
    parse_error err_;
};

}  // namespace subhttpd::reactor::http

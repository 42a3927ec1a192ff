#pragma once
// response: the status line and header section of one answer, built into one
// buffer without printf. It decides the framing (Content-Length, chunked or
// close-delimited), drops what the application may not set (framing and
// hop-by-hop fields, Date) and refuses any field with CR, LF or NUL, which
// never reaches the wire. Pure; any thread.
#include <cstdint>
#include <string>
#include <string_view>

#include "interp/exchange.h"

namespace subhttpd::reactor::http {

enum class framing : std::uint8_t {
    none,      // no body: HEAD, 1xx, 204, 304
    length,    // Content-Length: n
    chunked,   // Transfer-Encoding: chunked (HTTP/1.1)
    close,     // the body ends when the connection closes (HTTP/1.0 streaming)
};

struct head_spec {
    int status = 200;
    std::string_view reason;          // "" = the standard phrase
    const interp::header_list* headers = nullptr;
    framing frame = framing::length;
    std::uint64_t length = 0;         // framing::length, or HEAD's announced length
    bool announce_length = false;     // framing::none but Content-Length sent (HEAD)
    bool keep_alive = true;
    bool http10 = false;              // the request was HTTP/1.0
};

// Appends the head to `out`. Returns the number of fields refused (CR/LF/NUL).
// `*app_close` is set when the application sent "Connection: close".
int build_head(const head_spec& spec, std::string& out, bool* app_close = nullptr);

// Whether a status has no body whatever the method (1xx, 204, 304).
constexpr bool status_has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

// The application's Content-Length, if it set one that parses (else -1).
std::int64_t declared_length(const interp::header_list& headers);

// A field is safe on the wire: name a token, value without CR, LF or NUL.
bool field_ok(std::string_view name, std::string_view value);

}  // namespace subhttpd::reactor::http

#pragma once
// WSGI (PEP 3333) adapter: runs the app named by a route's content phase
// (`module:callable`, or a .wsgi/.py file holding `application`) for one request,
// in the current interpreter, and answers through the request's exchange.
// Called by the dispatcher with the GIL held and `in` current.
#include <cstdint>
#include <memory>
#include <string>

#include "hosts/route.h"
#include "interp/registry.h"
#include "interp/request.h"

namespace subhttpd::interp {

// An inline response whose iterable is pulled as the socket drains.
struct wsgi_stream;
struct wsgi_stream_deleter {
    void operator()(wsgi_stream* s) const;  // GIL held, its interpreter current
};
using wsgi_stream_ptr = std::unique_ptr<wsgi_stream, wsgi_stream_deleter>;

class watchdog;

// The handler timeout around the app call and around each block pulled
// (no watchdog: not watched, as off the loop).
struct wsgi_pacing {
    watchdog* wd = nullptr;
    interpreter* in = nullptr;
    std::uint64_t ms = 0;
};

inline constexpr int wsgi_paused = -1001;

// Returns the mod_python-style code for the content phase: -2 (DONE) once the
// response is finished (or aborted) through ctx.ex, or an HTTP status (e.g.
// 500) when the app failed before it started a response; error_text then holds
// the traceback. With `paused` (inline on the loop), a streamed iterable is
// left there after a block and wsgi_paused returned: call resume_wsgi when
// ctx.ex has room (exchange::when_drained) until it returns something else.
int run_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, PyObject* req,
             std::string& error_text, const wsgi_pacing& pace = {}, wsgi_stream_ptr* paused = nullptr);
int resume_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, std::string& error_text,
                const wsgi_pacing& pace, wsgi_stream_ptr& stream);

}  // namespace subhttpd::interp

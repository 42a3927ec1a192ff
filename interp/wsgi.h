#pragma once
// WSGI (PEP 3333) adapter: runs the app named by a route's content phase
// (`module:callable`, or a .wsgi/.py file holding `application`) for one request,
// in the current interpreter, and answers through the request's exchange.
// Called by the dispatcher with the GIL held and `in` current.
#include <string>

#include "hosts/route.h"
#include "interp/registry.h"
#include "interp/request.h"

namespace subhttpd::interp {

// Returns the mod_python-style code for the content phase: -2 (DONE) once the
// response is finished through ctx.ex, or an HTTP status (e.g. 500) when the app
// failed before it started a response; error_text then holds the traceback.
int run_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, PyObject* req,
             std::string& error_text);

}  // namespace subhttpd::interp

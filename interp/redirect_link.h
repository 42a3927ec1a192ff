#pragma once
// redirect_link: req.prev / req.next after req.internal_redirect() when the two
// requests run in different interpreters. Python objects cannot cross, so the
// other request is copied into a request_view (plain C++) and shown as a
// read-only snapshot (mod_python/_snapshot.py) made in the interpreter that
// reads it. Within one interpreter the dispatcher links the req objects
// themselves. Called on the thread that runs the request, with the GIL of the
// interpreter `req` belongs to.
#include <Python.h>

#include <string>

#include "interp/exchange.h"
#include "interp/request.h"

namespace subhttpd::interp {

struct request_view {
    std::string interpreter;  // where that request ran
    std::string method, uri, args, the_request, protocol;
    std::string filename, path_info, content_type, user;
    int status = 200;
    header_list headers_in, headers_out, err_headers_out, notes, subprocess_env;
};

// The state of request `c` now (its tables as last exported to it).
request_view view_of(const request_ctx& c, const exchange& ex, const std::string& interpreter);

// Sets req.<attr> ("prev" or "next") to a snapshot of `v`. A failure is logged
// and leaves the attribute as it was; no Python error is left set.
void link_snapshot(PyObject* req, const char* attr, const request_view& v);

}  // namespace subhttpd::interp

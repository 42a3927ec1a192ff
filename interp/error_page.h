#pragma once
// error_page: the 500 page shown with PythonDebug on. A Python error is taken
// once, as a structured report (exception, frames with source around each line,
// SyntaxError position) plus the traceback text that goes to the log; the page
// adds the request and where its handler came from (site, block, interpreter).
// HTML when the client accepts text/html, else plain text. Never used when debug
// is off: then the generic 500 page is sent. take_error_report() needs the GIL
// of the interpreter the error happened in; rendering is plain C++.
#include <Python.h>

#include <string>
#include <utility>
#include <vector>

#include "interp/exchange.h"

namespace subhttpd::interp {

struct error_frame {
    std::string file;
    int line = 0;
    std::string function;
    std::vector<std::pair<int, std::string>> source;  // (line number, text) around `line`
};

struct error_report {
    std::string text;  // the whole traceback, as py::take_error_text() gives it
    std::string type;  // "ValueError", "mod.CustomError"
    std::string message;
    std::vector<error_frame> frames;  // innermost last
    bool syntax = false;              // a SyntaxError: where the parser stopped
    std::string syntax_file;
    int syntax_line = 0;
    int syntax_offset = 0;      // 1-based column of the caret; 0 when unknown
    int syntax_end_offset = 0;  // end of the range on the same line; 0 when unknown
    std::string syntax_text;
    std::string syntax_msg;
};

// Takes (and clears) the Python error set now. `runtime` is the interpreter's
// subhttpd_runtime package; when its _error_report fails, only `text` is filled.
error_report take_error_report(PyObject* runtime);

// What the page says about the request and the handler that failed.
struct error_context {
    std::string method, target, protocol;
    header_list headers;  // request headers, in arrival order
    std::string site;         // server_name
    std::string block;        // "directory /srv/app (sites.d/a.toml:5:1)"
    std::string handler;      // "hello::handler"
    std::string phase;        // "PythonHandler", or "WSGI" for a WSGI app
    std::string interpreter;
    bool wsgi = false;        // a WSGI app failed: labelled WSGI, not with a mod_python phase
};

struct error_page {
    std::string content_type;
    std::string body;
};

// Does the Accept header name text/html (browsers do; curl's "*/*" does not)?
bool accepts_html(const header_list& request_headers);

error_page render_error_page(const error_report& report, const error_context& ctx, bool html);

}  // namespace subhttpd::interp

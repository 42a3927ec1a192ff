#pragma once
// The WSGI adapter's parts, shared by its files and by nothing else: the
// per-interpreter cache (wsgi_state: environ keys and constants), the
// per-request response state, and the native wsgi.input and start_response
// objects. wsgi_environ.cpp builds the environ, wsgi_input.cpp and
// wsgi_start_response.cpp hold the two types, wsgi.cpp runs the app.
// GIL of the request's interpreter held for everything here.
#include <Python.h>

#include <strings.h>

#include <string>
#include <unordered_map>

#include "interp/exchange.h"
#include "interp/py_ref.h"
#include "interp/registry.h"
#include "interp/request.h"

namespace subhttpd::interp {

namespace wsgi_impl {

enum key_id : int {
    k_request_method,
    k_script_name,
    k_path_info,
    k_query_string,
    k_content_type,
    k_content_length,
    k_server_name,
    k_server_port,
    k_server_protocol,
    k_server_software,
    k_server_addr,
    k_gateway_interface,
    k_request_uri,
    k_request_scheme,
    k_remote_addr,
    k_remote_port,
    k_document_root,
    k_script_filename,
    k_https,
    k_wsgi_version,
    k_wsgi_url_scheme,
    k_wsgi_input,
    k_wsgi_errors,
    k_wsgi_multithread,
    k_wsgi_multiprocess,
    k_wsgi_run_once,
    k_wsgi_file_wrapper,
    k_wsgi_input_terminated,
    k_application_group,
    k_process_group,
    k_subhttpd_interpreter,
    k_close,  // attribute name, not an environ key
    key_count,
};

}  // namespace wsgi_impl

struct wsgi_state {
    py::ref keys[wsgi_impl::key_count];
    py::ref version;        // (1, 0)
    py::ref s_cgi;          // "CGI/1.1"
    py::ref s_software;     // "subhttpd"
    py::ref s_http;
    py::ref s_https;
    py::ref s_empty;
    py::ref s_on;
    py::ref errors;         // _subhttpd._wsgi_errors_stream()
    py::ref file_wrapper;   // _subhttpd._FileWrapper
    py::ref file_target;    // _subhttpd._wsgi_file_target
    py::ref input_type;
    py::ref start_response_type;
    py::ref s_interp;       // this interpreter's name
    py::ref s_group;        // mod_wsgi.process_group: "" in a worker
    // Every environ key, with this interpreter's constants filled in: a request's
    // environ starts as a copy (one presized table, no growth while it is filled).
    py::ref env_template;
    std::unordered_map<std::string, py::ref> header_keys;  // raw header name -> "HTTP_..."
};

namespace wsgi_impl {

struct wsgi_response {
    request_ctx* ctx = nullptr;
    exchange* ex = nullptr;
    bool may_stream = false;  // not HEAD: an iterable's blocks go out as they come
    bool headers_set = false;
    bool committed = false;   // status and headers are final (body data was produced)
    bool streaming = false;
    int status = 0;
    std::string reason;
    header_list headers;
    long long content_length = -1;  // from the app's headers
    std::size_t sent = 0;

    // Body bytes from the app; false with a Python exception set.
    bool emit(const char* p, std::size_t n, bool single) {
        if (!headers_set) {
            PyErr_SetString(PyExc_AssertionError, "the application produced body data before calling start_response()");
            return false;
        }
        if (n == 0) {
            return true;  // PEP 3333: headers wait for the first non-empty block
        }
        if (!committed) {
            commit(single);
        }
        if (content_length >= 0) {
            std::size_t room =
                sent >= static_cast<std::size_t>(content_length) ? 0 : static_cast<std::size_t>(content_length) - sent;
            n = n < room ? n : room;  // never more than the Content-Length the app promised
        }
        if (n > 0) {
            ex->write(p, n);
            sent += n;
        }
        return true;
    }

    void commit(bool single) {
        committed = true;
        if (may_stream && !single) {
            streaming = true;
            ex->start_stream(status, reason, headers);
        }
    }

    // Buffered: the exchange sets Content-Length from what was written, except
    // for HEAD, where the app's (or the buffered body's) length is kept.
    void finish() {
        if (streaming) {
            ex->finish(status, reason, headers);
            return;
        }
        bool head = ex->method() == "HEAD";
        header_list out;
        out.reserve(headers.size() + 1);
        bool have_length = false;
        for (auto& kv : headers) {
            if (strcasecmp(kv.first.c_str(), "Content-Length") == 0) {
                if (!head) {
                    continue;
                }
                have_length = true;
            }
            out.push_back(std::move(kv));
        }
        if (head && !have_length && sent > 0) {
            out.emplace_back("Content-Length", std::to_string(sent));
        }
        ex->finish(status, reason, out);
    }
};

struct input_object {
    PyObject_HEAD
    exchange* ex;           // nullptr once the request is over
    std::size_t remaining;  // bytes the app may still read (Content-Length bound)
};

struct start_response_object {
    PyObject_HEAD
    wsgi_response* resp;  // nullptr once the request is over
};

// tp_dealloc of the two types above (no references held).
inline void plain_dealloc(PyObject* o) {
    PyTypeObject* tp = Py_TYPE(o);
    tp->tp_free(o);
    Py_DECREF(tp);
}

extern PyType_Spec input_spec;  // wsgi_input.cpp
extern PyType_Spec sr_spec;     // wsgi_start_response.cpp

// This interpreter's wsgi_state, made on first use; NULL with an error set.
wsgi_state* state_for(interpreter& in);

// A new environ dict for the request (new reference), or NULL with an error set.
PyObject* build_environ(wsgi_state& ws, interpreter& in, const request_ctx& ctx, PyObject* script_filename,
                        PyObject* input);

}  // namespace wsgi_impl
}  // namespace subhttpd::interp

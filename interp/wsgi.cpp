// The WSGI adapter (PEP 3333). The environ is built here from the exchange with
// keys and constant values cached per interpreter (wsgi_state, kept in the
// native module's state, never in globals). wsgi.input and start_response are
// small native heap types bound to one request and detached when it ends, so an
// app that keeps them gets an error instead of a dangling pointer. The app loader,
// wsgi.errors and wsgi.file_wrapper are plain Python in _subhttpd.py.
//
// Response: the body is buffered and finished with its Content-Length, unless the
// request runs off the loop (offload) with more than one block and no
// Content-Length: then it is streamed (chunked) from the first non-empty block.
// Nothing here assumes the loop thread; the exchange is the only way out.
#include "interp/wsgi.h"
#include "interp/watchdog.h"
#include "interp/extension_hint.h"
#include "interp/fd_shortage.h"

#include <strings.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "common/http_status.h"
#include "common/host.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/text.h"
#include "interp/body.h"
#include "interp/module.h"
#include "interp/py_util.h"

namespace subhttpd::interp {

namespace {

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

constexpr const char* key_names[key_count] = {
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "SERVER_SOFTWARE",
    "SERVER_ADDR",
    "GATEWAY_INTERFACE",
    "REQUEST_URI",
    "REQUEST_SCHEME",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "DOCUMENT_ROOT",
    "SCRIPT_FILENAME",
    "HTTPS",
    "wsgi.version",
    "wsgi.url_scheme",
    "wsgi.input",
    "wsgi.errors",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.file_wrapper",
    "wsgi.input_terminated",
    "mod_wsgi.application_group",
    "mod_wsgi.process_group",
    "subhttpd.interpreter",
    "close",
};

// At most this many distinct request header names get a cached HTTP_* key, so a
// client sending random header names cannot grow the cache without bound.
constexpr std::size_t header_key_cache_max = 256;

}  // namespace

struct wsgi_state {
    py::ref keys[key_count];
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

int wsgi_state_traverse(wsgi_state* ws, visitproc visit, void* arg) {
    Py_VISIT(ws->version.get());
    Py_VISIT(ws->errors.get());
    Py_VISIT(ws->file_wrapper.get());
    Py_VISIT(ws->file_target.get());
    Py_VISIT(ws->input_type.get());
    Py_VISIT(ws->start_response_type.get());
    Py_VISIT(ws->env_template.get());
    return 0;
}

void wsgi_state_free(wsgi_state* ws) { delete ws; }

namespace {

// ---- per-request response state -------------------------------------------

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

// ---- wsgi.input ---------------------------------------------------------------

struct input_object {
    PyObject_HEAD
    exchange* ex;           // nullptr once the request is over
    std::size_t remaining;  // bytes the app may still read (Content-Length bound)
};

bool input_alive(input_object* self) {
    if (self->ex == nullptr) {
        PyErr_SetString(PyExc_ValueError, "wsgi.input: the request is finished");
        return false;
    }
    return true;
}

bool size_arg(const char* fn, PyObject* const* args, Py_ssize_t nargs, Py_ssize_t& n) {
    n = -1;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", fn, nargs);
        return false;
    }
    if (nargs == 1 && args[0] != Py_None) {
        n = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (n == -1 && PyErr_Occurred()) {
            return false;
        }
    }
    return true;
}

PyObject* input_read(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    auto* self = reinterpret_cast<input_object*>(o);
    Py_ssize_t n = -1;
    if (!size_arg("read", args, nargs, n) || !input_alive(self)) {
        return nullptr;
    }
    std::size_t want = self->remaining;
    if (n >= 0 && static_cast<std::size_t>(n) < want) {
        want = static_cast<std::size_t>(n);
    }
    PyObject* out = read_body_bytes(*self->ex, want);
    if (out != nullptr) {
        self->remaining -= static_cast<std::size_t>(PyBytes_GET_SIZE(out));
    }
    return out;
}

PyObject* input_line(input_object* self, Py_ssize_t n) {
    std::size_t limit = self->remaining;
    if (n >= 0 && static_cast<std::size_t>(n) < limit) {
        limit = static_cast<std::size_t>(n);
    }
    std::string line;
    if (limit > 0) {
        self->ex->read_body_line(line, limit);
        self->remaining -= line.size();
    }
    return PyBytes_FromStringAndSize(line.data(), static_cast<Py_ssize_t>(line.size()));
}

PyObject* input_readline(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    auto* self = reinterpret_cast<input_object*>(o);
    Py_ssize_t n = -1;
    if (!size_arg("readline", args, nargs, n) || !input_alive(self)) {
        return nullptr;
    }
    return input_line(self, n);
}

PyObject* input_readlines(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    auto* self = reinterpret_cast<input_object*>(o);
    Py_ssize_t hint = -1;
    if (!size_arg("readlines", args, nargs, hint) || !input_alive(self)) {
        return nullptr;
    }
    py::ref list = py::ref::steal(PyList_New(0));
    if (!list) {
        return nullptr;
    }
    std::size_t total = 0;
    while (self->remaining > 0) {
        py::ref line = py::ref::steal(input_line(self, -1));
        if (!line) {
            return nullptr;
        }
        if (PyBytes_GET_SIZE(line.get()) == 0) {
            break;
        }
        total += static_cast<std::size_t>(PyBytes_GET_SIZE(line.get()));
        if (PyList_Append(list.get(), line.get()) < 0) {
            return nullptr;
        }
        if (hint > 0 && total >= static_cast<std::size_t>(hint)) {
            break;
        }
    }
    return list.release();
}

PyObject* input_iter(PyObject* o) { return Py_NewRef(o); }

PyObject* input_next(PyObject* o) {
    auto* self = reinterpret_cast<input_object*>(o);
    if (!input_alive(self)) {
        return nullptr;
    }
    py::ref line = py::ref::steal(input_line(self, -1));
    if (!line || PyBytes_GET_SIZE(line.get()) == 0) {
        return nullptr;  // StopIteration (no exception set) or the error
    }
    return line.release();
}

void plain_dealloc(PyObject* o) {
    PyTypeObject* tp = Py_TYPE(o);
    tp->tp_free(o);
    Py_DECREF(tp);
}

PyMethodDef input_methods[] = {
    {"read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_read)), METH_FASTCALL,
     "read([size]): request body bytes, at most Content-Length in all"},
    {"readline", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_readline)), METH_FASTCALL,
     "readline([size]): one line of the request body"},
    {"readlines", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_readlines)), METH_FASTCALL,
     "readlines([hint]): the remaining lines of the request body"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot input_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(plain_dealloc)},
    {Py_tp_iter, reinterpret_cast<void*>(input_iter)},
    {Py_tp_iternext, reinterpret_cast<void*>(input_next)},
    {Py_tp_methods, input_methods},
    {Py_tp_doc, const_cast<char*>("wsgi.input: the request body, bounded by Content-Length")},
    {0, nullptr},
};

PyType_Spec input_spec = {"subhttpd.wsgi_input", sizeof(input_object), 0, Py_TPFLAGS_DEFAULT, input_slots};

// ---- start_response and write ---------------------------------------------------

struct start_response_object {
    PyObject_HEAD
    wsgi_response* resp;  // nullptr once the request is over
};

bool sr_alive(start_response_object* self) {
    if (self->resp == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "start_response/write: the request is finished");
        return false;
    }
    return true;
}

// A str holding only Latin-1 code points, as PEP 3333 requires of header text.
bool latin1_text(PyObject* s, const char* what, std::string& out) {
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %s", what, Py_TYPE(s)->tp_name);
        return false;
    }
    if (PyUnicode_READY(s) < 0) {
        return false;
    }
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "%s must hold only Latin-1 characters: %R", what, s);
        return false;
    }
    // HTTP header bytes are Latin-1: the wire gets each code point as one byte.
    const auto* p = static_cast<const char*>(PyUnicode_DATA(s));
    out.assign(p, static_cast<std::size_t>(PyUnicode_GET_LENGTH(s)));
    return true;
}

bool is_token_char(unsigned char c) {
    return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_hop_by_hop(const std::string& name) {
    static constexpr const char* hop[] = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                                          "te",         "trailers",   "transfer-encoding",  "upgrade"};
    for (const char* h : hop) {
        if (strcasecmp(name.c_str(), h) == 0) {
            return true;
        }
    }
    return false;
}

bool parse_status(PyObject* status, wsgi_response& r) {
    std::string s;
    if (!latin1_text(status, "status", s)) {
        return false;
    }
    if (s.size() < 4 || !std::isdigit(static_cast<unsigned char>(s[0])) ||
        !std::isdigit(static_cast<unsigned char>(s[1])) || !std::isdigit(static_cast<unsigned char>(s[2])) ||
        s[3] != ' ' || s[0] == '0') {
        PyErr_Format(PyExc_ValueError, "status must look like '200 OK', not %R", status);
        return false;
    }
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            PyErr_Format(PyExc_ValueError, "status may not hold control characters: %R", status);
            return false;
        }
    }
    r.status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    r.reason = s.substr(4);
    if (r.reason.empty()) {
        r.reason = std::string(http_reason(r.status));
    }
    return true;
}

bool parse_headers(PyObject* headers, wsgi_response& r) {
    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "response_headers must be a list, not %s", Py_TYPE(headers)->tp_name);
        return false;
    }
    header_list out;
    long long length = -1;
    Py_ssize_t n = PyList_GET_SIZE(headers);
    out.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* item = PyList_GET_ITEM(headers, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError, "response header %zd must be a (name, value) tuple, not %R", i, item);
            return false;
        }
        std::string name, value;
        if (!latin1_text(PyTuple_GET_ITEM(item, 0), "header name", name) ||
            !latin1_text(PyTuple_GET_ITEM(item, 1), "header value", value)) {
            return false;
        }
        if (name.empty()) {
            PyErr_SetString(PyExc_ValueError, "empty header name");
            return false;
        }
        for (unsigned char c : name) {
            if (!is_token_char(c)) {
                PyErr_Format(PyExc_ValueError, "invalid header name %R", PyTuple_GET_ITEM(item, 0));
                return false;
            }
        }
        for (unsigned char c : value) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                PyErr_Format(PyExc_ValueError, "header %s: value may not hold CR, LF or control characters: %R",
                             name.c_str(), PyTuple_GET_ITEM(item, 1));
                return false;
            }
        }
        if (is_hop_by_hop(name)) {
            PyErr_Format(PyExc_ValueError, "hop-by-hop header %s is not allowed from a WSGI application (PEP 3333)",
                         name.c_str());
            return false;
        }
        if (strcasecmp(name.c_str(), "Content-Length") == 0) {
            char* end = nullptr;
            long long v = std::strtoll(value.c_str(), &end, 10);
            if (value.empty() || end == nullptr || *end != '\0' || v < 0) {
                PyErr_Format(PyExc_ValueError, "invalid Content-Length %R", PyTuple_GET_ITEM(item, 1));
                return false;
            }
            length = v;
        }
        out.emplace_back(std::move(name), std::move(value));
    }
    r.headers = std::move(out);
    r.content_length = length;
    return true;
}

PyObject* sr_write(PyObject* o, PyObject* data) {
    auto* self = reinterpret_cast<start_response_object*>(o);
    if (!sr_alive(self)) {
        return nullptr;
    }
    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() takes bytes, not %s", Py_TYPE(data)->tp_name);
        return nullptr;
    }
    if (!self->resp->emit(PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data)), false)) {
        return nullptr;
    }
    Py_RETURN_NONE;
}

PyMethodDef write_def = {"write", sr_write, METH_O, "write(data): body bytes (the legacy WSGI write callable)"};

PyObject* sr_call(PyObject* o, PyObject* args, PyObject* kwargs) {
    auto* self = reinterpret_cast<start_response_object*>(o);
    static const char* kwlist[] = {"status", "response_headers", "exc_info", nullptr};
    PyObject *status = nullptr, *headers = nullptr, *exc_info = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:start_response", const_cast<char**>(kwlist), &status,
                                     &headers, &exc_info)) {
        return nullptr;
    }
    if (!sr_alive(self)) {
        return nullptr;
    }
    wsgi_response& r = *self->resp;
    if (exc_info != Py_None) {
        if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
            PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple or None");
            return nullptr;
        }
        PyObject* t = PyTuple_GET_ITEM(exc_info, 0);
        if (r.committed && t != Py_None) {
            // PEP 3333: too late to change the response; re-raise the app's error.
            PyObject* v = PyTuple_GET_ITEM(exc_info, 1);
            PyObject* tb = PyTuple_GET_ITEM(exc_info, 2);
            v = v == Py_None ? nullptr : v;
            tb = tb == Py_None ? nullptr : tb;
            Py_INCREF(t);
            Py_XINCREF(v);
            Py_XINCREF(tb);
            PyErr_Restore(t, v, tb);
            return nullptr;
        }
    } else if (r.headers_set) {
        PyErr_SetString(PyExc_AssertionError, "start_response() called again without exc_info");
        return nullptr;
    }
    wsgi_response next;
    if (!parse_status(status, next) || !parse_headers(headers, next)) {
        return nullptr;
    }
    r.status = next.status;
    r.reason = std::move(next.reason);
    r.headers = std::move(next.headers);
    r.content_length = next.content_length;
    r.headers_set = true;
    return PyCFunction_NewEx(&write_def, o, nullptr);
}

PyType_Slot sr_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(plain_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(sr_call)},
    {Py_tp_doc, const_cast<char*>("start_response(status, response_headers, exc_info=None) -> write")},
    {0, nullptr},
};

PyType_Spec sr_spec = {"subhttpd.start_response", sizeof(start_response_object), 0, Py_TPFLAGS_DEFAULT, sr_slots};

// ---- per-interpreter state ----------------------------------------------------

wsgi_state* make_state(interpreter& in) {
    auto ws = std::make_unique<wsgi_state>();
    for (int i = 0; i < key_count; ++i) {
        ws->keys[i] = py::ref::steal(PyUnicode_InternFromString(key_names[i]));
        if (!ws->keys[i]) {
            return nullptr;
        }
    }
    ws->version = py::ref::steal(Py_BuildValue("(ii)", 1, 0));
    ws->s_cgi = py::ref::steal(PyUnicode_InternFromString("CGI/1.1"));
    ws->s_software = py::ref::steal(PyUnicode_InternFromString("subhttpd"));
    ws->s_http = py::ref::steal(PyUnicode_InternFromString("http"));
    ws->s_https = py::ref::steal(PyUnicode_InternFromString("https"));
    ws->s_empty = py::ref::steal(PyUnicode_FromStringAndSize("", 0));
    ws->s_on = py::ref::steal(PyUnicode_InternFromString("on"));
    ws->errors = py::ref::steal(PyObject_CallMethod(in.runtime(), "_wsgi_errors_stream", nullptr));
    ws->file_wrapper = py::ref::steal(PyObject_GetAttrString(in.runtime(), "_FileWrapper"));
    ws->file_target = py::ref::steal(PyObject_GetAttrString(in.runtime(), "_wsgi_file_target"));
    ws->input_type = py::ref::steal(PyType_FromModuleAndSpec(in.module(), &input_spec, nullptr));
    ws->start_response_type = py::ref::steal(PyType_FromModuleAndSpec(in.module(), &sr_spec, nullptr));
    if (!ws->version || !ws->s_cgi || !ws->s_software || !ws->s_http || !ws->s_https || !ws->s_empty || !ws->s_on ||
        !ws->errors || !ws->file_wrapper || !ws->file_target || !ws->input_type ||
        !ws->start_response_type) {
        return nullptr;
    }
    ws->s_interp = py::ref::steal(py::str(in.name()));
    const char* group = std::getenv("SUBHTTPD_PROCESS_GROUP");  // set in a process group's process
    ws->s_group = py::ref::steal(py::str(group != nullptr ? group : ""));
    ws->env_template = py::ref::steal(PyDict_New());
    if (!ws->s_interp || !ws->s_group || !ws->env_template) {
        return nullptr;
    }
    struct constant {
        int key;
        PyObject* value;
    } constants[] = {
        {k_server_software, ws->s_software.get()}, {k_gateway_interface, ws->s_cgi.get()},
        {k_wsgi_version, ws->version.get()},       {k_wsgi_errors, ws->errors.get()},
        {k_wsgi_run_once, Py_False},                {k_wsgi_file_wrapper, ws->file_wrapper.get()},
        {k_wsgi_input_terminated, Py_True},         {k_application_group, ws->s_interp.get()},
        {k_process_group, ws->s_group.get()},       {k_subhttpd_interpreter, ws->s_interp.get()},
    };
    for (int i = 0; i < key_count; ++i) {
        if (i == k_https || i == k_content_type || i == k_content_length || i == k_close) {
            continue;  // present only when the request has them
        }
        PyObject* v = Py_None;
        for (const auto& c : constants) {
            if (c.key == i) {
                v = c.value;
            }
        }
        if (PyDict_SetItem(ws->env_template.get(), ws->keys[i].get(), v) < 0) {
            return nullptr;
        }
    }
    return ws.release();
}

wsgi_state* state_for(interpreter& in) {
    module_state* st = get_module_state(in.module());
    if (st->wsgi == nullptr) {
        st->wsgi = make_state(in);
    }
    return st->wsgi;
}

// ---- environ ----------------------------------------------------------------------

PyObject* latin1(std::string_view s) {
    return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

// Stores `value` (a new reference, may be NULL after an error) under `key`.
bool put(PyObject* d, PyObject* key, PyObject* value) {
    py::ref v = py::ref::steal(value);
    return v && PyDict_SetItem(d, key, v.get()) == 0;
}

// "HTTP_X_FORWARDED_FOR" for "X-Forwarded-For": cached while the cache is small.
PyObject* header_key(wsgi_state& ws, const std::string& name) {
    auto it = ws.header_keys.find(name);
    if (it != ws.header_keys.end()) {
        return Py_NewRef(it->second.get());
    }
    std::string k = "HTTP_";
    k.reserve(5 + name.size());
    for (char c : name) {
        k += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    PyObject* key = PyUnicode_DecodeLatin1(k.data(), static_cast<Py_ssize_t>(k.size()), nullptr);
    if (key == nullptr) {
        return nullptr;
    }
    PyUnicode_InternInPlace(&key);
    if (ws.header_keys.size() < header_key_cache_max) {
        ws.header_keys.emplace(name, py::ref::borrow(key));
    }
    return key;
}

// Request headers as HTTP_* (CONTENT_TYPE/CONTENT_LENGTH without the prefix).
// Names holding '_' are dropped; repeated headers are joined with ", ".
bool add_headers(wsgi_state& ws, PyObject* env, const header_list& headers, bool& has_length) {
    for (const auto& [name, value] : headers) {
        if (name.find('_') != std::string::npos) {
            continue;
        }
        py::ref key;
        if (strcasecmp(name.c_str(), "Content-Type") == 0) {
            key = ws.keys[k_content_type];
        } else if (strcasecmp(name.c_str(), "Content-Length") == 0) {
            key = ws.keys[k_content_length];
            has_length = true;
        } else {
            key = py::ref::steal(header_key(ws, name));
            if (!key) {
                return false;
            }
        }
        PyObject* old = PyDict_GetItemWithError(env, key.get());
        if (old == nullptr && PyErr_Occurred()) {
            return false;
        }
        py::ref v = py::ref::steal(latin1(value));
        if (!v) {
            return false;
        }
        if (old != nullptr) {
            py::ref sep = py::ref::steal(PyUnicode_FromString(", "));
            py::ref a = py::ref::steal(sep ? PyUnicode_Concat(old, sep.get()) : nullptr);
            v = py::ref::steal(a ? PyUnicode_Concat(a.get(), v.get()) : nullptr);
            if (!v) {
                return false;
            }
        }
        if (PyDict_SetItem(env, key.get(), v.get()) < 0) {
            return false;
        }
    }
    return true;
}

// SERVER_NAME and SERVER_PORT as Apache gives them with UseCanonicalName Off:
// the Host header's name and port, else the site's name and the local port.
void server_name_port(const request_ctx& ctx, std::string& name, std::string& port) {
    std::string_view h = host::split(ctx.ex->host()).name;
    if (h.empty() && ctx.route->site != nullptr) {
        h = ctx.route->site->server_name;
    }
    name = text::to_lower(h);
    const peer_info& peer = ctx.ex->peer();
    port = host::server_port(ctx.ex->host(), peer.local_port, peer.scheme == "https");
}

PyObject* build_environ(wsgi_state& ws, interpreter& in, const request_ctx& ctx, PyObject* script_filename,
                        PyObject* input) {
    py::ref env = py::ref::steal(PyDict_Copy(ws.env_template.get()));
    if (!env) {
        return nullptr;
    }
    PyObject* d = env.get();
    exchange& ex = *ctx.ex;
    const hosts::route& r = *ctx.route;
    bool has_length = false;
    if (!add_headers(ws, d, ex.request_headers(), has_length)) {
        return nullptr;
    }
    // A chunked body has no Content-Length, but it is complete here: tell the app its size.
    if (!has_length && ex.body_remaining() > 0 &&
        !put(d, ws.keys[k_content_length].get(), PyUnicode_FromFormat("%zu", ex.body_remaining()))) {
        return nullptr;
    }
    const std::string& mount = r.mount;
    std::string_view path_info = ctx.uri;
    if (!mount.empty() && path_info.compare(0, mount.size(), mount) == 0) {
        path_info.remove_prefix(mount.size());
    }
    std::string sname, sport;
    server_name_port(ctx, sname, sport);
    const peer_info& peer = ex.peer();
    bool https = peer.scheme == "https";
    auto& k = ws.keys;
    if (!put(d, k[k_request_method].get(), latin1(ex.method())) ||
        !put(d, k[k_script_name].get(), latin1(mount)) || !put(d, k[k_path_info].get(), latin1(path_info)) ||
        !put(d, k[k_query_string].get(), latin1(ctx.args)) ||
        !put(d, k[k_server_name].get(), latin1(sname)) || !put(d, k[k_server_port].get(), latin1(sport)) ||
        !put(d, k[k_server_protocol].get(), latin1(ex.protocol())) ||
        !put(d, k[k_server_addr].get(), latin1(peer.local_ip)) ||
        !put(d, k[k_request_uri].get(), latin1(ex.target())) ||
        !put(d, k[k_request_scheme].get(), Py_NewRef(https ? ws.s_https.get() : ws.s_http.get())) ||
        !put(d, k[k_remote_addr].get(), latin1(peer.remote_ip)) ||
        !put(d, k[k_remote_port].get(), latin1(std::to_string(peer.remote_port))) ||
        !put(d, k[k_document_root].get(), r.site ? py::str(r.site->document_root) : Py_NewRef(ws.s_empty.get())) ||
        !put(d, k[k_script_filename].get(), Py_NewRef(script_filename)) ||
        !put(d, k[k_wsgi_url_scheme].get(), Py_NewRef(https ? ws.s_https.get() : ws.s_http.get())) ||
        !put(d, k[k_wsgi_input].get(), Py_NewRef(input)) ||
        !put(d, k[k_wsgi_multithread].get(), PyBool_FromLong(r.offload)) ||
        !put(d, k[k_wsgi_multiprocess].get(), PyBool_FromLong(ctx.cfg->server.workers != 1))) {
        return nullptr;
    }
    if (https && !put(d, k[k_https].get(), Py_NewRef(ws.s_on.get()))) {
        return nullptr;
    }
    return env.release();
}

// ---- the app ------------------------------------------------------------------------

// (callable, script file) for the route (new reference), from the
// interpreter's handler cache; re-resolved at most once a second when
// autoreload is on. NULL with an error set when it cannot be loaded.
py::ref resolve_app(interpreter& in, const request_ctx& ctx, const hosts::phase_route& pr) {
    std::string key;
    key.reserve(pr.module_dir.size() + pr.wsgi.size() + 6);
    key += "\x1ewsgi\x1f";
    key += pr.module_dir;
    key += '\x1f';
    key += pr.wsgi;
    const bool autoreload = ctx.route->autoreload;
    return in.handlers.get(key, [&](cached_callable& slot) {
        // Dev mode adjusts framework apps (Flask propagates errors, Django DEBUG);
        // the block option wsgi_debugger = "werkzeug" asks for Werkzeug's debugger.
        const bool dev = ctx.cfg != nullptr && ctx.cfg->server.dev;
        auto dbg = ctx.route->options.find("wsgi_debugger");
        const char* debugger = dbg == ctx.route->options.end() ? "" : dbg->second.c_str();
        const double now = mono_now();
        py::ref entry = py::ref::steal(PyObject_CallMethod(in.runtime(), "_resolve_wsgi", "ssOOs", pr.wsgi.c_str(),
                                                           pr.module_dir.c_str(), autoreload ? Py_True : Py_False,
                                                           dev ? Py_True : Py_False, debugger));
        if (!entry || !PyTuple_Check(entry.get()) || PyTuple_GET_SIZE(entry.get()) != 2) {
            if (entry) {
                PyErr_SetString(PyExc_TypeError, "_resolve_wsgi() must return (callable, filename)");
            }
            return false;
        }
        slot.callable = std::move(entry);
        slot.next_check = autoreload ? now + 1.0 : 1e300;
        return true;
    });
}

// The error set now as text with its traceback (cleared), logged once; when it
// is an extension refusing subinterpreters, a second line says what to do.
std::string take_app_error(wsgi_state* ws, interpreter& in, const request_ctx& ctx, const hosts::phase_route& pr,
                           const char* what) {
    std::string hint;
    if (ws != nullptr) {
        hint = extension_refusal_hint(in, ctx.reg, "the WSGI app " + pr.wsgi + " (" + hosts::describe_in(*ctx.route, pr.from) + ")",
                                      ctx.reg != nullptr);
    }
    std::string text = py::take_error_text();
    if (!hint.empty()) {
        text += "\n" + hint + "\n";
    }
    log::write(log::level::error, "wsgi", in.name(),
               std::string(what) + " (WSGI app " + pr.wsgi + ") for " + ctx.uri + ":\n" + text);
    return text;
}

// Ends the request's hold on the native objects it handed to the app.
struct detach_guard {
    input_object* input = nullptr;
    start_response_object* sr = nullptr;
    ~detach_guard() {
        if (input != nullptr) {
            input->ex = nullptr;
        }
        if (sr != nullptr) {
            sr->resp = nullptr;
        }
    }
};

// Sends a wsgi.file_wrapper's file with the exchange (sendfile). Returns 1 when
// sent, 0 when the file cannot be found (iterate instead), -1 with an error set.
int send_wrapped_file(wsgi_state& ws, wsgi_response& resp, PyObject* wrapper) {
    py::ref target = py::ref::steal(PyObject_CallOneArg(ws.file_target.get(), wrapper));
    if (!target) {
        return -1;
    }
    const char* path = nullptr;
    unsigned long long offset = 0, length = 0;
    if (target.get() == Py_None || !PyArg_ParseTuple(target.get(), "sKK", &path, &offset, &length)) {
        PyErr_Clear();
        return 0;
    }
    if (!resp.headers_set) {
        PyErr_SetString(PyExc_AssertionError, "the application returned a file without calling start_response()");
        return -1;
    }
    if (resp.content_length >= 0 && static_cast<unsigned long long>(resp.content_length) < length) {
        length = static_cast<unsigned long long>(resp.content_length);
    }
    resp.committed = true;
    if (length > 0 && !resp.ex->send_file(path, offset, length)) {
        return 0;
    }
    resp.sent += length;
    return 1;
}

// Writes one block of the result; false with a Python error set.
bool emit_block(wsgi_response& resp, PyObject* block, bool single) {
    if (PyBytes_Check(block)) {
        return resp.emit(PyBytes_AS_STRING(block), static_cast<std::size_t>(PyBytes_GET_SIZE(block)), single);
    }
    if (PyByteArray_Check(block)) {
        return resp.emit(PyByteArray_AS_STRING(block), static_cast<std::size_t>(PyByteArray_GET_SIZE(block)), single);
    }
    PyErr_Format(PyExc_TypeError, "the application must yield bytes, not %s", Py_TYPE(block)->tp_name);
    return false;
}

// Writes a list or tuple result (every block is there: buffered, with its
// length); false with a Python error set.
bool drain_sequence(wsgi_response& resp, PyObject* result) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(result);
    for (Py_ssize_t i = 0; i < n; ++i) {
        py::ref block = py::ref::borrow(PySequence_Fast_GET_ITEM(result, i));
        if (!emit_block(resp, block.get(), true)) {
            return false;
        }
        n = PySequence_Fast_GET_SIZE(result);
    }
    return true;
}

enum class pulled { finished, paused, failed };

// Pulls blocks from `it` into the response, each under the handler timeout.
// Once the response streams from the loop (`may_pause`), it pauses after each
// block so the loop serves other connections, and the job resumes it when the
// socket has room (below low water). failed: a Python error is set.
pulled pull(wsgi_response& resp, PyObject* it, const wsgi_pacing& pace, bool may_pause) {
    for (;;) {
        if (pace.wd != nullptr) {
            pace.wd->arm(*pace.in, pace.ms);
        }
        py::ref block = py::ref::steal(PyIter_Next(it));
        if (pace.wd != nullptr) {
            pace.wd->disarm();  // when it fired, its HandlerTimeout is the error raised
        }
        if (!block) {
            return PyErr_Occurred() ? pulled::failed : pulled::finished;
        }
        if (!emit_block(resp, block.get(), false)) {
            return pulled::failed;
        }
        if (resp.ex->gone()) {
            return pulled::finished;  // nobody to send the rest to
        }
        if (may_pause && resp.streaming) {
            return pulled::paused;
        }
    }
}

// `o.name` into `out` (unset when missing): 1 found, 0 missing, -1 error.
int optional_attr(PyObject* o, PyObject* name, py::ref& out) {
    PyObject* r = nullptr;
#if PY_VERSION_HEX >= 0x030D0000
    int rc = PyObject_GetOptionalAttr(o, name, &r);
#else
    int rc = _PyObject_LookupAttr(o, name, &r);
#endif
    out = py::ref::steal(r);
    return rc;
}

// result.close(), when it has one; false with a Python error set.
bool close_result(wsgi_state& ws, PyObject* result) {
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result) || PyBytes_CheckExact(result)) {
        return true;
    }
    py::ref close;
    if (optional_attr(result, ws.keys[k_close].get(), close) < 0) {
        return false;
    }
    if (!close) {
        return true;
    }
    py::ref r = py::ref::steal(PyObject_CallNoArgs(close.get()));
    return static_cast<bool>(r);
}

}  // namespace

// An inline response still being pulled: what run_wsgi's frame held, kept
// while the job waits for the socket. Dropped with the GIL held, in its
// interpreter.
struct wsgi_stream {
    py::ref input;
    py::ref sr;
    py::ref result;
    py::ref it;
    wsgi_response resp;
    std::string app;  // the route's wsgi text, for messages
    ~wsgi_stream() {
        if (input) {
            reinterpret_cast<input_object*>(input.get())->ex = nullptr;
        }
        if (sr) {
            reinterpret_cast<start_response_object*>(sr.get())->resp = nullptr;
        }
    }
};

void wsgi_stream_deleter::operator()(wsgi_stream* s) const { delete s; }

namespace {

// The iteration ended (ok) or failed: close() the result, end the response.
// Returns the content phase's code.
int end_result(wsgi_state& ws, interpreter& in, request_ctx& ctx, const hosts::phase_route& pr,
               wsgi_response& resp, PyObject* result, bool ok, std::string& error_text) {
    // close() is called whatever happened while iterating (PEP 3333); its
    // own error is reported unless the iteration's comes first.
    PyObject *t = nullptr, *v = nullptr, *tb = nullptr;
    PyErr_Fetch(&t, &v, &tb);
    bool closed = close_result(ws, result);
    if (!ok) {
        if (!closed) {
            log::write(log::level::error, "wsgi", in.name(),
                       "close() of " + pr.wsgi + " failed too:\n" + py::take_error_text());
        }
        PyErr_Restore(t, v, tb);
    } else {
        ok = closed;
    }
    if (ok && !resp.headers_set) {
        PyErr_SetString(PyExc_AssertionError, "the application returned without calling start_response()");
        ok = false;
    }
    if (!ok) {
        error_text = take_app_error(&ws, in, ctx, pr, "WSGI app failed");
        if (resp.streaming || resp.ex->streaming()) {
            // The headers are out: the client must see a broken response, not
            // a complete one (PEP 3333, RFC 9112 7.1: no last chunk).
            ctx.status = resp.status;
            resp.ex->abort();
            return -2;
        }
        ctx.ex->discard_output();
        return 500;
    }
    resp.finish();
    ctx.status = resp.status;
    return -2;  // DONE
}

}  // namespace

int run_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, PyObject*, std::string& error_text,
             const wsgi_pacing& pace, wsgi_stream_ptr* paused) {
    wsgi_state* ws = state_for(in);
    if (ws == nullptr) {
        error_text = take_app_error(nullptr, in, ctx, pr, "cannot set up WSGI");
        return 500;
    }
    py::ref entry = resolve_app(in, ctx, pr);
    if (!entry) {
        bool fd_shortage = error_is_fd_shortage();
        error_text = take_app_error(ws, in, ctx, pr, "cannot load the WSGI app");
        return fd_shortage ? 503 : 500;
    }
    py::ref app = py::ref::borrow(PyTuple_GET_ITEM(entry.get(), 0));
    py::ref script = py::ref::borrow(PyTuple_GET_ITEM(entry.get(), 1));

    wsgi_response resp;
    resp.ctx = &ctx;
    resp.ex = ctx.ex;
    resp.may_stream = ctx.ex->method() != "HEAD";

    auto* input_tp = reinterpret_cast<PyTypeObject*>(ws->input_type.get());
    py::ref input = py::ref::steal(input_tp->tp_alloc(input_tp, 0));
    auto* sr_tp = reinterpret_cast<PyTypeObject*>(ws->start_response_type.get());
    py::ref sr = py::ref::steal(sr_tp->tp_alloc(sr_tp, 0));
    if (!input || !sr) {
        error_text = take_app_error(ws, in, ctx, pr, "cannot set up WSGI");
        return 500;
    }
    detach_guard guard;  // after the refs: it runs before they are dropped
    guard.input = reinterpret_cast<input_object*>(input.get());
    guard.input->ex = ctx.ex;
    guard.input->remaining = ctx.ex->body_remaining();
    guard.sr = reinterpret_cast<start_response_object*>(sr.get());
    guard.sr->resp = &resp;

    py::ref env = py::ref::steal(build_environ(*ws, in, ctx, script.get(), input.get()));
    if (!env) {
        error_text = take_app_error(ws, in, ctx, pr, "cannot build the WSGI environ");
        return 500;
    }
    PyObject* call_args[] = {env.get(), sr.get()};
    if (pace.wd != nullptr) {
        pace.wd->arm(in, pace.ms);
    }
    py::ref result = py::ref::steal(PyObject_Vectorcall(app.get(), call_args, 2, nullptr));
    if (pace.wd != nullptr) {
        pace.wd->disarm();
    }
    env.reset();
    if (!result) {
        bool fd_shortage = error_is_fd_shortage();
        error_text = take_app_error(ws, in, ctx, pr, "WSGI app failed");
        ctx.ex->discard_output();
        return fd_shortage ? 503 : 500;
    }
    bool ok = true;
    PyObject* r = result.get();
    if (PyList_CheckExact(r) || PyTuple_CheckExact(r)) {
        ok = drain_sequence(resp, r);
        return end_result(*ws, in, ctx, pr, resp, r, ok, error_text);
    }
    if (Py_TYPE(r) == reinterpret_cast<PyTypeObject*>(ws->file_wrapper.get()) && !resp.committed) {
        int sent = send_wrapped_file(*ws, resp, r);
        if (sent != 0) {
            return end_result(*ws, in, ctx, pr, resp, r, sent > 0, error_text);
        }
    }
    py::ref it = py::ref::steal(PyObject_GetIter(r));
    if (!it) {
        return end_result(*ws, in, ctx, pr, resp, r, false, error_text);
    }
    pulled p = pull(resp, it.get(), pace, paused != nullptr);
    if (p != pulled::paused) {
        return end_result(*ws, in, ctx, pr, resp, r, p == pulled::finished, error_text);
    }
    // The socket is the limit now: keep the iteration for the job to resume.
    wsgi_stream_ptr st(new wsgi_stream);
    st->resp = std::move(resp);
    st->app = pr.wsgi;
    guard.input = nullptr;
    guard.sr->resp = &st->resp;
    guard.sr = nullptr;
    st->input = std::move(input);
    st->sr = std::move(sr);
    st->result = std::move(result);
    st->it = std::move(it);
    *paused = std::move(st);
    return wsgi_paused;
}

int resume_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, std::string& error_text,
                const wsgi_pacing& pace, wsgi_stream_ptr& stream) {
    wsgi_state* ws = state_for(in);
    wsgi_stream& st = *stream;
    st.resp.ctx = &ctx;
    pulled p = ws == nullptr ? pulled::failed : pull(st.resp, st.it.get(), pace, true);
    if (p == pulled::paused) {
        return wsgi_paused;
    }
    if (ws == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "WSGI state lost");
        error_text = take_app_error(nullptr, in, ctx, pr, "WSGI app failed");
        st.resp.ex->abort();
        stream.reset();
        return -2;
    }
    int code = end_result(*ws, in, ctx, pr, st.resp, st.result.get(), p == pulled::finished, error_text);
    stream.reset();
    return code;
}

}  // namespace subhttpd::interp

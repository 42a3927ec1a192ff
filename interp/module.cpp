// The native `subhttpd` module and its `request` type (mod_python's req).
// Scalars are read from and written to the request_ctx; tables are mod_python
// `table` objects made on first use. Members that are plain Python (connection,
// server, get_basic_auth_pw, ...) are added to the type by _subhttpd.py.
#include "interp/module.h"

#include <structmember.h>

#include <sys/stat.h>

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>
#include <utility>

#include "common/host.h"
#include "common/log.h"
#include "common/text.h"
#include "interp/body.h"
#include "interp/py_util.h"

namespace subhttpd::interp {
namespace {

struct request_object {
    PyObject_HEAD
    request_ctx* ctx;
    PyObject* dict;
    PyObject* headers_in;
    PyObject* headers_out;
    PyObject* err_headers_out;
    PyObject* notes;
    PyObject* subprocess_env;
    PyObject* options;
    PyObject* config;
    PyObject* weakrefs;
};

module_state* state_of(PyObject* module) { return static_cast<module_state*>(PyModule_GetState(module)); }

module_state* state_of_type(PyTypeObject* t) { return static_cast<module_state*>(PyType_GetModuleState(t)); }

bool alive(request_object* self) {
    if (self->ctx == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "the request is finished; this req object can no longer be used");
        return false;
    }
    return true;
}

PyObject* make_table(PyTypeObject* type, const header_list& items, bool response_headers = false) {
    module_state* st = state_of_type(type);
    py::ref t = py::ref::steal(PyObject_CallNoArgs(response_headers ? st->header_table_type : st->table_type));
    if (!t) {
        return nullptr;
    }
    py::ref list = py::ref::steal(PyList_New(static_cast<Py_ssize_t>(items.size())));
    if (!list) {
        return nullptr;
    }
    Py_ssize_t i = 0;
    for (const auto& [k, v] : items) {
        // Response header text is Latin-1 on the wire (one byte a code point).
        py::ref ks = py::ref::steal(response_headers ? PyUnicode_DecodeLatin1(k.data(), static_cast<Py_ssize_t>(k.size()), nullptr)
                                                     : py::str(k));
        py::ref vs = py::ref::steal(response_headers ? PyUnicode_DecodeLatin1(v.data(), static_cast<Py_ssize_t>(v.size()), nullptr)
                                                     : py::str(v));
        if (!ks || !vs) {
            return nullptr;
        }
        PyObject* pair = PyTuple_Pack(2, ks.get(), vs.get());
        if (pair == nullptr) {
            return nullptr;
        }
        PyList_SET_ITEM(list.get(), i++, pair);
    }
    if (PyObject_SetAttr(t.get(), st->str_items, list.get()) < 0) {
        return nullptr;
    }
    return t.release();
}

bool read_table(PyTypeObject* type, PyObject* table, header_list& out) {
    module_state* st = state_of_type(type);
    py::ref items = py::ref::steal(PyObject_GetAttr(table, st->str_items));
    if (!items) {
        return false;
    }
    py::ref seq = py::ref::steal(PySequence_Fast(items.get(), "table items must be a sequence"));
    if (!seq) {
        return false;
    }
    out.clear();
    bool latin1 = PyObject_TypeCheck(table, reinterpret_cast<PyTypeObject*>(st->header_table_type));
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
    out.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* pair = PySequence_Fast_GET_ITEM(seq.get(), i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "table entries must be (key, value) pairs");
            return false;
        }
        std::string k, v;
        if (latin1) {
            py::ref kb = py::ref::steal(PyUnicode_AsLatin1String(PyTuple_GET_ITEM(pair, 0)));
            py::ref vb = py::ref::steal(kb ? PyUnicode_AsLatin1String(PyTuple_GET_ITEM(pair, 1)) : nullptr);
            if (!kb || !vb) {
                return false;
            }
            k.assign(PyBytes_AS_STRING(kb.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(kb.get())));
            v.assign(PyBytes_AS_STRING(vb.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(vb.get())));
        } else if (!py::to_string(PyTuple_GET_ITEM(pair, 0), k) || !py::to_string(PyTuple_GET_ITEM(pair, 1), v)) {
            return false;
        }
        out.emplace_back(std::move(k), std::move(v));
    }
    return true;
}

// ---- type slots -------------------------------------------------------------

int req_traverse(PyObject* o, visitproc visit, void* arg) {
    auto* self = reinterpret_cast<request_object*>(o);
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(self->dict);
    Py_VISIT(self->headers_in);
    Py_VISIT(self->headers_out);
    Py_VISIT(self->err_headers_out);
    Py_VISIT(self->notes);
    Py_VISIT(self->subprocess_env);
    Py_VISIT(self->options);
    Py_VISIT(self->config);
    return 0;
}

int req_clear(PyObject* o) {
    auto* self = reinterpret_cast<request_object*>(o);
    Py_CLEAR(self->dict);
    Py_CLEAR(self->headers_in);
    Py_CLEAR(self->headers_out);
    Py_CLEAR(self->err_headers_out);
    Py_CLEAR(self->notes);
    Py_CLEAR(self->subprocess_env);
    Py_CLEAR(self->options);
    Py_CLEAR(self->config);
    return 0;
}

void req_dealloc(PyObject* o) {
    PyTypeObject* tp = Py_TYPE(o);
    PyObject_GC_UnTrack(o);
    auto* self = reinterpret_cast<request_object*>(o);
    if (self->weakrefs != nullptr) {
        PyObject_ClearWeakRefs(o);
    }
    req_clear(o);
    tp->tp_free(o);
    Py_DECREF(tp);
}

PyObject* req_repr(PyObject* o) {
    auto* self = reinterpret_cast<request_object*>(o);
    if (self->ctx == nullptr) {
        return PyUnicode_FromString("<subhttpd.request (finished)>");
    }
    return PyUnicode_FromFormat("<subhttpd.request %s %s>", std::string(self->ctx->ex->method()).c_str(),
                                self->ctx->uri.c_str());
}

// ---- getters / setters ----------------------------------------------------

#define REQ_ALIVE(o)                                        \
    auto* self = reinterpret_cast<request_object*>(o);      \
    if (!alive(self)) {                                     \
        return nullptr;                                     \
    }                                                       \
    request_ctx& c = *self->ctx;

#define REQ_ALIVE_SET(o)                                    \
    auto* self = reinterpret_cast<request_object*>(o);      \
    if (!alive(self)) {                                     \
        return -1;                                          \
    }                                                       \
    request_ctx& c = *self->ctx;

PyObject* get_method(PyObject* o, void*) { REQ_ALIVE(o); return py::str(c.ex->method()); }
PyObject* get_unparsed_uri(PyObject* o, void*) { REQ_ALIVE(o); return py::str(c.ex->target()); }
PyObject* get_protocol(PyObject* o, void*) { REQ_ALIVE(o); return py::str(c.ex->protocol()); }
PyObject* get_proto_num(PyObject* o, void*) {
    REQ_ALIVE(o);
    std::string_view p = c.ex->protocol();
    long n = (p == "HTTP/1.0") ? 1000 : (p == "HTTP/0.9" ? 9 : 1001);
    return PyLong_FromLong(n);
}
PyObject* get_hostname(PyObject* o, void*) {
    REQ_ALIVE(o);
    std::string_view h = host::split(c.ex->host()).name;
    if (h.empty() && c.route->site != nullptr) {
        return py::str(c.route->site->server_name);
    }
    return py::str(text::to_lower(h));
}
PyObject* get_the_request(PyObject* o, void*) {
    REQ_ALIVE(o);
    std::string s(c.ex->method());
    s += ' ';
    s += c.ex->target();
    s += ' ';
    s += c.ex->protocol();
    return py::str(s);
}
PyObject* get_header_only(PyObject* o, void*) { REQ_ALIVE(o); return PyBool_FromLong(c.ex->method() == "HEAD"); }
PyObject* get_interpreter(PyObject* o, void*) { REQ_ALIVE(o); return py::str(c.main_name); }
PyObject* get_phase(PyObject* o, void*) { REQ_ALIVE(o); return py::str(conf::phase_directive(c.phase)); }
PyObject* get_status(PyObject* o, void*) { REQ_ALIVE(o); return PyLong_FromLong(c.status); }
int set_status(PyObject* o, PyObject* v, void*) {
    REQ_ALIVE_SET(o);
    if (v == nullptr || !PyLong_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "req.status must be an integer");
        return -1;
    }
    long s = PyLong_AsLong(v);
    if (s < 100 || s > 999) {
        PyErr_SetString(PyExc_ValueError, "req.status must be an HTTP status code (100-999)");
        return -1;
    }
    c.status = static_cast<int>(s);
    return 0;
}
PyObject* get_bytes_sent(PyObject* o, void*) { REQ_ALIVE(o); return PyLong_FromSize_t(c.ex->bytes_written()); }
PyObject* get_remaining(PyObject* o, void*) { REQ_ALIVE(o); return PyLong_FromSize_t(c.ex->body_remaining()); }
PyObject* get_mtime(PyObject* o, void*) { REQ_ALIVE(o); return PyLong_FromLongLong(c.mtime); }
PyObject* get_clength(PyObject* o, void*) {
    REQ_ALIVE(o);
    return PyLong_FromLongLong(c.content_length < 0 ? 0 : c.content_length);
}
PyObject* get_no_cache(PyObject* o, void*) { REQ_ALIVE(o); return PyBool_FromLong(c.no_cache); }
int set_no_cache(PyObject* o, PyObject* v, void*) {
    REQ_ALIVE_SET(o);
    int t = v ? PyObject_IsTrue(v) : 0;
    if (t < 0) {
        return -1;
    }
    c.no_cache = t != 0;
    return 0;
}
PyObject* get_handler(PyObject* o, void*) { REQ_ALIVE(o); return py::str(c.handler_name); }
// Nothing fills content_type before the handlers run (no mod_mime), so a
// non-empty one was assigned by a handler: mod_python's _content_type_set.
PyObject* get_content_type_set(PyObject* o, void*) { REQ_ALIVE(o); return PyBool_FromLong(!c.content_type.empty()); }

// String members the handler may change.
struct string_member {
    std::string request_ctx::*field;
    bool none_when_empty;
};
const string_member sm_uri{&request_ctx::uri, false};
const string_member sm_filename{&request_ctx::filename, false};
const string_member sm_path_info{&request_ctx::path_info, false};
const string_member sm_args{&request_ctx::args, true};
const string_member sm_content_type{&request_ctx::content_type, true};
const string_member sm_user{&request_ctx::user, true};
const string_member sm_ap_auth_type{&request_ctx::ap_auth_type, true};
const string_member sm_status_line{&request_ctx::status_line, true};

PyObject* get_string(PyObject* o, void* closure) {
    REQ_ALIVE(o);
    const auto* m = static_cast<const string_member*>(closure);
    const std::string& s = c.*(m->field);
    if (s.empty() && m->none_when_empty) {
        Py_RETURN_NONE;
    }
    return py::str(s);
}
int set_string(PyObject* o, PyObject* v, void* closure) {
    REQ_ALIVE_SET(o);
    const auto* m = static_cast<const string_member*>(closure);
    if (v == nullptr || v == Py_None) {
        (c.*(m->field)).clear();
        return 0;
    }
    std::string s;
    if (!py::to_string(v, s)) {
        return -1;
    }
    if (s.find_first_of("\r\n", 0) != std::string::npos || s.find('\0') != std::string::npos) {
        PyErr_SetString(PyExc_ValueError, "value may not contain CR, LF or NUL");
        return -1;
    }
    c.*(m->field) = std::move(s);
    return 0;
}

// Tables, made on first use.
enum class table_id { headers_in, headers_out, err_headers_out, notes, subprocess_env };

PyObject** table_slot(request_object* self, table_id id) {
    switch (id) {
        case table_id::headers_in: return &self->headers_in;
        case table_id::headers_out: return &self->headers_out;
        case table_id::err_headers_out: return &self->err_headers_out;
        case table_id::notes: return &self->notes;
        case table_id::subprocess_env: return &self->subprocess_env;
    }
    return nullptr;
}

const table_id tid_headers_in = table_id::headers_in;
const table_id tid_headers_out = table_id::headers_out;
const table_id tid_err_headers_out = table_id::err_headers_out;
const table_id tid_notes = table_id::notes;
const table_id tid_subprocess_env = table_id::subprocess_env;

// Apache joins a repeated request header into one value ("a, b") before any
// handler sees headers_in; mod_python code relies on getting a str back.
// Cookie headers are joined with "; " (RFC 9113 8.2.3), which cookie parsers read.
header_list merge_repeated(const header_list& in) {
    header_list out;
    out.reserve(in.size());
    for (const auto& [k, v] : in) {
        auto same = [&k](const auto& kv) {
            return kv.first.size() == k.size() && strncasecmp(kv.first.c_str(), k.c_str(), k.size()) == 0;
        };
        auto it = std::find_if(out.begin(), out.end(), same);
        if (it == out.end()) {
            out.emplace_back(k, v);
        } else {
            it->second += strcasecmp(k.c_str(), "Cookie") == 0 ? "; " : ", ";
            it->second += v;
        }
    }
    return out;
}

PyObject* get_table(PyObject* o, void* closure) {
    auto* self = reinterpret_cast<request_object*>(o);
    table_id id = *static_cast<const table_id*>(closure);
    PyObject** slot = table_slot(self, id);
    if (*slot == nullptr) {
        if (!alive(self)) {
            return nullptr;
        }
        request_ctx& c = *self->ctx;
        header_list merged;
        if (id == table_id::headers_in && !c.headers_in_carried) {
            merged = merge_repeated(c.ex->request_headers());
        }
        const header_list* src = nullptr;
        switch (id) {
            case table_id::headers_in: src = c.headers_in_carried ? &c.headers_in : &merged; break;
            case table_id::headers_out: src = &c.headers_out; break;
            case table_id::err_headers_out: src = &c.err_headers_out; break;
            case table_id::notes: src = &c.notes; break;
            case table_id::subprocess_env: src = &c.subprocess_env; break;
        }
        *slot = make_table(Py_TYPE(o), *src, id == table_id::headers_out || id == table_id::err_headers_out);
        if (*slot == nullptr) {
            return nullptr;
        }
        if (id != table_id::headers_in) {
            c.tables_exported = false;
        }
    }
    return Py_NewRef(*slot);
}

int set_table(PyObject* o, PyObject* v, void* closure) {
    auto* self = reinterpret_cast<request_object*>(o);
    table_id id = *static_cast<const table_id*>(closure);
    module_state* st = state_of_type(Py_TYPE(o));
    if (v == nullptr || !PyObject_IsInstance(v, st->table_type)) {
        PyErr_SetString(PyExc_TypeError, "a table is required");
        return -1;
    }
    PyObject** slot = table_slot(self, id);
    Py_XSETREF(*slot, Py_NewRef(v));
    if (self->ctx != nullptr) {
        self->ctx->tables_exported = false;
    }
    return 0;
}

PyObject* get_dict(PyObject* o, void*) {
    auto* self = reinterpret_cast<request_object*>(o);
    if (self->dict == nullptr) {
        self->dict = PyDict_New();
        if (self->dict == nullptr) {
            return nullptr;
        }
    }
    return Py_NewRef(self->dict);
}

PyGetSetDef req_getset[] = {
    {"method", get_method, nullptr, "the request method", nullptr},
    {"unparsed_uri", get_unparsed_uri, nullptr, "the request-target as received", nullptr},
    {"the_request", get_the_request, nullptr, "the request line", nullptr},
    {"protocol", get_protocol, nullptr, "HTTP/1.1 or HTTP/1.0", nullptr},
    {"proto_num", get_proto_num, nullptr, "1001 for HTTP/1.1", nullptr},
    {"hostname", get_hostname, nullptr, "the Host header without the port", nullptr},
    {"header_only", get_header_only, nullptr, "true for HEAD", nullptr},
    {"interpreter", get_interpreter, nullptr, "the name of the interpreter running this phase", nullptr},
    {"phase", get_phase, nullptr, "the phase being run, e.g. PythonHandler", nullptr},
    {"status", get_status, set_status, "the response status", nullptr},
    {"bytes_sent", get_bytes_sent, nullptr, "body bytes written so far", nullptr},
    {"remaining", get_remaining, nullptr, "request body bytes not read yet", nullptr},
    {"mtime", get_mtime, nullptr, "see update_mtime()", nullptr},
    {"clength", get_clength, nullptr, "see set_content_length()", nullptr},
    {"no_cache", get_no_cache, set_no_cache, "send no-cache headers", nullptr},
    {"handler", get_handler, nullptr, "the handler name (mod_python)", nullptr},
    {"_content_type_set", get_content_type_set, nullptr, "true once a handler assigned content_type", nullptr},
    {"uri", get_string, set_string, "the path of the URL", const_cast<string_member*>(&sm_uri)},
    {"filename", get_string, set_string, "the file the URL maps to", const_cast<string_member*>(&sm_filename)},
    {"canonical_filename", get_string, nullptr, "the file the URL maps to", const_cast<string_member*>(&sm_filename)},
    {"path_info", get_string, set_string, "what follows filename in the URL", const_cast<string_member*>(&sm_path_info)},
    {"args", get_string, set_string, "the query string", const_cast<string_member*>(&sm_args)},
    {"content_type", get_string, set_string, "the response Content-Type", const_cast<string_member*>(&sm_content_type)},
    {"user", get_string, set_string, "the authenticated user", const_cast<string_member*>(&sm_user)},
    {"ap_auth_type", get_string, set_string, "the authentication type", const_cast<string_member*>(&sm_ap_auth_type)},
    {"status_line", get_string, set_string, "e.g. '200 OK'", const_cast<string_member*>(&sm_status_line)},
    {"headers_in", get_table, nullptr, "request headers", const_cast<table_id*>(&tid_headers_in)},
    {"headers_out", get_table, set_table, "response headers", const_cast<table_id*>(&tid_headers_out)},
    {"err_headers_out", get_table, set_table, "response headers also sent with errors", const_cast<table_id*>(&tid_err_headers_out)},
    {"notes", get_table, set_table, "notes shared between phases", const_cast<table_id*>(&tid_notes)},
    {"subprocess_env", get_table, set_table, "CGI-style environment", const_cast<table_id*>(&tid_subprocess_env)},
    {"__dict__", get_dict, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

// ---- methods --------------------------------------------------------------

PyObject* req_write(PyObject* o, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    REQ_ALIVE(o);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "write() needs the data to write");
        return nullptr;
    }
    // flush=1 (mod_python's default) sends the headers and the data at once
    // (what the socket takes); flush=0 buffers until the handler returns.
    bool flush = true;
    if (nargs >= 2) {
        flush = PyObject_IsTrue(args[1]) != 0;
    }
    if (kwnames != nullptr) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
            if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "flush") == 0) {
                flush = PyObject_IsTrue(args[nargs + i]) != 0;
            }
        }
    }
    PyObject* data = args[0];
    Py_ssize_t incoming = PyUnicode_Check(data) ? PyUnicode_GET_LENGTH(data)
                          : PyBytes_Check(data)  ? PyBytes_GET_SIZE(data)
                                                 : 0;
    if (!c.ex->streaming() && !(flush && c.on_flush) &&
        c.ex->bytes_written() + static_cast<std::size_t>(incoming) > max_buffered_response) {
        PyErr_Format(PyExc_IOError,
                     "response too large to buffer (over %zu MB): write it with flush=1, or from a block with "
                     "offload = true",
                     max_buffered_response >> 20);
        return nullptr;
    }
    if (c.ex->streaming() && c.ex->unsent() + static_cast<std::size_t>(incoming) > max_buffered_response) {
        // On the loop a write cannot wait for a slow client; past this much
        // unsent output the handler is told instead of the server growing.
        PyErr_Format(PyExc_IOError,
                     "response too large: over %zu MB not yet taken by the client (await req.drain() in an async "
                     "handler, or offload = true)",
                     max_buffered_response >> 20);
        return nullptr;
    }
    if (PyUnicode_Check(data)) {
        Py_ssize_t n = 0;
        const char* s = PyUnicode_AsUTF8AndSize(data, &n);
        if (s == nullptr) {
            return nullptr;
        }
        c.ex->write(s, static_cast<std::size_t>(n));
    } else if (PyBytes_Check(data)) {
        c.ex->write(PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data)));
    } else {
        Py_buffer view;
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
            PyErr_Format(PyExc_TypeError, "write() takes str or bytes, not %s", Py_TYPE(data)->tp_name);
            return nullptr;
        }
        c.ex->write(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
        PyBuffer_Release(&view);
    }
    if (flush && c.on_flush) {
        c.on_flush();
    }
    Py_RETURN_NONE;
}

PyObject* req_flush(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (c.on_flush) {
        c.on_flush();
    }
    Py_RETURN_NONE;
}

bool size_arg(PyObject* const* args, Py_ssize_t nargs, Py_ssize_t& n) {
    n = -1;
    if (nargs >= 1 && args[0] != Py_None) {
        n = PyLong_AsSsize_t(args[0]);
        if (n == -1 && PyErr_Occurred()) {
            return false;
        }
    }
    return true;
}

PyObject* req_read(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    Py_ssize_t n = 0;
    if (!size_arg(args, nargs, n)) {
        return nullptr;
    }
    // A small read asks for no length first: behind input filters that would
    // run the whole body through them (the filtered length is known only then).
    constexpr Py_ssize_t small_read = 64 * 1024;
    std::size_t want = n >= 0 && n <= small_read ? static_cast<std::size_t>(n) : c.ex->body_remaining();
    if (n >= 0 && static_cast<std::size_t>(n) < want) {
        want = static_cast<std::size_t>(n);
    }
    return read_body_bytes(*c.ex, want);
}

PyObject* req_readline(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    Py_ssize_t n = 0;
    if (!size_arg(args, nargs, n)) {
        return nullptr;
    }
    std::string line;
    c.ex->read_body_line(line, n < 0 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(n));
    return PyBytes_FromStringAndSize(line.data(), static_cast<Py_ssize_t>(line.size()));
}

PyObject* req_readlines(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    Py_ssize_t hint = 0;
    if (!size_arg(args, nargs, hint)) {
        return nullptr;
    }
    py::ref list = py::ref::steal(PyList_New(0));
    if (!list) {
        return nullptr;
    }
    std::size_t total = 0;
    std::string line;
    while (c.ex->read_body_line(line, static_cast<std::size_t>(-1)) > 0) {
        py::ref b = py::ref::steal(PyBytes_FromStringAndSize(line.data(), static_cast<Py_ssize_t>(line.size())));
        if (!b || PyList_Append(list.get(), b.get()) < 0) {
            return nullptr;
        }
        total += line.size();
        if (hint > 0 && total >= static_cast<std::size_t>(hint)) {
            break;
        }
    }
    return list.release();
}

PyObject* req_discard_request_body(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    char buf[4096];
    while (c.ex->read_body(buf, sizeof buf) > 0) {
    }
    return PyLong_FromLong(0);
}

PyObject* options_table(PyObject* o, const conf::options_map& m) {
    header_list items(m.begin(), m.end());
    return make_table(Py_TYPE(o), items);
}

PyObject* req_get_options(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (self->options == nullptr) {
        self->options = options_table(o, c.route->options);
        if (self->options == nullptr) {
            return nullptr;
        }
    }
    return Py_NewRef(self->options);
}

PyObject* req_get_config(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (self->config == nullptr) {
        header_list items;
        const hosts::route& r = *c.route;
        items.emplace_back("PythonDebug", r.debug ? "1" : "0");
        items.emplace_back("PythonAutoReload", r.autoreload ? "1" : "0");
        items.emplace_back("PythonOptimize", std::to_string(c.cfg->python.optimize));
        const hosts::phase_route& pr = r.at(c.phase);
        if (pr.rule == hosts::interp_rule::interpreter) {
            items.emplace_back("PythonInterpreter", pr.interpreter);
        } else if (pr.rule == hosts::interp_rule::per_directory) {
            items.emplace_back("PythonInterpPerDirectory", "1");
        } else if (pr.rule == hosts::interp_rule::per_directive ||
                   pr.rule == hosts::interp_rule::per_directive_site) {
            items.emplace_back("PythonInterpPerDirective", "1");
        }
        for (conf::phase p : conf::all_phases) {
            const hosts::phase_route& ph = r.at(p);
            if (!ph.set || ph.handlers.empty()) {
                continue;
            }
            std::string v;
            for (const auto& h : ph.handlers) {
                if (!v.empty()) {
                    v += ' ';
                }
                v += h.module + "::" + h.callable;
            }
            items.emplace_back(std::string(conf::phase_directive(p)), v);
        }
        self->config = make_table(Py_TYPE(o), items);
        if (self->config == nullptr) {
            return nullptr;
        }
    }
    return Py_NewRef(self->config);
}

PyObject* req_document_root(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (c.route->site == nullptr) {
        return PyUnicode_FromString("");
    }
    return py::str(c.route->site->document_root);
}

PyObject* req_register_cleanup(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs < 1 || nargs > 2 || !PyCallable_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "register_cleanup(callable[, data])");
        return nullptr;
    }
    cleanup_entry e;
    e.in = c.py_req_interp;
    e.fn = py::ref::borrow(args[0]);
    if (nargs == 2) {
        e.data = py::ref::borrow(args[1]);
    }
    c.cleanups.push_back(std::move(e));
    Py_RETURN_NONE;
}

PyObject* req_internal_redirect(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string uri;
    if (nargs != 1 || !py::to_string(args[0], uri)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "internal_redirect(uri)");
        }
        return nullptr;
    }
    if (uri.empty() || uri.front() != '/') {
        PyErr_SetString(PyExc_ValueError, "internal_redirect() needs a path starting with '/'");
        return nullptr;
    }
    if (!c.on_internal_redirect || !c.on_internal_redirect(uri)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "internal_redirect() is not available here");
        }
        return nullptr;
    }
    Py_RETURN_NONE;
}

PyObject* req_allow_methods(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "allow_methods(methods[, reset])");
        return nullptr;
    }
    if (nargs >= 2) {
        int reset = PyObject_IsTrue(args[1]);
        if (reset < 0) {
            return nullptr;
        }
        if (reset) {
            c.allowed_methods.clear();
        }
    }
    py::ref seq = py::ref::steal(PySequence_Fast(args[0], "allow_methods() takes a sequence of method names"));
    if (!seq) {
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i) {
        std::string m;
        if (!py::to_string(PySequence_Fast_GET_ITEM(seq.get(), i), m)) {
            return nullptr;
        }
        if (!c.allowed_methods.empty()) {
            c.allowed_methods += ", ";
        }
        c.allowed_methods += m;
    }
    Py_RETURN_NONE;
}

PyObject* req_sendfile(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string path;
    if (nargs < 1 || !py::to_string(args[0], path)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "sendfile(path[, offset[, len]])");
        }
        return nullptr;
    }
    long long offset = 0, len = -1;
    if (nargs >= 2 && (offset = PyLong_AsLongLong(args[1])) == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    if (nargs >= 3 && (len = PyLong_AsLongLong(args[2])) == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    struct stat sb{};
    if (::stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        PyErr_Format(PyExc_IOError, "Could not stat file for reading: %s", path.c_str());
        return nullptr;
    }
    if (offset < 0 || offset > sb.st_size) {
        PyErr_SetString(PyExc_ValueError, "offset beyond the end of the file");
        return nullptr;
    }
    std::uint64_t length = static_cast<std::uint64_t>(sb.st_size - offset);
    if (len >= 0 && static_cast<std::uint64_t>(len) < length) {
        length = static_cast<std::uint64_t>(len);
    }
    if (!c.ex->send_file(path, static_cast<std::uint64_t>(offset), length)) {
        PyErr_Format(PyExc_IOError, "Could not open file for reading: %s", path.c_str());
        return nullptr;
    }
    return PyLong_FromUnsignedLongLong(length);
}

PyObject* req_set_content_length(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "set_content_length(length)");
        return nullptr;
    }
    long long n = PyLong_AsLongLong(args[0]);
    if (n == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    c.content_length = n;
    Py_RETURN_NONE;
}

PyObject* req_update_mtime(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "update_mtime(dependency_mtime)");
        return nullptr;
    }
    double t = PyFloat_AsDouble(args[0]);
    if (t == -1.0 && PyErr_Occurred()) {
        return nullptr;
    }
    if (static_cast<std::int64_t>(t) > c.mtime) {
        c.mtime = static_cast<std::int64_t>(t);
    }
    Py_RETURN_NONE;
}

PyObject* req_peer(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    const peer_info& p = c.ex->peer();
    return Py_BuildValue("(sisis)", p.remote_ip.c_str(), static_cast<int>(p.remote_port), p.local_ip.c_str(),
                         static_cast<int>(p.local_port), p.scheme.c_str());
}

PyObject* req_route_info(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    const hosts::route& r = *c.route;
    const conf::site* s = r.site;
    const peer_info& p = c.ex->peer();
    const std::string port = host::server_port(c.ex->host(), p.local_port, p.scheme == "https");
    return Py_BuildValue("{s:s,s:s,s:s,s:O,s:s,s:s}", "server_name", s ? s->server_name.c_str() : "",
                         "document_root", s ? s->document_root.c_str() : "", "mount", r.mount.c_str(),
                         "debug", r.debug ? Py_True : Py_False, "auth_name", r.auth_name.c_str(),
                         "server_port", port.c_str());
}

PyObject* req_auth_type_config(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    return py::str(c.route->auth_type);
}

// server.get_options(): the options set at site level only (the virtual host's).
PyObject* req_site_options(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    header_list items;
    if (c.route->site != nullptr) {
        for (const auto& [k, v] : c.route->site->settings.options) {
            if (!v.empty()) {
                items.emplace_back(k, v);
            }
        }
    }
    return make_table(Py_TYPE(o), items);
}

// server.get_config(): the directives set at site level only (the virtual host's).
PyObject* req_site_config(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    header_list items;
    const conf::site* s = c.route->site;
    const conf::block empty;
    const conf::block& b = s != nullptr ? s->settings : empty;
    items.emplace_back("PythonDebug", b.debug.value_or(c.cfg->python.debug) ? "1" : "0");
    items.emplace_back("PythonAutoReload", b.autoreload.value_or(c.cfg->python.autoreload) ? "1" : "0");
    items.emplace_back("PythonOptimize", std::to_string(c.cfg->python.optimize));
    if (b.interpreter) {
        items.emplace_back("PythonInterpreter", *b.interpreter);
    }
    if (b.interp_per_directory.value_or(false)) {
        items.emplace_back("PythonInterpPerDirectory", "1");
    }
    if (b.interp_per_directive.value_or(false)) {
        items.emplace_back("PythonInterpPerDirective", "1");
    }
    for (conf::phase p : conf::all_phases) {
        const auto& list = b.handlers[static_cast<std::size_t>(p)];
        if (!list || list->empty()) {
            continue;
        }
        std::string v;
        for (const auto& h : *list) {
            v += (v.empty() ? "" : " ") + h;
        }
        items.emplace_back(std::string(conf::phase_directive(p)), v);
    }
    return make_table(Py_TYPE(o), items);
}

// req.register_output_filter(name, handler[, dir]) and the input twin.
PyObject* register_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs, bool is_input) {
    REQ_ALIVE(o);
    std::string name, spec, dir;
    if (nargs < 2 || nargs > 3 || !py::to_string(args[0], name) || !py::to_string(args[1], spec) ||
        (nargs == 3 && args[2] != Py_None && !py::to_string(args[2], dir))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, is_input ? "register_input_filter(name, handler[, dir])"
                                                      : "register_output_filter(name, handler[, dir])");
        }
        return nullptr;
    }
    registered_filter f;
    f.name = name;
    auto sep = spec.find("::");
    f.entry.module = spec.substr(0, sep);
    f.entry.callable = sep == std::string::npos ? std::string(is_input ? "inputfilter" : "outputfilter")
                                                : spec.substr(sep + 2);
    if (name.empty() || f.entry.module.empty() || f.entry.callable.empty()) {
        PyErr_SetString(PyExc_ValueError, "a filter needs a name and a handler \"module[::callable]\"");
        return nullptr;
    }
    const hosts::phase_route& pr = c.route->at(c.phase);
    f.dir = !dir.empty() ? dir : (pr.set ? pr.module_dir : (c.route->site ? c.route->site->document_root : ""));
    f.interpreter = c.main_name;
    f.is_input = is_input;
    c.registered_filters.push_back(std::move(f));
    Py_RETURN_NONE;
}

PyObject* req_register_output_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return register_filter(o, args, nargs, false);
}

PyObject* req_register_input_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return register_filter(o, args, nargs, true);
}

// req.add_output_filter(name): the registered filter joins the chain; what was
// written before it joined is not filtered (as in Apache).
PyObject* add_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs, bool is_input) {
    REQ_ALIVE(o);
    std::string name;
    if (nargs != 1 || !py::to_string(args[0], name)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, is_input ? "add_input_filter(name)" : "add_output_filter(name)");
        }
        return nullptr;
    }
    for (auto it = c.registered_filters.rbegin(); it != c.registered_filters.rend(); ++it) {
        if (it->name == name && it->is_input == is_input) {
            if (!c.on_add_filter) {
                break;
            }
            c.on_add_filter(*it);
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown %s filter '%s' (register it first with req.register_%s_filter)",
                 is_input ? "input" : "output", name.c_str(), is_input ? "input" : "output");
    return nullptr;
}

PyObject* req_add_output_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return add_filter(o, args, nargs, false);
}

PyObject* req_add_input_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return add_filter(o, args, nargs, true);
}

// req.hlist: (handler, directory, is_location) of the handler running now.
// A directory block gives its path with '/', a location its prefix, the site None.
PyObject* req_hlist_info(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (c.running.empty()) {
        return Py_BuildValue("(OOi)", Py_None, Py_None, 0);
    }
    const hosts::block_ref& from = c.running_from;
    if (from.type == hosts::block_ref::kind::site) {
        return Py_BuildValue("(sOi)", c.running.c_str(), Py_None, 0);
    }
    if (from.type == hosts::block_ref::kind::location) {
        return Py_BuildValue("(ssi)", c.running.c_str(), from.path.c_str(), 1);
    }
    std::string dir = from.path;
    if (dir.empty() || dir.back() != '/') {
        dir.push_back('/');
    }
    return Py_BuildValue("(ssi)", c.running.c_str(), dir.c_str(), 0);
}

PyObject* req_log_error(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string msg;
    if (nargs < 1 || !py::to_string(args[0], msg)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "log_error(message[, level])");
        }
        return nullptr;
    }
    long lvl = 3;
    if (nargs >= 2 && (lvl = PyLong_AsLong(args[1])) == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    log::level lv = lvl <= 2 ? log::level::crit
                    : lvl == 3 ? log::level::error
                    : lvl == 4 ? log::level::warn
                    : lvl == 5 ? log::level::notice
                    : lvl == 6 ? log::level::info
                               : log::level::debug;
    log::write(lv, "python", c.main_name, msg);
    Py_RETURN_NONE;
}

// req.add_handler(htype, handler[, dir]): mod_python's dynamic registration.
PyObject* req_add_handler(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string htype, spec, dir;
    if (nargs < 2 || nargs > 3 || !py::to_string(args[0], htype) || !py::to_string(args[1], spec) ||
        (nargs == 3 && args[2] != Py_None && !py::to_string(args[2], dir))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "add_handler(htype, handler[, dir])");
        }
        return nullptr;
    }
    if (spec.find_first_not_of(" \t") == std::string::npos) {
        PyErr_SetString(PyExc_ValueError, "add_handler: the handler is empty");  // as mod_python 3.5
        return nullptr;
    }
    const conf::phase* found = nullptr;
    for (const conf::phase& p : conf::all_phases) {
        if (conf::phase_directive(p) == htype) {
            found = &p;
        }
    }
    if (found == nullptr) {
        PyErr_Format(PyExc_ValueError, "add_handler: unsupported handler type %s (use one of "
                     "PythonPostReadRequestHandler, PythonTransHandler, PythonHeaderParserHandler, "
                     "PythonInitHandler, PythonAccessHandler, PythonAuthenHandler, PythonAuthzHandler, "
                     "PythonTypeHandler, PythonFixupHandler, PythonHandler, PythonLogHandler, "
                     "PythonCleanupHandler)", htype.c_str());
        return nullptr;
    }
    if (static_cast<int>(*found) < static_cast<int>(c.phase)) {
        PyErr_Format(PyExc_ValueError, "add_handler: %s has already run for this request", htype.c_str());
        return nullptr;
    }
    const hosts::phase_route& pr = c.route->at(*found);
    const hosts::phase_route& current = c.route->at(c.phase);
    std::istringstream words(spec);
    std::string word;
    while (words >> word) {
        added_handler a;
        a.phase = *found;
        auto sep = word.find("::");
        a.entry.module = word.substr(0, sep);
        a.entry.callable =
            sep == std::string::npos ? std::string(conf::phase_default_callable(*found)) : word.substr(sep + 2);
        a.dir = !dir.empty() ? dir : (pr.set ? pr.module_dir : current.module_dir);
        a.interpreter = pr.set ? pr.interpreter : c.main_name;
        c.added.push_back(std::move(a));
    }
    Py_RETURN_NONE;
}

PyMethodDef req_methods[] = {
    {"write", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_write)), METH_FASTCALL | METH_KEYWORDS,
     "write(data, flush=1): append to the response body"},
    {"flush", req_flush, METH_NOARGS, "flush(): inline handlers' output leaves when the handler returns"},
    {"read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_read)), METH_FASTCALL,
     "read([len]): bytes of the request body"},
    {"readline", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_readline)), METH_FASTCALL,
     "readline([len]): one line of the request body"},
    {"readlines", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_readlines)), METH_FASTCALL,
     "readlines([sizehint]): the lines of the request body"},
    {"discard_request_body", req_discard_request_body, METH_NOARGS, "read and drop the request body"},
    {"get_options", req_get_options, METH_NOARGS, "the PythonOption table"},
    {"get_config", req_get_config, METH_NOARGS, "the directives in force, as a table"},
    {"document_root", req_document_root, METH_NOARGS, "the site's document root"},
    {"register_cleanup", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_register_cleanup)),
     METH_FASTCALL, "register_cleanup(callable[, data]): run after the response"},
    {"internal_redirect", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_internal_redirect)),
     METH_FASTCALL, "internal_redirect(uri): run the request for another URI now"},
    {"allow_methods", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_allow_methods)),
     METH_FASTCALL, "allow_methods(methods[, reset]): the Allow header"},
    {"sendfile", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_sendfile)), METH_FASTCALL,
     "sendfile(path[, offset[, len]]): send a file as (part of) the body"},
    {"set_content_length", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_set_content_length)),
     METH_FASTCALL, "set_content_length(n)"},
    {"update_mtime", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_update_mtime)), METH_FASTCALL,
     "update_mtime(t): keep the newest modification time"},
    {"log_error", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_log_error)), METH_FASTCALL,
     "log_error(message[, level])"},
    {"add_handler", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_add_handler)), METH_FASTCALL,
     "add_handler(htype, handler[, dir]): run another handler later in this request"},
    {"_peer", req_peer, METH_NOARGS, nullptr},
    {"_route_info", req_route_info, METH_NOARGS, nullptr},
    {"_auth_type_config", req_auth_type_config, METH_NOARGS, nullptr},
    {"_site_options", req_site_options, METH_NOARGS, nullptr},
    {"_site_config", req_site_config, METH_NOARGS, nullptr},
    {"register_output_filter",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_register_output_filter)), METH_FASTCALL,
     "register_output_filter(name, handler[, dir]): name an output filter handler"},
    {"register_input_filter",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_register_input_filter)), METH_FASTCALL,
     "register_input_filter(name, handler[, dir]): name an input filter handler"},
    {"add_output_filter", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_add_output_filter)),
     METH_FASTCALL, "add_output_filter(name): filter what is written from now on"},
    {"add_input_filter", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_add_input_filter)),
     METH_FASTCALL, "add_input_filter(name): filter the request body read from now on"},
    {"_hlist_info", req_hlist_info, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef req_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(request_object, weakrefs), READONLY, nullptr},
    {"__dictoffset__", T_PYSSIZET, offsetof(request_object, dict), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot req_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(req_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(req_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(req_clear)},
    {Py_tp_repr, reinterpret_cast<void*>(req_repr)},
    {Py_tp_getset, req_getset},
    {Py_tp_methods, req_methods},
    {Py_tp_members, req_members},
    {Py_tp_doc, const_cast<char*>("mod_python's request object")},
    {0, nullptr},
};

PyType_Spec req_spec = {
    "subhttpd.request",
    sizeof(request_object),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    req_slots,
};

// ---- module ---------------------------------------------------------------

PyObject* mod_log(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
    std::string level, msg;
    if (nargs != 2 || !py::to_string(args[0], level) || !py::to_string(args[1], msg)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "_log(level, message)");
        }
        return nullptr;
    }
    module_state* st = state_of(module);
    std::string name;
    if (st->interp_name != nullptr) {
        py::to_string(st->interp_name, name);
    }
    log::level lv = level == "error" ? log::level::error
                    : level == "warn" ? log::level::warn
                    : level == "debug" ? log::level::debug
                                       : log::level::info;
    log::write(lv, "python", name, msg);
    Py_RETURN_NONE;
}

PyObject* mod_interpreter_name(PyObject* module, PyObject*) {
    module_state* st = state_of(module);
    if (st->interp_name == nullptr) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(st->interp_name);
}

PyMethodDef module_methods[] = {
    {"_log", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(mod_log)), METH_FASTCALL,
     "_log(level, message): a line in the error log, with this interpreter's name"},
    {"interpreter_name", mod_interpreter_name, METH_NOARGS, "the name of this interpreter"},
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* m) {
    module_state* st = state_of(m);
    st->str_items = PyUnicode_InternFromString("_items");
    if (st->str_items == nullptr) {
        return -1;
    }
    st->runtime = PyImport_ImportModule("_subhttpd");
    if (st->runtime == nullptr) {
        return -1;
    }
    st->table_type = PyObject_GetAttrString(st->runtime, "table");
    st->header_table_type = PyObject_GetAttrString(st->runtime, "header_table");
    st->server_return = PyObject_GetAttrString(st->runtime, "SERVER_RETURN");
    if (st->table_type == nullptr || st->header_table_type == nullptr || st->server_return == nullptr) {
        return -1;
    }
    st->request_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(m, &req_spec, nullptr));
    if (st->request_type == nullptr) {
        return -1;
    }
    if (PyModule_AddObjectRef(m, "request", reinterpret_cast<PyObject*>(st->request_type)) < 0) {
        return -1;
    }
    // Return codes and helpers shared with mod_python.apache.
    py::ref names = py::ref::steal(PyObject_CallMethod(st->runtime, "_exported_names", nullptr));
    if (!names) {
        return -1;
    }
    py::ref seq = py::ref::steal(PySequence_Fast(names.get(), "names"));
    if (!seq) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i) {
        PyObject* name = PySequence_Fast_GET_ITEM(seq.get(), i);
        py::ref v = py::ref::steal(PyObject_GetAttr(st->runtime, name));
        if (!v || PyObject_SetAttr(m, name, v.get()) < 0) {
            return -1;
        }
    }
    // The members written in Python are added when the first request is made:
    // an interpreter that only runs `import` entries never loads them.
    return 0;
}

int module_traverse(PyObject* m, visitproc visit, void* arg) {
    module_state* st = state_of(m);
    Py_VISIT(st->request_type);
    Py_VISIT(st->runtime);
    Py_VISIT(st->table_type);
    Py_VISIT(st->header_table_type);
    Py_VISIT(st->server_return);
    Py_VISIT(st->interp_name);
    if (st->wsgi != nullptr) {
        if (int r = wsgi_state_traverse(st->wsgi, visit, arg)) {
            return r;
        }
    }
    return 0;
}

int module_clear(PyObject* m) {
    module_state* st = state_of(m);
    Py_CLEAR(st->request_type);
    Py_CLEAR(st->runtime);
    Py_CLEAR(st->table_type);
    Py_CLEAR(st->header_table_type);
    Py_CLEAR(st->server_return);
    Py_CLEAR(st->interp_name);
    Py_CLEAR(st->str_items);
    wsgi_state_free(std::exchange(st->wsgi, nullptr));
    return 0;
}

void module_free(void* m) { module_clear(static_cast<PyObject*>(m)); }

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "subhttpd",
    "subhttpd's native module: the request type, return codes, logging.",
    sizeof(module_state),
    module_methods,
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

}  // namespace

module_state* get_module_state(PyObject* module) { return state_of(module); }

void set_interpreter_name(PyObject* module, const std::string& name) {
    module_state* st = state_of(module);
    Py_XSETREF(st->interp_name, py::str(name));
    if (st->interp_name == nullptr) {
        PyErr_Clear();
    }
}

PyObject* new_request(PyObject* module, request_ctx* ctx) {
    module_state* st = state_of(module);
    PyTypeObject* tp = st->request_type;
    if (!st->request_type_complete) {
        py::ref r = py::ref::steal(
            PyObject_CallMethod(st->runtime, "_extend_request_type", "O", reinterpret_cast<PyObject*>(tp)));
        if (!r) {
            return nullptr;
        }
        st->request_type_complete = 1;
    }
    auto* self = reinterpret_cast<request_object*>(tp->tp_alloc(tp, 0));
    if (self == nullptr) {
        return nullptr;
    }
    self->ctx = ctx;
    return reinterpret_cast<PyObject*>(self);
}

// A Content-Type in headers_out is Apache's r->content_type: it becomes
// req.content_type unless a handler assigned one (which wins), and is never
// sent twice.
static void take_content_type(request_ctx& ctx) {
    auto is_ct = [](const auto& kv) { return strcasecmp(kv.first.c_str(), "Content-Type") == 0; };
    auto it = std::find_if(ctx.headers_out.begin(), ctx.headers_out.end(), is_ct);
    if (it == ctx.headers_out.end()) {
        return;
    }
    if (ctx.content_type.empty()) {
        ctx.content_type = it->second;
    }
    ctx.headers_out.erase(std::remove_if(ctx.headers_out.begin(), ctx.headers_out.end(), is_ct),
                          ctx.headers_out.end());
}

void export_tables(PyObject* req, request_ctx* ctx) {
    auto* self = reinterpret_cast<request_object*>(req);
    PyTypeObject* tp = Py_TYPE(req);
    struct {
        PyObject* table;
        header_list* dst;
    } pairs[] = {
        {self->headers_out, &ctx->headers_out},
        {self->err_headers_out, &ctx->err_headers_out},
        {self->notes, &ctx->notes},
        {self->subprocess_env, &ctx->subprocess_env},
    };
    for (auto& p : pairs) {
        if (p.table != nullptr && !read_table(tp, p.table, *p.dst)) {
            log::write(log::level::error, "interp", ctx->main_name, "bad table: " + py::take_error_text());
        }
    }
    take_content_type(*ctx);
    ctx->tables_exported = true;
    if (self->headers_in != nullptr) {  // a handler may have changed it: later phases see its version
        if (read_table(tp, self->headers_in, ctx->headers_in)) {
            ctx->headers_in_carried = true;
        } else {
            log::write(log::level::error, "interp", ctx->main_name, "bad table: " + py::take_error_text());
        }
    }
}

void detach_request(PyObject* req, request_ctx* ctx) {
    auto* self = reinterpret_cast<request_object*>(req);
    if (self->ctx == nullptr) {
        return;
    }
    export_tables(req, ctx);
    self->ctx = nullptr;
}

}  // namespace subhttpd::interp

extern "C" PyObject* PyInit_subhttpd() { return PyModuleDef_Init(&subhttpd::interp::module_def); }

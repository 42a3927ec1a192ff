// The request type (mod_python's req): its slots and attributes. Scalars are
// read from and written to the request_ctx; tables are mod_python `table`
// objects made on first use. Members that are plain Python (connection,
// server, get_basic_auth_pw, ...) are added to the type by the runtime package.
#include <Python.h>
#include <structmember.h>

#include <strings.h>

#include <cctype>
#include <cstring>

#include "common/host.h"
#include "common/text.h"
#include "interp/py_util.h"
#include "interp/request_object.h"

namespace subhttpd::interp::req_impl {
namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

PyType_Spec req_spec = {
    "subhttpd.request",
    sizeof(request_object),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    req_slots,
};

}  // namespace subhttpd::interp::req_impl

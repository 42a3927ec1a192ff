// start_response and the legacy write callable (PEP 3333): status and header
// checks, exc_info handling, bound to one request's response state.
#include <cstring>

#include "common/http_status.h"
#include "common/log.h"
#include "interp/py_util.h"
#include "interp/wsgi_parts.h"

namespace subhttpd::interp::wsgi_impl {
namespace {

// ---- start_response and write ---------------------------------------------------


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

}  // namespace

PyType_Spec sr_spec = {"subhttpd.start_response", sizeof(start_response_object), 0, Py_TPFLAGS_DEFAULT, sr_slots};

}  // namespace subhttpd::interp::wsgi_impl

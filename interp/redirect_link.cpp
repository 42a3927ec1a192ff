// req.prev / req.next across interpreters: a snapshot of the other request.
#include "interp/redirect_link.h"

#include "common/log.h"
#include "interp/py_ref.h"
#include "interp/py_util.h"

namespace subhttpd::interp {
namespace {

// A list of (name, value) str pairs; NULL with an error set.
PyObject* pairs(const header_list& items) {
    py::ref list = py::ref::steal(PyList_New(0));
    if (!list) {
        return nullptr;
    }
    for (const auto& [k, v] : items) {
        py::ref ks = py::ref::steal(py::str(k));
        py::ref vs = py::ref::steal(py::str(v));
        py::ref t = ks && vs ? py::ref::steal(PyTuple_Pack(2, ks.get(), vs.get())) : py::ref();
        if (!t || PyList_Append(list.get(), t.get()) < 0) {
            return nullptr;
        }
    }
    return list.release();
}

bool put(PyObject* d, const char* key, PyObject* value) {
    py::ref v = py::ref::steal(value);
    return v && PyDict_SetItemString(d, key, v.get()) == 0;
}

bool put_str(PyObject* d, const char* key, const std::string& s) { return put(d, key, py::str(s)); }

// New reference to the snapshot object, or NULL with an error set.
PyObject* make_snapshot(const request_view& v) {
    py::ref d = py::ref::steal(PyDict_New());
    if (!d) {
        return nullptr;
    }
    const std::pair<const char*, const std::string*> scalars[] = {
        {"interpreter", &v.interpreter}, {"method", &v.method},     {"uri", &v.uri},
        {"the_request", &v.the_request}, {"protocol", &v.protocol}, {"filename", &v.filename},
        {"path_info", &v.path_info},     {"content_type", &v.content_type}, {"user", &v.user},
    };
    for (const auto& [key, value] : scalars) {
        if (!put_str(d.get(), key, *value)) {
            return nullptr;
        }
    }
    const std::pair<const char*, const header_list*> tables[] = {
        {"headers_in", &v.headers_in}, {"headers_out", &v.headers_out}, {"err_headers_out", &v.err_headers_out},
        {"notes", &v.notes},           {"subprocess_env", &v.subprocess_env},
    };
    for (const auto& [key, value] : tables) {
        if (!put(d.get(), key, pairs(*value))) {
            return nullptr;
        }
    }
    if (!put(d.get(), "status", PyLong_FromLong(v.status))) {
        return nullptr;
    }
    // req.args is None without a query string, as in mod_python
    if (!put(d.get(), "args", v.args.empty() ? Py_NewRef(Py_None) : py::str(v.args))) {
        return nullptr;
    }
    py::ref mod = py::ref::steal(PyImport_ImportModule("mod_python._snapshot"));
    if (!mod) {
        return nullptr;
    }
    return PyObject_CallMethod(mod.get(), "request_snapshot", "O", d.get());
}

}  // namespace

request_view view_of(const request_ctx& c, const exchange& ex, const std::string& interpreter) {
    request_view v;
    v.interpreter = interpreter;
    v.method = std::string(ex.method());
    v.protocol = std::string(ex.protocol());
    v.uri = c.uri;
    v.args = c.args;
    v.the_request = v.method + " " + std::string(ex.target()) + " " + v.protocol;
    v.filename = c.filename;
    v.path_info = c.path_info;
    v.content_type = c.content_type;
    v.user = c.user;
    v.status = c.status;
    v.headers_in = c.headers_in_carried ? c.headers_in : ex.request_headers();
    v.headers_out = c.headers_out;
    v.err_headers_out = c.err_headers_out;
    v.notes = c.notes;
    v.subprocess_env = c.subprocess_env;
    return v;
}

void link_snapshot(PyObject* req, const char* attr, const request_view& v) {
    py::ref snap = py::ref::steal(make_snapshot(v));
    if (!snap || PyObject_SetAttrString(req, attr, snap.get()) < 0) {
        log::write(log::level::error, "dispatch", "",
                   std::string("req.") + attr + " (a request in interpreter " + v.interpreter +
                       "): snapshot failed: " + py::take_error_text());
    }
}

}  // namespace subhttpd::interp

// wsgi.input: the request body as a file-like native object, bounded by
// Content-Length, detached (an error on use) once the request is over.
#include "interp/body.h"
#include "common/log.h"
#include "interp/py_util.h"
#include "interp/wsgi_parts.h"

namespace subhttpd::interp::wsgi_impl {
namespace {

// ---- wsgi.input ---------------------------------------------------------------


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

}  // namespace

PyType_Spec input_spec = {"subhttpd.wsgi_input", sizeof(input_object), 0, Py_TPFLAGS_DEFAULT, input_slots};

}  // namespace subhttpd::interp::wsgi_impl

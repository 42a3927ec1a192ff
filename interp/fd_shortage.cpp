#include "interp/fd_shortage.h"

#include <Python.h>

#include <cerrno>

#include "interp/py_ref.h"

namespace subhttpd::interp {

bool error_is_fd_shortage() {
    if (!PyErr_Occurred()) {
        return false;
    }
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    bool found = false;
    PyObject* e = value;
    // The chain is short in practice; the bound also guards a cycle.
    for (int depth = 0; e != nullptr && e != Py_None && depth < 8 && !found; ++depth) {
        if (PyObject_TypeCheck(e, reinterpret_cast<PyTypeObject*>(PyExc_OSError))) {
            py::ref no = py::ref::steal(PyObject_GetAttrString(e, "errno"));
            if (no && PyLong_Check(no.get())) {
                long v = PyLong_AsLong(no.get());
                found = v == EMFILE || v == ENFILE;
            }
            PyErr_Clear();
        }
        PyObject* next = PyException_GetCause(e);  // new reference or NULL
        if (next == nullptr) {
            next = PyException_GetContext(e);
        }
        e = next;
        Py_XDECREF(next);  // still referenced by the exception that links to it
    }
    PyErr_Restore(type, value, tb);
    return found;
}

}  // namespace subhttpd::interp

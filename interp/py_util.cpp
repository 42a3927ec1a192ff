#include "interp/py_util.h"

#include <sys/time.h>
#include <time.h>

namespace subhttpd::py {

std::string take_error_text() {
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    if (type == nullptr) {
        return "";
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != nullptr && value != nullptr) {
        PyException_SetTraceback(value, tb);
    }
    ref t = ref::steal(type), v = ref::steal(value), b = ref::steal(tb);
    std::string out;
    ref tbmod = ref::steal(PyImport_ImportModule("traceback"));
    if (tbmod) {
        ref lines = ref::steal(PyObject_CallMethod(tbmod.get(), "format_exception", "OOO", t.get(),
                                                   v ? v.get() : Py_None, b ? b.get() : Py_None));
        if (lines) {
            ref empty = ref::steal(PyUnicode_FromString(""));
            ref joined = ref::steal(PyUnicode_Join(empty.get(), lines.get()));
            if (joined) {
                const char* s = PyUnicode_AsUTF8(joined.get());
                if (s != nullptr) {
                    out = s;
                }
            }
        }
    }
    PyErr_Clear();
    if (out.empty()) {
        ref s = ref::steal(PyObject_Str(v ? v.get() : t.get()));
        const char* c = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
        out = c ? c : "unknown error";
        PyErr_Clear();
    }
    return out;
}

bool error_matches(PyObject* type) { return PyErr_ExceptionMatches(type) != 0; }

bool to_string(PyObject* o, std::string& out) {
    if (PyUnicode_Check(o)) {
        Py_ssize_t n = 0;
        const char* s = PyUnicode_AsUTF8AndSize(o, &n);
        if (s == nullptr) {
            return false;
        }
        out.assign(s, static_cast<std::size_t>(n));
        return true;
    }
    if (PyBytes_Check(o)) {
        out.assign(PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o)));
        return true;
    }
    PyErr_Format(PyExc_TypeError, "expected str or bytes, got %s", Py_TYPE(o)->tp_name);
    return false;
}

double unix_now() {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace subhttpd::py

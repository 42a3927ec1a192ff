#include "interp/extension_hint.h"

#include "hosts/naming.h"
#include "interp/py_util.h"

namespace subhttpd::interp {
namespace {

// Whether `package` is in sys.modules of the current interpreter.
bool imported_here(const std::string& package) {
    PyObject* modules = PyImport_GetModuleDict();  // borrowed
    if (modules == nullptr) {
        return false;
    }
    PyObject* m = PyDict_GetItemString(modules, package.c_str());  // borrowed
    return m != nullptr;
}

}  // namespace

std::string extension_refusal_hint(interpreter& in, registry* reg, const std::string& where, bool look_around) {
    if (!PyErr_Occurred()) {
        return "";
    }
    PyObject *t = nullptr, *v = nullptr, *tb = nullptr;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb != nullptr && v != nullptr) {
        PyException_SetTraceback(v, tb);
    }
    std::string package;
    if (v != nullptr) {
        py::ref fn = py::ref::steal(PyObject_GetAttrString(in.runtime(), "_subinterp_refusal"));
        py::ref r = py::ref::steal(fn ? PyObject_CallOneArg(fn.get(), v) : nullptr);
        if (!r || r.get() == Py_None || !py::to_string(r.get(), package)) {
            package.clear();
        }
    }
    PyErr_Clear();
    PyErr_Restore(t, v, tb);
    if (package.empty()) {
        return "";
    }
    std::string owner;
    if (look_around && reg != nullptr) {
        // Which interpreter holds it already? Visit the others (error path only).
        PyObject *t2 = nullptr, *v2 = nullptr, *tb2 = nullptr;
        PyErr_Fetch(&t2, &v2, &tb2);
        for (const interp_info& info : reg->snapshot()) {
            if (info.name == in.name()) {
                continue;
            }
            interpreter* other = reg->find(info.name);
            if (other == nullptr) {
                continue;
            }
            scope s(*other);
            bool there = imported_here(package);
            if (there) {
                owner = info.name;
                break;
            }
        }
        PyErr_Restore(t2, v2, tb2);
    }
    std::string text = "the C extension '" + package + "' cannot be loaded into this interpreter ('" + in.name() +
                       "'): it supports only one interpreter per process";
    if (!owner.empty()) {
        text += ", and interpreter '" + owner + "' has already loaded it";
    }
    text += ". Fix: serve " + where +
            " from the main interpreter (interpreter = \"" + std::string(hosts::main_interpreter_name) +
            "\") and list the module in [python] "
            "main_imports so that the main interpreter loads it first; or give the site its own "
            "process_group. See docs/extensions.md.";
    return text;
}

}  // namespace subhttpd::interp

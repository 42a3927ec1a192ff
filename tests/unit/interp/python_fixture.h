#pragma once
// The embedded CPython for interp/ tests: one registry per process (CPython is
// initialised once per process, and ctest runs each case in its own), started
// with Debian's python3 and the build tree's runtime; helpers to run code in
// an interpreter and set errors from Python source.
#include <gtest/gtest.h>

#include <string>

#include "interp/py_util.h"
#include "interp/registry.h"

namespace subhttpd::interp::testing {

inline registry& reg() {
    static registry* r = [] {
        auto* made = new registry;  // lives as long as the process, like the server's
        runtime_settings s;
        s.python_exe = SUBHTTPD_PYTHON_EXE;
        s.python_dir = SUBHTTPD_PYTHON_DIR;
        std::string err = made->start(s);
        if (!err.empty()) {
            ADD_FAILURE() << err;
        }
        return made;
    }();
    return *r;
}

// The __main__ dict of the interpreter whose scope is active (borrowed).
inline PyObject* main_dict() { return PyModule_GetDict(PyImport_AddModule("__main__")); }

// Runs statements in the active interpreter; "" or the error text.
inline std::string exec(const std::string& code) {
    py::ref r = py::ref::steal(PyRun_String(code.c_str(), Py_file_input, main_dict(), main_dict()));
    return r ? "" : py::take_error_text();
}

// Evaluates `expr` in the active interpreter (new reference, or NULL with an error set).
inline py::ref eval(const std::string& expr) {
    return py::ref::steal(PyRun_String(expr.c_str(), Py_eval_input, main_dict(), main_dict()));
}

// Runs `code`, which must raise, and leaves its exception set (the way a
// failing handler leaves it for the server).
inline void raise_from(const std::string& code) {
    py::ref r = py::ref::steal(PyRun_String(code.c_str(), Py_file_input, main_dict(), main_dict()));
    ASSERT_FALSE(r) << "the code did not raise: " << code;
    ASSERT_NE(PyErr_Occurred(), nullptr);
}

}  // namespace subhttpd::interp::testing

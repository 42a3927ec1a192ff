#pragma once
// Small helpers at the CPython boundary. All need the GIL of the current interpreter.
#include <Python.h>

#include <string>
#include <string_view>

#include "interp/py_ref.h"

namespace subhttpd::py {

// The Python error set now as text with its traceback; clears it. "" if none set.
std::string take_error_text();
// The error set now: is it an instance of `type`? (does not clear it)
bool error_matches(PyObject* type);

// New reference, or NULL with an exception set.
inline PyObject* str(std::string_view s) {
    return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogateescape");
}
// UTF-8 text of a str (or bytes); false with an exception set otherwise.
bool to_string(PyObject* o, std::string& out);

double unix_now();  // wall-clock seconds

}  // namespace subhttpd::py

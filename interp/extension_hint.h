#pragma once
// extension_hint: recognises a C extension refusing to load in this
// interpreter (Cython's "Interpreter change detected", PyO3's "may only be
// initialized once per interpreter process", numpy's sub-interpreter warning,
// CPython's single-phase-module check) in the Python error set now, and says
// in words what happened and what to do: the real package, the interpreter
// that already holds it (when the loop thread can look), the block, and the fix
// (interpreter = "main_interpreter" with [python] main_imports, or a process
// group). The error stays set. GIL held, `in` current.
#include <string>

#include "interp/registry.h"

namespace subhttpd::interp {

// "" when the error is something else. `where` names the site or block
// (file:line:col); `look_around` allows visiting other interpreters to find
// the owner (loop thread only).
std::string extension_refusal_hint(interpreter& in, registry* reg, const std::string& where, bool look_around);

}  // namespace subhttpd::interp

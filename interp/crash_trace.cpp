#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "common/fd_write.h"
#include "interp/crash_trace.h"

namespace subhttpd::interp {
namespace {

void put(int fd, const char* s) { write_all(fd, s); }

// Compact ASCII strings hold their text inline; anything else is shown as "?"
// rather than converted (a conversion allocates).
const char* ascii_text(PyObject* s) {
    if (s == nullptr || !PyUnicode_Check(s) || !PyUnicode_IS_COMPACT_ASCII(s)) {
        return "?";
    }
    return static_cast<const char*>(PyUnicode_DATA(s));
}

}  // namespace

void dump_python_stack(int fd) noexcept {
    PyThreadState* ts = _PyThreadState_UncheckedGet();
    if (ts == nullptr) {
        put(fd, "  <no Python thread state: this thread does not hold the GIL>\n");
        return;
    }
    // New references below are leaked on purpose: the process is dying.
    PyFrameObject* f = PyThreadState_GetFrame(ts);
    if (f == nullptr) {
        put(fd, "  <no Python frame>\n");
        return;
    }
    for (int depth = 0; f != nullptr && depth < 100; ++depth) {
        PyCodeObject* code = PyFrame_GetCode(f);
        char line[1024];
        std::snprintf(line, sizeof line, "  File \"%s\", line %d in %s\n", ascii_text(code->co_filename),
                      PyFrame_GetLineNumber(f), ascii_text(code->co_name));
        put(fd, line);
        f = PyFrame_GetBack(f);
    }
}

}  // namespace subhttpd::interp

// Request body -> bytes / string; see body.h.
#include "interp/body.h"

#include "interp/py_ref.h"

namespace subhttpd::interp {

PyObject* read_body_bytes(exchange& ex, std::size_t want) {
    py::ref out = py::ref::steal(PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(want)));
    if (!out) {
        return nullptr;
    }
    std::size_t got = want == 0 ? 0 : ex.read_body(PyBytes_AS_STRING(out.get()), want);
    if (got != want) {
        PyObject* tmp = out.release();
        if (_PyBytes_Resize(&tmp, static_cast<Py_ssize_t>(got)) < 0) {
            return nullptr;
        }
        out = py::ref::steal(tmp);
    }
    return out.release();
}

std::string read_whole_body(exchange& ex) {
    std::string body(ex.body_remaining(), '\0');
    std::size_t got = 0;
    while (got < body.size()) {
        std::size_t n = ex.read_body(body.data() + got, body.size() - got);
        if (n == 0) {
            break;
        }
        got += n;
    }
    body.resize(got);
    return body;
}

}  // namespace subhttpd::interp

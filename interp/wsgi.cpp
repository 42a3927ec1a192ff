// Placeholder until the WSGI adapter lands: answers 501.
#include "interp/wsgi.h"

namespace subhttpd::interp {

int run_wsgi(interpreter&, request_ctx&, const hosts::phase_route& pr, PyObject*, std::string& error_text) {
    error_text = "WSGI app " + pr.wsgi + ": the WSGI adapter is not built yet";
    return 501;
}

}  // namespace subhttpd::interp

#pragma once
// fd_shortage: tells whether the Python error set now comes from the process
// running out of file descriptors (OSError EMFILE or ENFILE, also as the cause
// or context of another exception, e.g. an import that could not open its
// file). Such a request is answered 503, not 500: the handler is not at fault
// and a retry can succeed. The error stays set. GIL held.

namespace subhttpd::interp {

bool error_is_fd_shortage();

}  // namespace subhttpd::interp

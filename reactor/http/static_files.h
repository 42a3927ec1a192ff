#pragma once
// static_files: answers GET/HEAD for a file inside a document root as nginx
// does: MIME type, Last-Modified and ETag, conditional requests (304/412), byte
// ranges (206, multipart/byteranges, 416, If-Range), zero-copy sending through
// the exchange. The decisions live in static_rules.h. The route has already
// proved the file is inside the root; this re-checks it is a regular file at
// open time. Behind output filters (exchange::rewrites_body) Range is ignored.
// Loop thread only.
#include <string>

#include "hosts/route.h"
#include "interp/exchange.h"

namespace subhttpd::reactor {

// The MIME type for a file name (from /etc/mime.types when present).
std::string mime_type(const std::string& filename);

// Answers the request as Apache would without a Python content handler: the file,
// a directory redirect, 403 or 404. Returns the status sent.
int serve_default(interp::exchange& ex, const hosts::route& r, const std::string& filename,
                  const std::string& path_info);

// Sends a small HTML error page.
void send_error(interp::exchange& ex, int status, const interp::header_list& extra = {});

}  // namespace subhttpd::reactor

#pragma once
// static_files: answers GET/HEAD for a file inside a document root as nginx
// does: MIME type, Last-Modified and ETag, conditional requests (304/412), byte
// ranges (206, multipart/byteranges, 416, If-Range), zero-copy sending through
// the exchange. The decisions live in static_rules.h. The route has already
// proved the file is inside the root; this re-checks it is a regular file at
// open time. Behind output filters (exchange::rewrites_body) Range is ignored.
// Loop thread only.
#include <cstdint>
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

// What answering a regular file needs besides its bytes.
struct file_facts {
    std::uint64_t size = 0;
    std::int64_t mtime = 0;  // seconds
    std::string etag;
    std::string last_modified;
    std::string type;
};
file_facts facts_of(const std::string& filename, std::uint64_t size, std::int64_t mtime);

// Answers GET/HEAD for a regular file described by `f` (conditions, ranges):
// its bytes are `body` when given (a small file kept in memory), else read
// from `filename` when sent. Returns the status sent.
int serve_file(interp::exchange& ex, const std::string& filename, const file_facts& f, const std::string* body);

// Sends a small HTML error page.
void send_error(interp::exchange& ex, int status, const interp::header_list& extra = {});

}  // namespace subhttpd::reactor

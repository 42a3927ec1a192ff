#include "reactor/http/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strings.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <unordered_map>

#include "common/http_status.h"
#include "reactor/http/static_rules.h"

namespace subhttpd::reactor {
namespace {

using types_map = std::unordered_map<std::string, std::string>;

types_map load_types() {
    types_map m = {
        {"html", "text/html"}, {"htm", "text/html"}, {"txt", "text/plain"}, {"css", "text/css"},
        {"js", "text/javascript"}, {"mjs", "text/javascript"}, {"json", "application/json"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
        {"svg", "image/svg+xml"}, {"ico", "image/vnd.microsoft.icon"}, {"webp", "image/webp"},
        {"pdf", "application/pdf"}, {"xml", "application/xml"}, {"wasm", "application/wasm"},
        {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"py", "text/x-python"}, {"csv", "text/csv"},
        {"zip", "application/zip"}, {"gz", "application/gzip"}, {"mp4", "video/mp4"}, {"mp3", "audio/mpeg"},
    };
    std::ifstream in("/etc/mime.types");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream ss(line);
        std::string type, ext;
        ss >> type;
        while (ss >> ext) {
            m.emplace(ext, type);  // built-in choices win
        }
    }
    return m;
}

const types_map& types() {
    static const types_map m = load_types();
    return m;
}

// Every value of request field `name`, joined with ", " as a list field is;
// nullopt when the field is absent.
std::optional<std::string> field(const interp::header_list& h, const char* name) {
    std::optional<std::string> out;
    for (const auto& [k, v] : h) {
        if (strcasecmp(k.c_str(), name) == 0) {
            if (out) {
                *out += ", ";
                *out += v;
            } else {
                out = v;
            }
        }
    }
    return out;
}

http::file_conditions read_conditions(const interp::header_list& h) {
    http::file_conditions c;
    c.if_match = field(h, "If-Match");
    c.if_unmodified_since = field(h, "If-Unmodified-Since");
    c.if_none_match = field(h, "If-None-Match");
    c.if_modified_since = field(h, "If-Modified-Since");
    c.if_range = field(h, "If-Range");
    c.range = field(h, "Range");
    return c;
}

// A multipart boundary no file is likely to contain: 20 random digits (nginx's
// boundaries are 20 digits too, from a counter).
std::string next_boundary() {
    static thread_local std::mt19937_64 gen{std::random_device{}()};
    char buf[24];
    std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(gen() % 10000000000000000000ull));
    return buf;
}

// The body of a 206: one range as is, several as multipart/byteranges with the
// framing written around the file slices (the exchange keeps call order).
// A slice of the file: from `body` when the bytes are kept, else from the file.
bool send_slice(interp::exchange& ex, const std::string& filename, const std::string* body, std::uint64_t first,
                std::uint64_t length) {
    if (body == nullptr) {
        return ex.send_file(filename, first, length);
    }
    if (first > body->size() || length > body->size() - first) {
        return false;
    }
    ex.write(body->data() + first, static_cast<std::size_t>(length));
    return true;
}

bool send_ranges(interp::exchange& ex, const std::string& filename, const std::string* body,
                 const std::vector<http::byte_range>& ranges, std::uint64_t size, const std::string& type,
                 interp::header_list& headers) {
    if (ranges.size() == 1) {
        headers.emplace_back("Content-Type", type);
        headers.emplace_back("Content-Range", http::content_range(ranges[0], size));
        return send_slice(ex, filename, body, ranges[0].first, ranges[0].length());
    }
    std::string boundary = next_boundary();
    headers.emplace_back("Content-Type", http::multipart_content_type(boundary));
    for (const auto& r : ranges) {
        std::string head = http::multipart_part_head(boundary, type, r, size);
        ex.write(head.data(), head.size());
        if (!send_slice(ex, filename, body, r.first, r.length())) {
            return false;
        }
    }
    std::string tail = http::multipart_tail(boundary);
    ex.write(tail.data(), tail.size());
    return true;
}

}  // namespace

std::string mime_type(const std::string& filename) {
    auto slash = filename.rfind('/');
    auto dot = filename.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
        return "application/octet-stream";
    }
    std::string ext = filename.substr(dot + 1);
    for (char& c : ext) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto it = types().find(ext);
    std::string t = it == types().end() ? "application/octet-stream" : it->second;
    if (t.rfind("text/", 0) == 0 || t == "application/javascript" || t == "application/json") {
        t += "; charset=utf-8";
    }
    return t;
}

void send_error(interp::exchange& ex, int status, const interp::header_list& extra) {
    ex.discard_output();
    interp::header_list headers = extra;
    std::string reason(http_reason(status));
    std::string body;
    if (status >= 400) {
        headers.emplace_back("Content-Type", "text/html; charset=utf-8");
        body = status_page_html(status);
        ex.write(body.data(), body.size());
    }
    ex.finish(status, reason, headers);
}

int serve_default(interp::exchange& ex, const hosts::route& r, const std::string& filename,
                  const std::string& path_info) {
    switch (r.kind) {
        case hosts::route_kind::directory_redirect:
            send_error(ex, 301, {{"Location", r.redirect_location}});
            return 301;
        case hosts::route_kind::forbidden:
            send_error(ex, 403);
            return 403;
        case hosts::route_kind::bad_request:
            send_error(ex, 400);
            return 400;
        case hosts::route_kind::no_site:
        case hosts::route_kind::not_found:
            send_error(ex, 404);
            return 404;
        case hosts::route_kind::static_file:
        case hosts::route_kind::handler:
            break;
    }
    if (!path_info.empty()) {
        send_error(ex, 404);
        return 404;
    }
    std::string_view m = ex.method();
    if (m != "GET" && m != "HEAD") {
        send_error(ex, 405, {{"Allow", "GET, HEAD"}});
        return 405;
    }
    struct stat sb{};
    if (::stat(filename.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int st = (errno == ENOENT || errno == ENOTDIR) ? 404 : 403;
        if (S_ISDIR(sb.st_mode)) {
            st = 403;
        }
        send_error(ex, st);
        return st;
    }
    return serve_file(ex, filename, facts_of(filename, static_cast<std::uint64_t>(sb.st_size), sb.st_mtime),
                      nullptr);
}

file_facts facts_of(const std::string& filename, std::uint64_t size, std::int64_t mtime) {
    file_facts f;
    f.size = size;
    f.mtime = mtime;
    f.etag = http::make_etag(mtime, size);
    f.last_modified = http::format_http_date(mtime);
    f.type = mime_type(filename);
    return f;
}

int serve_file(interp::exchange& ex, const std::string& filename, const file_facts& f, const std::string* body) {
    http::file_conditions conditions = read_conditions(ex.request_headers());
    if (ex.rewrites_body()) {
        // Output filters change the bytes: a range of the file is not a range of
        // the response, so the whole filtered file is sent (RFC 9110 14.2 allows it).
        conditions.range.reset();
        conditions.if_range.reset();
    }
    http::file_plan plan = http::plan_file_response(conditions, {f.etag, f.mtime, f.size});
    switch (plan.status) {
        case 412:
            send_error(ex, 412);
            return 412;
        case 416:
            send_error(ex, 416, {{"Content-Range", http::unsatisfied_range(f.size)}});
            return 416;
        case 304:
            ex.finish(304, "Not Modified", {{"Last-Modified", f.last_modified}, {"ETag", f.etag}});
            return 304;
        default:
            break;
    }
    interp::header_list headers;
    headers.reserve(4);
    if (plan.status == 206) {
        if (!send_ranges(ex, filename, body, plan.ranges, f.size, f.type, headers)) {
            send_error(ex, 403);
            return 403;
        }
    } else {
        headers.emplace_back("Content-Type", f.type);
        if (f.size > 0 && !send_slice(ex, filename, body, 0, f.size)) {
            send_error(ex, 403);
            return 403;
        }
    }
    headers.emplace_back("Last-Modified", f.last_modified);
    headers.emplace_back("ETag", f.etag);
    if (plan.status == 200 && !ex.rewrites_body()) {
        headers.emplace_back("Accept-Ranges", "bytes");
    }
    ex.finish(plan.status, http_reason(plan.status), headers);
    return plan.status;
}

}  // namespace subhttpd::reactor

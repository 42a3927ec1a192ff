#include "reactor/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strings.h>

#include <cctype>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "common/http_status.h"

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

std::string http_date(time_t t) {
    tm g{};
    gmtime_r(&t, &g);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
    return buf;
}

time_t parse_http_date(const std::string& s) {
    tm t{};
    const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &t);
    if (end == nullptr) {
        return -1;
    }
    return timegm(&t);
}

std::string find_header(const interp::header_list& h, const char* name) {
    for (const auto& [k, v] : h) {
        if (strcasecmp(k.c_str(), name) == 0) {
            return v;
        }
    }
    return "";
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
        body = "<!DOCTYPE html>\n<html><head><title>" + std::to_string(status) + " " + reason +
               "</title></head>\n<body><h1>" + reason + "</h1></body></html>\n";
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
    interp::header_list headers;
    headers.emplace_back("Content-Type", mime_type(filename));
    headers.emplace_back("Last-Modified", http_date(sb.st_mtime));
    std::string ims = find_header(ex.request_headers(), "If-Modified-Since");
    if (!ims.empty()) {
        time_t t = parse_http_date(ims);
        if (t >= 0 && sb.st_mtime <= t) {
            ex.finish(304, "Not Modified", headers);
            return 304;
        }
    }
    if (sb.st_size > 0 && !ex.send_file(filename, 0, static_cast<std::uint64_t>(sb.st_size))) {
        send_error(ex, 403);
        return 403;
    }
    ex.finish(200, "OK", headers);
    return 200;
}

}  // namespace subhttpd::reactor

#pragma once
// hosts: pure routing. (config snapshot, Host, method, URL, filesystem) -> route:
// the site, the merged blocks, filename + path_info as Apache finds them, the
// handler of every phase with the block that set it, and the interpreter name
// with the rule that chose it. No Python, no libevent; the filesystem is reached
// only through `fs_view`, so tests can give a fake one. A route points into the
// snapshot it was made from: keep that snapshot alive while the route lives.
// Any thread may call these functions.
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"

namespace subhttpd::hosts {

enum class file_kind { missing, file, directory, other };

// The filesystem as routing sees it. `real_path` resolves symlinks (realpath(3));
// it returns "" when the path does not exist.
class fs_view {
public:
    virtual ~fs_view() = default;
    virtual file_kind stat(const std::string& path) const = 0;
    virtual std::string real_path(const std::string& path) const = 0;
    // stat() that also says whether `path` itself is a symlink. A view that
    // cannot tell says true, which makes the router check real paths.
    virtual file_kind stat_link(const std::string& path, bool& is_link) const {
        is_link = true;
        return stat(path);
    }
};
const fs_view& real_fs();  // the process's filesystem

// How the interpreter name was chosen (DESIGN.md "Interpreter naming").
enum class interp_rule {
    interpreter,           // 1. `interpreter = NAME`
    per_directory,         // 2. directory of req.filename
    per_directive,         // 3. path of the block that set the handler
    per_directive_site,    // 3. handler set at site level -> main_interpreter
    server_name,           // 4. the site's server_name
};
std::string_view rule_name(interp_rule r);  // "interpreter", "interp_per_directory", ...

struct block_ref {
    enum class kind { site, directory, location };
    kind type = kind::site;
    std::string path;  // directory: absolute path; location: URL prefix; site: ""
    conf::source_loc where;
};
std::string describe(const block_ref& b);  // "directory /srv/site/app (sites.d/a.toml:12:1)"
struct route;
// The same, naming the site for a site-level block: "site www.example.com (sites.d/a.toml:1:1)".
std::string describe_in(const route& r, const block_ref& b);

struct handler_entry {
    std::string module;    // "hello", "pkg.mod"
    std::string callable;  // the default callable name of the phase when not written
    bool silent = false;   // from handler_module: skipped when the module lacks `callable`
};

struct phase_route {
    bool set = false;
    std::vector<handler_entry> handlers;  // after the `| .ext` filter; content phase may be empty when wsgi is set
    std::string wsgi;                     // content phase only: "module:callable" or a file path
    block_ref from;                       // the block that set this phase's handler
    std::string module_dir;               // where the handler module is looked up first
    std::string interpreter;              // name of the interpreter that runs it
    interp_rule rule = interp_rule::server_name;
};

enum class route_kind {
    handler,             // phases run in Python (content phase: handler list or wsgi)
    static_file,         // serve `filename`
    directory_redirect,  // 301 to `redirect_location` (directory without trailing '/')
    not_found,           // 404
    forbidden,           // 403 (escape attempts, directory without index, ...)
    bad_request,         // 400 (undecodable URL, NUL byte, ...)
    no_site,             // the config has no sites
};

struct route {
    route_kind kind = route_kind::not_found;
    const conf::site* site = nullptr;  // into the snapshot
    std::string uri;                   // percent-decoded, normalised path
    std::string args;                  // raw query string (without '?'), "" when absent
    std::string filename;
    std::string path_info;
    std::string redirect_location;
    std::string mount;                 // location prefix that matched a handler/wsgi location ("" otherwise)
    std::string alias;                 // url of the [[site.alias]] that mapped `filename` ("" otherwise)
    std::vector<block_ref> matched;    // every block merged, in merge order (site first)
    std::array<phase_route, conf::phase_count> phases;
    // PythonOutputFilter / PythonInputFilter: `handlers` are the filters, in order
    phase_route output_filter;
    phase_route input_filter;
    // merged settings
    conf::options_map options;         // removals applied
    bool debug = false;
    bool autoreload = true;
    bool autoreload_app = false;       // autoreload = "app": a changed app file gives a fresh interpreter
    bool offload = false;
    std::chrono::milliseconds handler_timeout{0};
    std::string auth_type;
    std::string auth_name;
    std::string process_group;         // served by that process group ("" = this process)

    const phase_route& at(conf::phase p) const { return phases[static_cast<std::size_t>(p)]; }
};

// Added for the reactor and `subhttpd route`: the name printed for a kind
// ("handler", "static_file", ...) and the HTTP status it implies (200, 301, ...).
std::string_view kind_name(route_kind k);
int http_status(route_kind k);

struct request_line {
    std::string_view host;    // Host header as received (may carry a port)
    std::string_view method;
    std::string_view target;  // request-target: "/path?query"
};

// The site that answers `host` (port stripped, case-insensitive, aliases, default).
const conf::site* find_site(const conf::config& cfg, std::string_view host);

// Percent-decodes and normalises a URL path ("." and ".." segments, duplicate
// slashes). Returns false when the path is malformed or escapes "/" or holds NUL.
bool normalise_path(std::string_view raw, std::string& out);

route resolve(const conf::config& cfg, const request_line& req, const fs_view& fs = real_fs());

// After a postreadrequest or trans handler: the same site, a URL path already
// decoded (`uri`, as req.uri holds it) mapped again...
route resolve_uri(const conf::config& cfg, const conf::site& site, std::string_view uri, std::string_view args,
                  const fs_view& fs = real_fs());
// ...or a filename a trans handler chose (it returned OK): no URL mapping; the
// directory blocks holding `filename` and the locations matching `uri` merge.
route resolve_filename(const conf::config& cfg, const conf::site& site, std::string_view uri,
                       std::string_view args, std::string filename, std::string path_info,
                       const fs_view& fs = real_fs());

// `subhttpd route`: a human-readable explanation, and the same as JSON.
std::string explain(const route& r, const request_line& req);
std::string explain_json(const route& r, const request_line& req);

}  // namespace subhttpd::hosts

#pragma once
// conf: the TOML files of one server -> one immutable `config` snapshot.
// Invariant: a snapshot is fully validated before anyone sees it; it is shared
// read-only (std::shared_ptr<const config>) and never mutated, so a request keeps
// the snapshot it started with across reloads. Paths in a snapshot are absolute
// and normalised (no trailing '/', except "/"). Pure functions of the files on
// disk; any thread may call them. Depends on toml11 only.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/address_range.h"

namespace subhttpd::conf {

struct source_loc {
    std::string file;
    int line = 0;
    int column = 0;
};
std::string to_string(const source_loc& where);  // "file:line:col"

struct error {
    source_loc where;
    std::string message;
};
std::string to_string(const error& e);  // "file:line:col: message"

// mod_python's phases, in Apache's order.
// postreadrequest and trans stand at site level only (Apache: server config);
// init runs with postreadrequest when set at site level, else with headerparser.
enum class phase : std::uint8_t {
    postreadrequest, trans, headerparser, init, access, authen, authz, type, fixup, content, log, cleanup
};
inline constexpr std::size_t phase_count = 12;
inline constexpr std::array<phase, phase_count> all_phases = {
    phase::postreadrequest, phase::trans, phase::headerparser, phase::init,
    phase::access, phase::authen, phase::authz, phase::type, phase::fixup,
    phase::content, phase::log, phase::cleanup};
std::string_view phase_key(phase p);               // TOML key: "access_handler", ..., "handler"
std::string_view phase_default_callable(phase p);  // "accesshandler", ..., "handler"
std::string_view phase_directive(phase p);         // req.phase: "PythonAccessHandler", ...
bool site_level_only(phase p);                     // postreadrequest, trans

// PythonOption values; in a block an empty value removes the key when merged.
using options_map = std::map<std::string, std::string>;

// Keys that may stand at site level, in a [[site.directory]] and in a [[site.location]].
struct block {
    // per phase: the handler list exactly as written ("module::callable | .ext ...")
    std::array<std::optional<std::vector<std::string>>, phase_count> handlers;
    // handler_module (PythonHandlerModule) filled this phase: a missing function is skipped
    std::array<bool, phase_count> silent{};
    std::optional<std::string> wsgi;  // "module:callable", "module:factory(args)" or a .wsgi/.py path
    source_loc wsgi_where;
    // PythonOutputFilter / PythonInputFilter: "module[::callable]" per entry, as written
    std::optional<std::vector<std::string>> output_filters;
    std::optional<std::vector<std::string>> input_filters;
    std::optional<std::string> interpreter;
    std::optional<bool> interp_per_directory;
    std::optional<bool> interp_per_directive;
    std::optional<bool> offload;
    std::optional<bool> debug;
    std::optional<bool> autoreload;      // true for `true` and "app"
    std::optional<bool> autoreload_app;  // "app": a changed app source file gives a fresh interpreter
    std::optional<std::chrono::milliseconds> handler_timeout;
    options_map options;
    std::optional<std::string> auth_type;
    std::optional<std::string> auth_name;
    std::optional<std::string> process_group;  // served by that [[process_group]]
    source_loc process_group_where;
    source_loc where;  // the table that holds these keys
};

struct directory_block {
    std::string path;  // absolute, normalised (relative paths resolved against document_root)
    block settings;
};

struct location_block {
    std::string path;  // URL prefix: starts with '/', no trailing '/' except for "/" itself
    block settings;
};

// [[site.alias]]: Apache's Alias. URLs under `url` map to files under `path`
// (outside document_root), with the same escape checks as the document root.
struct alias_block {
    std::string url;   // URL prefix: starts with '/', no trailing '/' (never "/" itself)
    std::string path;  // absolute, normalised folder
    source_loc where;
};

struct site {
    std::string server_name;           // lower-case; the default interpreter name
    std::vector<std::string> aliases;  // lower-case; "*.example.org" matches any sub-domain
    bool is_default = false;
    std::string document_root;         // absolute, normalised
    std::vector<std::string> index = {"index.html"};
    std::vector<std::string> python_path;  // absolute
    std::vector<std::string> imports;      // "module" or "module::callable"
    std::map<std::string, std::string> env;
    block settings;                        // site-level block keys
    std::vector<directory_block> directories;  // file order
    std::vector<location_block> locations;     // file order
    std::vector<alias_block> url_aliases;      // file order; the longest matching url wins
    std::string file;                      // the file that defines this site
    source_loc where;
};

enum class reload_mode { watch, signal, off };

// access_log_format: Apache's combined / common (each followed by the interpreter
// and the duration in µs), or one JSON object per line.
enum class access_log_format { combined, common, json };

struct listen_addr {
    enum class kind { tcp, unix_socket };
    kind type = kind::tcp;
    std::string host;  // tcp: "127.0.0.1", "::1", "0.0.0.0"
    std::uint16_t port = 0;
    std::string path;  // unix_socket
    std::string text;  // as written: "127.0.0.1:8080", "[::1]:8080", "unix:/run/x.sock"
    bool reuse_port = false;  // [server] reuse_port: bind with SO_REUSEPORT
};
std::optional<listen_addr> parse_listen(std::string_view text);

struct server_settings {
    std::vector<listen_addr> listen;
    std::vector<std::string> site_globs;  // absolute patterns
    unsigned workers = 1;                 // 0 = "auto" (one per core)
    unsigned pool_threads = 4;
    reload_mode reload = reload_mode::watch;
    std::string access_log = "-";  // path, "-" (stderr) or "off"
    access_log_format access_format = access_log_format::combined;
    std::string error_log = "-";
    std::chrono::milliseconds shutdown_grace{10000};
    std::optional<std::string> status;  // URL path of the status page
    std::vector<std::string> trusted_proxies = {"127.0.0.1"};
    std::vector<address_range> status_allow;  // beside loopback, who may read the status page
    bool dev = false;
    bool reuse_port = false;  // SO_REUSEPORT: share a port another process has bound
    // Worker recycling and fault keys (see docs/faults.md).
    std::uint64_t max_requests = 0;        // recycle a worker after about this many requests (0 = never)
    std::uint64_t max_requests_jitter = 0;  // plus 0..jitter, so workers do not recycle together
    std::uint64_t max_rss = 0;             // bytes; recycle a worker whose RSS passes it (0 = never)
    std::optional<std::chrono::milliseconds> stall_timeout;  // unset: stall_timeout_for(limits); 0 = never
};

struct limit_settings {
    std::uint64_t max_header_bytes = 64 * 1024;
    std::uint64_t max_body_bytes = 10 * 1024 * 1024;
    std::uint64_t max_connections = 10000;
    std::chrono::milliseconds read_timeout{30000};
    std::chrono::milliseconds write_timeout{30000};
    std::chrono::milliseconds handler_timeout{10000};  // 0 = never
};

struct python_settings {
    std::vector<std::string> path;  // absolute
    bool debug = false;
    bool autoreload = true;
    bool autoreload_app = false;  // autoreload = "app" (the dev-mode default)
    int optimize = 0;
    std::vector<std::string> main_imports;  // imported into main_interpreter at start, before any subinterpreter
};

// [[process_group]] (mod_wsgi's daemon mode): its own processes, each with its own
// main interpreter, optionally under their own Unix user and group.
struct process_group {
    std::string name;
    unsigned processes = 1;
    std::string user;   // "" = the server's user
    std::string group;  // "" = the user's primary group (or the server's)
    source_loc where;
};

struct config {
    std::string main_file;  // absolute
    std::vector<process_group> process_groups;  // main file order; names unique
    server_settings server;
    limit_settings limits;
    python_settings python;
    std::vector<site> sites;               // main-file [[site]] first, then glob order
    std::vector<std::string> files;        // every file read: main file, then site files
    std::vector<std::string> watch_dirs;   // folders named by the site globs

    // Made by load(): exact server names and aliases -> index in `sites`, and the
    // sites with "*." aliases, so finding a site does not scan every site.
    // Empty in a config built by hand: find_site then scans.
    std::unordered_map<std::string, std::size_t> host_index;
    std::vector<std::size_t> wildcard_sites;
};

// The stall limit in force: [server] stall_timeout, else four times
// handler_timeout but at least 30 s (60 s when handler_timeout is 0).
std::chrono::milliseconds effective_stall_timeout(const config& c);

struct load_result {
    std::shared_ptr<const config> cfg;  // null when errors is not empty
    std::vector<error> errors;          // every error found, in file order
    // As in config, but filled even when there are errors: a watcher must also
    // wait on the broken files (and new glob folders) to see them get fixed.
    std::vector<std::string> files;
    std::vector<std::string> watch_dirs;
    bool ok() const { return errors.empty(); }
};

// Reads the main file and every site file its globs name; validates everything.
load_result load(const std::string& main_file);

// "1048576", "64KB", "64KiB", "1MB", "2GB" (K/M/G = 1024-based, as Apache)
std::optional<std::uint64_t> parse_size(std::string_view text);
// "30" (seconds), "250ms", "30s", "2m", "1h", "1.5s"
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace subhttpd::conf

// The loader: main file, then the site files its globs name, then the checks that
// span sites. Every error is collected; a snapshot is handed out only when there
// are none, so a broken edit never replaces a running config.
#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>

#include "conf/reader.h"

namespace subhttpd::conf {

namespace {

using detail::find_key;
using detail::loc_of;
using detail::reporter;
using detail::resolve_path;

constexpr const char* default_listen = "127.0.0.1:8080";

// toml11 formats syntax errors as a multi-line picture of the source. We want one
// "file:line:col: message" line: its headline plus the note under the caret
// that the reported location points at (the last one).
// A string key that names one of `choices`: `out` is set to its value, or the
// error lists them all ("invalid <what> 'x' (expected "a", "b" or "c")").
template <typename E>
void read_choice(reporter& rep, const toml::value& v, std::string_view key, std::string_view what,
                 std::initializer_list<std::pair<std::string_view, E>> choices, E& out) {
    auto given = detail::get_string(rep, v, key);
    if (!given) {
        return;
    }
    std::string expected;
    std::size_t i = 0;
    for (const auto& [name, value] : choices) {
        if (*given == name) {
            out = value;
            return;
        }
        expected += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + ("\"" + std::string(name) + "\"");
        ++i;
    }
    rep.at(v, "invalid " + std::string(what) + " '" + *given + "' (expected " + expected + ")");
}

std::string syntax_message(const std::string& what) {
    std::string headline = what.substr(0, what.find('\n'));
    if (headline.starts_with("[error] ")) {
        headline.erase(0, 8);
    }
    if (headline.starts_with("toml::")) {
        auto colon = headline.find(": ");
        if (colon != std::string::npos) {
            headline.erase(0, colon + 2);
        }
    }
    std::string note;
    std::size_t pos = 0;
    while (pos < what.size()) {
        auto end = what.find('\n', pos);
        if (end == std::string::npos) {
            end = what.size();
        }
        std::string_view line(what.data() + pos, end - pos);
        pos = end + 1;
        auto bar = line.find("| ");
        if (bar == std::string_view::npos) {
            continue;
        }
        auto rest = line.substr(bar + 2);
        auto text_start = rest.find_first_not_of(" ^~-");
        // A marker line starts (after the gutter) with spaces and then ^ or ~.
        auto first_mark = rest.find_first_not_of(' ');
        if (first_mark == std::string_view::npos || (rest[first_mark] != '^' && rest[first_mark] != '~') ||
            text_start == std::string_view::npos) {
            continue;
        }
        note = std::string(rest.substr(text_start));
    }
    while (!headline.empty() && (headline.back() == '.' || headline.back() == ' ')) {
        headline.pop_back();
    }
    // "here" adds nothing to a message that already carries its line and column.
    if (!note.empty() && note != "here") {
        headline += ": " + note;
    }
    // toml11 may say nothing but its function name, and its note is lost when
    // the source line holds a NUL (what() ends there): still say something.
    if (headline.empty() || headline.starts_with(": ")) {
        headline = "invalid TOML" + headline;
    }
    return headline;
}

// Line and column (1-based, in bytes) of the first byte that is not valid UTF-8.
std::optional<std::pair<int, int>> first_invalid_utf8(std::string_view s) {
    int line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c == '\n') {
                ++line;
                line_start = i + 1;
            }
            ++i;
            continue;
        }
        const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        bool ok = c >= 0xC2 && c <= 0xF4 && i + n <= s.size();
        std::uint32_t cp = c & (0x3F >> (n - 1));
        for (std::size_t k = 1; ok && k < n; ++k) {
            const auto t = static_cast<unsigned char>(s[i + k]);
            ok = (t & 0xC0) == 0x80;
            cp = (cp << 6) | (t & 0x3F);
        }
        // No overlong forms, no surrogates, nothing past U+10FFFF.
        ok = ok && cp >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) && cp <= 0x10FFFF &&
             !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!ok) {
            return std::pair(line, static_cast<int>(i - line_start + 1));
        }
        i += n;
    }
    return std::nullopt;
}

std::optional<toml::value> parse_file(reporter& rep, const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        rep.at({path, 1, 1}, "is a directory, not a TOML file");
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        rep.at({path, 1, 1}, "cannot open file: " + std::generic_category().message(errno));
        return std::nullopt;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto bad = first_invalid_utf8(text)) {
        // TOML must be UTF-8, and toml11 3.7 reads past its buffer on a bad
        // byte in a '...' string (found by tests/fuzz/fuzz_config): stop here.
        rep.at({path, bad->first, bad->second}, "invalid UTF-8 (a TOML file must be UTF-8)");
        return std::nullopt;
    }
    try {
        std::istringstream stream(std::move(text));
        return toml::parse(stream, path);
    } catch (const toml::syntax_error& e) {
        auto l = e.location();
        source_loc where{path, static_cast<int>(l.line()), static_cast<int>(l.column())};
        rep.at(where, syntax_message(e.what()));
    } catch (const std::exception& e) {
        rep.at({path, 1, 1}, e.what());
    }
    return std::nullopt;
}


void read_listen(reporter& rep, const toml::value& v, const std::string& dir,
                 server_settings& server) {
    std::vector<const toml::value*> items;
    if (v.is_string()) {
        items.push_back(&v);
    } else if (v.is_array()) {
        for (const auto& e : v.as_array()) {
            items.push_back(&e);
        }
    } else {
        rep.at(v, "expected an array of strings for 'listen', got " + detail::type_name(v));
        return;
    }
    std::set<std::string> seen;
    for (const auto* e : items) {
        if (!e->is_string()) {
            rep.at(*e, "expected a string in 'listen', got " + detail::type_name(*e));
            continue;
        }
        const std::string& text = e->as_string().str;
        auto addr = parse_listen(text);
        if (!addr) {
            rep.at(*e, "invalid listen address '" + text +
                           "' (expected \"host:port\", \"[::1]:port\" or \"unix:/path\")");
            continue;
        }
        if (addr->type == listen_addr::kind::unix_socket) {
            addr->path = resolve_path(dir, addr->path);
        }
        std::string identity = addr->type == listen_addr::kind::unix_socket
                                   ? "unix:" + addr->path
                                   : addr->host + "|" + std::to_string(addr->port);
        // Port 0 asks for a fresh ephemeral port each time, so it never collides.
        if (!(addr->type == listen_addr::kind::tcp && addr->port == 0) &&
            !seen.insert(identity).second) {
            rep.at(*e, "duplicate listen address '" + text + "'");
            continue;
        }
        server.listen.push_back(std::move(*addr));
    }
}

// "-" and "off" are words, anything else a path relative to the main file.
std::optional<std::string> read_log(reporter& rep, const toml::value& v, std::string_view key,
                                    const std::string& dir) {
    auto s = detail::get_nonempty_string(rep, v, key);
    if (!s || *s == "-" || *s == "off") {
        return s;
    }
    return resolve_path(dir, *s);
}

// [server] status_allow: addresses and CIDR blocks, each checked where it is written.
void read_status_allow(reporter& rep, const toml::value& v, std::vector<address_range>& out) {
    if (!detail::get_string_list(rep, v, "status_allow")) {
        return;
    }
    for (const auto& item : v.as_array()) {
        address_range r;
        std::string why = parse_address_range(item.as_string().str, r);
        if (!why.empty()) {
            rep.at(item, "status_allow: " + why);
        } else {
            out.push_back(std::move(r));
        }
    }
}

void read_server(reporter& rep, const toml::value& t, const std::string& dir,
                 server_settings& server) {
    detail::check_keys(rep, t,
                       {"listen", "sites", "workers", "pool_threads", "reload", "access_log",
                        "error_log", "shutdown_grace", "status", "trusted_proxies", "dev", "reuse_port",
                        "access_log_format", "max_requests", "max_requests_jitter", "max_rss", "stall_timeout",
                        "status_allow"},
                       "[server]");
    if (auto* v = find_key(t, "listen")) {
        read_listen(rep, *v, dir, server);
    } else {
        server.listen.push_back(*parse_listen(default_listen));
    }
    if (auto* v = find_key(t, "sites")) {
        if (auto globs = detail::get_string_list(rep, *v, "sites", true)) {
            for (const auto& g : *globs) {
                if (g.empty()) {
                    rep.at(*v, "'sites' must not contain an empty pattern");
                    continue;
                }
                server.site_globs.push_back(resolve_path(dir, g));
            }
        }
    }
    if (auto* v = find_key(t, "workers")) {
        if (v->is_string()) {
            if (v->as_string().str == "auto") {
                server.workers = 0;
            } else {
                rep.at(*v, "'workers' must be a positive integer or \"auto\", got '" +
                               v->as_string().str + "'");
            }
        } else if (v->is_integer()) {
            if (auto n = detail::get_int(rep, *v, "workers", 1, 1024)) {
                server.workers = static_cast<unsigned>(*n);
            }
        } else {
            rep.at(*v, "expected an integer or \"auto\" for 'workers', got " +
                           detail::type_name(*v));
        }
    }
    if (auto* v = find_key(t, "pool_threads")) {
        if (auto n = detail::get_int(rep, *v, "pool_threads", 1, 1024)) {
            server.pool_threads = static_cast<unsigned>(*n);
        }
    }
    if (auto* v = find_key(t, "reload")) {
        read_choice(rep, *v, "reload", "reload mode",
                    {{"watch", reload_mode::watch}, {"signal", reload_mode::signal}, {"off", reload_mode::off}},
                    server.reload);
    }
    if (auto* v = find_key(t, "access_log")) {
        if (auto s = read_log(rep, *v, "access_log", dir)) {
            server.access_log = std::move(*s);
        }
    }
    if (auto* v = find_key(t, "error_log")) {
        if (auto s = read_log(rep, *v, "error_log", dir)) {
            server.error_log = std::move(*s);
        }
    }
    if (auto* v = find_key(t, "shutdown_grace")) {
        if (auto d = detail::get_duration(rep, *v, "shutdown_grace")) {
            server.shutdown_grace = *d;
        }
    }
    if (auto* v = find_key(t, "status")) {
        if (auto s = detail::get_string(rep, *v, "status")) {
            if (s->starts_with("/")) {
                server.status = std::move(*s);
            } else {
                rep.at(*v, "'status' must be a URL path starting with '/', got '" + *s + "'");
            }
        }
    }
    if (auto* v = find_key(t, "trusted_proxies")) {
        if (auto list = detail::get_string_list(rep, *v, "trusted_proxies")) {
            server.trusted_proxies = std::move(*list);
        }
    }
    if (auto* v = find_key(t, "status_allow")) {
        read_status_allow(rep, *v, server.status_allow);
    }
    if (auto* v = find_key(t, "dev")) {
        if (auto b = detail::get_bool(rep, *v, "dev")) {
            server.dev = *b;
        }
    }
    if (auto* v = find_key(t, "max_requests")) {
        if (auto n = detail::get_int(rep, *v, "max_requests", 0, std::numeric_limits<std::int64_t>::max())) {
            server.max_requests = static_cast<std::uint64_t>(*n);
        }
    }
    if (auto* v = find_key(t, "max_requests_jitter")) {
        if (auto n = detail::get_int(rep, *v, "max_requests_jitter", 0, std::numeric_limits<std::int64_t>::max())) {
            server.max_requests_jitter = static_cast<std::uint64_t>(*n);
        }
    }
    if (auto* v = find_key(t, "max_rss")) {
        if (auto n = detail::get_size(rep, *v, "max_rss")) {
            if (*n != 0 && *n < 16u * 1024 * 1024) {
                rep.at(*v, "'max_rss' must be 0 (never) or at least 16MB, got " + std::to_string(*n) + " bytes");
            } else {
                server.max_rss = *n;
            }
        }
    }
    if (auto* v = find_key(t, "stall_timeout")) {
        if (auto d = detail::get_duration(rep, *v, "stall_timeout")) {
            if (d->count() != 0 && d->count() < 100) {
                rep.at(*v, "'stall_timeout' must be 0 (never) or at least 100ms");
            } else {
                server.stall_timeout = *d;
            }
        }
    }
    if (auto* v = find_key(t, "reuse_port")) {
        if (auto b = detail::get_bool(rep, *v, "reuse_port")) {
            server.reuse_port = *b;
        }
    }
    if (auto* v = find_key(t, "access_log_format")) {
        read_choice(rep, *v, "access_log_format", "access_log_format",
                    {{"combined", access_log_format::combined},
                     {"common", access_log_format::common},
                     {"json", access_log_format::json}},
                    server.access_format);
    }
    for (auto& a : server.listen) {
        a.reuse_port = server.reuse_port;
    }
}

}  // namespace

std::chrono::milliseconds effective_stall_timeout(const config& c) {
    if (c.server.stall_timeout) {
        return *c.server.stall_timeout;
    }
    std::chrono::milliseconds h = c.limits.handler_timeout;
    if (h.count() == 0) {
        return std::chrono::milliseconds(60000);
    }
    return std::max(std::chrono::milliseconds(30000), h * 4);
}

namespace {

void read_limits(reporter& rep, const toml::value& t, limit_settings& limits) {
    detail::check_keys(rep, t,
                       {"max_header_bytes", "max_body_bytes", "max_connections", "read_timeout",
                        "write_timeout", "handler_timeout"},
                       "[limits]");
    if (auto* v = find_key(t, "max_header_bytes")) {
        if (auto n = detail::get_size(rep, *v, "max_header_bytes")) {
            limits.max_header_bytes = *n;
        }
    }
    if (auto* v = find_key(t, "max_body_bytes")) {
        if (auto n = detail::get_size(rep, *v, "max_body_bytes")) {
            limits.max_body_bytes = *n;
        }
    }
    if (auto* v = find_key(t, "max_connections")) {
        if (auto n = detail::get_int(rep, *v, "max_connections", 1,
                                     std::numeric_limits<std::int64_t>::max())) {
            limits.max_connections = static_cast<std::uint64_t>(*n);
        }
    }
    struct timeout_key {
        const char* key;
        std::chrono::milliseconds* target;
    };
    for (auto [key, target] : {timeout_key{"read_timeout", &limits.read_timeout},
                               timeout_key{"write_timeout", &limits.write_timeout},
                               timeout_key{"handler_timeout", &limits.handler_timeout}}) {
        if (auto* v = find_key(t, key)) {
            if (auto d = detail::get_duration(rep, *v, key)) {
                *target = *d;
            }
        }
    }
}

// "numpy", "lxml.etree": dotted Python identifiers (ASCII).
bool is_module_name(const std::string& s) {
    bool start = true;
    for (char c : s) {
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (c == '.') {
            if (start) {
                return false;
            }
            start = true;
            continue;
        }
        if (!(alpha || (digit && !start))) {
            return false;
        }
        start = false;
    }
    return !s.empty() && !start;
}

void read_python(reporter& rep, const toml::value& t, const std::string& dir,
                 python_settings& python) {
    detail::check_keys(rep, t, {"path", "debug", "autoreload", "optimize", "main_imports"}, "[python]");
    if (auto* v = find_key(t, "path")) {
        if (auto list = detail::get_string_list(rep, *v, "path")) {
            for (const auto& p : *list) {
                python.path.push_back(resolve_path(dir, p));
            }
        }
    }
    if (auto* v = find_key(t, "debug")) {
        if (auto b = detail::get_bool(rep, *v, "debug")) {
            python.debug = *b;
        }
    }
    if (auto* v = find_key(t, "autoreload")) {
        bool on = true, app = false;
        if (detail::get_autoreload(rep, *v, on, app)) {
            python.autoreload = on;
            python.autoreload_app = app;
        }
    }
    if (auto* v = find_key(t, "optimize")) {
        if (auto n = detail::get_int(rep, *v, "optimize", 0, 2)) {
            python.optimize = static_cast<int>(*n);
        }
    }
    if (auto* v = find_key(t, "main_imports")) {
        if (auto list = detail::get_string_list(rep, *v, "main_imports")) {
            const auto& items = v->as_array();
            for (std::size_t i = 0; i < list->size(); ++i) {
                if (!is_module_name((*list)[i])) {
                    rep.at(items[i], "main_imports: '" + (*list)[i] +
                                         "' is not a module name (dotted Python identifiers, e.g. \"lxml.etree\")");
                    continue;
                }
                python.main_imports.push_back((*list)[i]);
            }
        }
    }
}

// The table at `key`, or nullptr (reporting a non-table).
const toml::value* section(reporter& rep, const toml::value& root, std::string_view key) {
    auto* v = find_key(root, key);
    if (v && !v->is_table()) {
        rep.at(*v, "expected a table for '" + std::string(key) + "', got " +
                       detail::type_name(*v));
        return nullptr;
    }
    return v;
}

// The folder to watch for a glob: its deepest leading directory without wildcards,
// so that new matching files (or folders) appear as events there.
std::string watch_dir_of(const std::string& pattern) {
    std::filesystem::path dir = std::filesystem::path(pattern).parent_path();
    std::filesystem::path out;
    for (const auto& part : dir) {
        if (part.string().find_first_of("*?[") != std::string::npos) {
            break;
        }
        out /= part;
    }
    return resolve_path("/", out.string());
}

std::vector<std::string> expand_glob(const std::string& pattern) {
    std::vector<std::string> out;
    glob_t g{};
    if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) {
            std::string path = g.gl_pathv[i];
            std::error_code ec;
            if (std::filesystem::is_directory(path, ec)) {
                continue;
            }
            out.push_back(resolve_path("/", path));
        }
    }
    globfree(&g);
    // Byte order, not the locale's collation: the same files load in the same
    // order whatever LANG the server starts under.
    std::sort(out.begin(), out.end());
    return out;
}

// Names must pick exactly one site, and only one site may take unknown hosts.
void check_sites(reporter& rep, const std::vector<site>& sites,
                 const std::vector<detail::site_marks>& marks) {
    struct owner {
        std::size_t site;
        source_loc where;
        bool alias;
    };
    std::map<std::string, owner> names;
    auto claim = [&](const std::string& name, const source_loc& where, std::size_t i,
                     bool alias) {
        auto [it, inserted] = names.emplace(name, owner{i, where, alias});
        if (inserted || it->second.site == i) {
            return;
        }
        const owner& first = it->second;
        const std::string& other = sites[first.site].server_name;
        std::string msg;
        if (!alias && !first.alias) {
            msg = "duplicate server_name '" + name + "' (first defined at " +
                  to_string(first.where) + ")";
        } else if (first.alias) {
            msg = std::string(alias ? "alias" : "server_name") + " '" + name +
                  "' is already an alias of site '" + other + "' (" + to_string(first.where) + ")";
        } else {
            msg = "alias '" + name + "' is already the server_name of site '" + other + "' (" +
                  to_string(first.where) + ")";
        }
        rep.at(where, msg);
    };
    for (std::size_t i = 0; i < sites.size(); ++i) {
        claim(sites[i].server_name, marks[i].name, i, false);
        for (std::size_t a = 0; a < sites[i].aliases.size(); ++a) {
            claim(sites[i].aliases[a], marks[i].aliases[a], i, true);
        }
    }
    std::optional<std::size_t> first_default;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        if (!sites[i].is_default) {
            continue;
        }
        if (first_default) {
            const auto& first = sites[*first_default];
            rep.at(marks[i].default_flag,
                   "site '" + sites[i].server_name + "' is marked default, but site '" +
                       first.server_name + "' already is (" +
                       to_string(marks[*first_default].default_flag) + ")");
        } else {
            first_default = i;
        }
    }
}

}  // namespace

load_result load(const std::string& main_file) {
    namespace fs = std::filesystem;
    reporter rep;
    auto cfg = std::make_shared<config>();
    std::error_code ec;
    cfg->main_file = resolve_path(fs::current_path(ec).string(), main_file);
    cfg->files.push_back(cfg->main_file);
    const std::string main_dir = detail::parent_dir(cfg->main_file);
    std::vector<detail::site_marks> marks;

    bool server_seen = false;
    if (auto root = parse_file(rep, cfg->main_file)) {
        detail::check_keys(rep, *root, {"server", "limits", "python", "site", "process_group"}, "the main file");
        if (auto* t = section(rep, *root, "server")) {
            read_server(rep, *t, main_dir, cfg->server);
            server_seen = true;
        }
        if (auto* t = section(rep, *root, "limits")) {
            read_limits(rep, *t, cfg->limits);
        }
        if (auto* t = section(rep, *root, "python")) {
            read_python(rep, *t, main_dir, cfg->python);
        }
        if (auto* v = find_key(*root, "site")) {
            detail::read_sites(rep, *v, cfg->main_file, cfg->sites, marks);
        }
        if (auto* v = find_key(*root, "process_group")) {
            detail::read_process_groups(rep, *v, cfg->process_groups);
        }
    }
    if (!server_seen && cfg->server.listen.empty()) {
        cfg->server.listen.push_back(*parse_listen(default_listen));
    }

    std::set<std::string> seen_files = {cfg->main_file};
    for (const auto& pattern : cfg->server.site_globs) {
        auto dir = watch_dir_of(pattern);
        if (std::find(cfg->watch_dirs.begin(), cfg->watch_dirs.end(), dir) ==
            cfg->watch_dirs.end()) {
            cfg->watch_dirs.push_back(dir);
        }
        for (const auto& file : expand_glob(pattern)) {
            if (!seen_files.insert(file).second) {
                continue;  // named by two globs: read it once
            }
            cfg->files.push_back(file);
            auto root = parse_file(rep, file);
            if (!root) {
                continue;
            }
            for (const auto& [key, value] : root->as_table()) {
                if (key != "site") {
                    rep.at(value, "unknown key '" + key +
                                      "' in a site file (only [[site]] tables belong there)");
                }
            }
            if (auto* v = find_key(*root, "site")) {
                detail::read_sites(rep, *v, file, cfg->sites, marks);
            }
        }
    }

    check_sites(rep, cfg->sites, marks);
    detail::check_process_group_refs(rep, *cfg);

    load_result result;
    result.errors = std::move(rep.errors());
    result.files = cfg->files;
    result.watch_dirs = cfg->watch_dirs;
    // File order, then position: what a user reading the files top to bottom expects.
    std::map<std::string, std::size_t> file_rank;
    for (std::size_t i = 0; i < cfg->files.size(); ++i) {
        file_rank.emplace(cfg->files[i], i);
    }
    auto rank = [&](const error& e) {
        auto it = file_rank.find(e.where.file);
        return std::tuple(it == file_rank.end() ? file_rank.size() : it->second, e.where.line,
                          e.where.column);
    };
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [&](const error& a, const error& b) { return rank(a) < rank(b); });
    if (result.errors.empty()) {
        // Keys as the router compares them: no brackets, no trailing dot.
        auto host_key = [](std::string n) {
            if (n.size() >= 2 && n.front() == '[' && n.back() == ']') {
                n = n.substr(1, n.size() - 2);
            }
            if (!n.empty() && n.back() == '.') {
                n.pop_back();
            }
            return n;
        };
        for (std::size_t i = 0; i < cfg->sites.size(); ++i) {
            const site& st = cfg->sites[i];
            cfg->host_index.emplace(host_key(st.server_name), i);
            bool wildcard = false;
            for (const auto& a : st.aliases) {
                if (a.rfind("*.", 0) == 0) {
                    wildcard = true;
                } else {
                    cfg->host_index.emplace(host_key(a), i);
                }
            }
            if (wildcard) {
                cfg->wildcard_sites.push_back(i);
            }
        }
        result.cfg = std::move(cfg);
    }
    return result;
}

}  // namespace subhttpd::conf

// [[site]] tables and their blocks (site level, [[site.directory]], [[site.location]]).
// Checks that need only one site happen here; checks across sites (unique names,
// one default) happen in config.cpp once every file is read.
#include <array>
#include <filesystem>
#include <system_error>

#include "conf/reader.h"
#include "conf/wsgi_spec.h"

namespace subhttpd::conf::detail {

namespace {

constexpr std::string_view block_keys[] = {
    "handler", "postreadrequest_handler", "trans_handler", "headerparser_handler", "init_handler",
    "access_handler", "authen_handler", "authz_handler", "type_handler", "fixup_handler",
    "log_handler", "cleanup_handler", "output_filter", "input_filter", "wsgi", "interpreter", "interp_per_directory",
    "interp_per_directive", "offload", "debug", "autoreload", "handler_timeout", "options",
    "auth_type", "auth_name", "handler_module", "process_group"};

bool is_block_key(std::string_view key) {
    for (auto k : block_keys) {
        if (k == key) {
            return true;
        }
    }
    return false;
}

// A filter list: "module[::callable]" entries, one word each.
std::optional<std::vector<std::string>> read_filters(reporter& rep, const toml::value& v, std::string_view key) {
    auto list = get_string_list(rep, v, key, true);
    if (!list) {
        return std::nullopt;
    }
    for (const auto& f : *list) {
        if (f.empty() || f.find_first_of(" \t|") != std::string::npos || f.rfind("::", 0) == 0) {
            rep.at(v, "'" + std::string(key) + "' entry '" + f + "' is not \"module\" or \"module::callable\"");
            return std::nullopt;
        }
    }
    return list;
}

// handler_module = "m" (PythonHandlerModule): every phase this block does not
// set itself runs m's function of the phase's default name (handler,
// accesshandler, ...); a function m lacks is skipped, which hosts/ marks.
void read_handler_module(reporter& rep, const toml::value& v, bool site_level, block& b) {
    auto name = get_nonempty_string(rep, v, "handler_module");
    if (!name) {
        return;
    }
    if (name->find_first_of(" \t|:") != std::string::npos) {
        rep.at(v, "'handler_module' must be a module name (\"pkg.module\"), not '" + *name + "'");
        return;
    }
    for (phase p : all_phases) {
        auto i = static_cast<std::size_t>(p);
        if (b.handlers[i] || (site_level_only(p) && !site_level) || (p == phase::content && b.wsgi)) {
            continue;
        }
        b.handlers[i] = std::vector<std::string>{*name};
        b.silent[i] = true;
    }
}

// Unknown keys are checked by the caller, which knows the other keys its table allows.
// `site_level`: the site's own table, where postreadrequest_/trans_handler may stand.
block read_block(reporter& rep, const toml::value& table, bool site_level) {
    block b;
    b.where = loc_of(table);
    for (phase p : all_phases) {
        if (auto* v = find_key(table, phase_key(p))) {
            if (site_level_only(p) && !site_level) {
                rep.at(*v, "'" + std::string(phase_key(p)) +
                               "' may only be set at site level (it runs before the URL is mapped to a block)");
                continue;
            }
            auto list = get_string_list(rep, *v, phase_key(p), true);
            if (!list) {
                continue;
            }
            bool ok = true;
            for (const auto& h : *list) {
                if (h.find_first_not_of(" \t") == std::string::npos) {
                    rep.at(*v, "'" + std::string(phase_key(p)) + "' has an empty handler");
                    ok = false;
                    break;
                }
            }
            if (ok) {
                b.handlers[static_cast<std::size_t>(p)] = std::move(*list);
            }
        }
    }
    if (auto* v = find_key(table, "output_filter")) {
        b.output_filters = read_filters(rep, *v, "output_filter");
    }
    if (auto* v = find_key(table, "input_filter")) {
        b.input_filters = read_filters(rep, *v, "input_filter");
    }
    if (auto* v = find_key(table, "wsgi")) {
        b.wsgi = get_nonempty_string(rep, *v, "wsgi");
        b.wsgi_where = loc_of(*v);
        wsgi_spec spec;
        if (b.wsgi) {
            if (auto e = parse_wsgi_spec(*b.wsgi, spec); !e.empty()) {
                rep.at(*v, "wsgi '" + *b.wsgi + "' " + e);
                b.wsgi.reset();
            }
        }
    }
    if (auto* v = find_key(table, "handler_module")) {
        read_handler_module(rep, *v, site_level, b);
    }
    if (auto* v = find_key(table, "interpreter")) {
        b.interpreter = get_nonempty_string(rep, *v, "interpreter");
    }
    if (auto* v = find_key(table, "interp_per_directory")) {
        b.interp_per_directory = get_bool(rep, *v, "interp_per_directory");
    }
    if (auto* v = find_key(table, "interp_per_directive")) {
        b.interp_per_directive = get_bool(rep, *v, "interp_per_directive");
    }
    if (auto* v = find_key(table, "offload")) {
        b.offload = get_bool(rep, *v, "offload");
    }
    if (auto* v = find_key(table, "debug")) {
        b.debug = get_bool(rep, *v, "debug");
    }
    if (auto* v = find_key(table, "autoreload")) {
        bool on = true, app = false;
        if (get_autoreload(rep, *v, on, app)) {
            b.autoreload = on;
            b.autoreload_app = app;
        }
    }
    if (auto* v = find_key(table, "handler_timeout")) {
        b.handler_timeout = get_duration(rep, *v, "handler_timeout");
    }
    if (auto* v = find_key(table, "options")) {
        if (auto o = get_string_table(rep, *v, "options")) {
            b.options = std::move(*o);
        }
    }
    if (auto* v = find_key(table, "auth_type")) {
        b.auth_type = get_string(rep, *v, "auth_type");
    }
    if (auto* v = find_key(table, "auth_name")) {
        b.auth_name = get_string(rep, *v, "auth_name");
    }
    if (auto* v = find_key(table, "process_group")) {
        b.process_group = get_nonempty_string(rep, *v, "process_group");
        b.process_group_where = loc_of(*v);
    }
    return b;
}

void check_block_keys(reporter& rep, const toml::value& table, std::string_view context) {
    for (const auto& [key, value] : table.as_table()) {
        if (key != "path" && !is_block_key(key)) {
            rep.at(value, "unknown key '" + key + "' in " + std::string(context));
        }
    }
}

// Returns the array's tables; reports anything else ([site.directory] written as
// a single table, or a plain value) once.
std::vector<const toml::value*> tables_of(reporter& rep, const toml::value& v,
                                          std::string_view key) {
    std::vector<const toml::value*> out;
    if (!v.is_array()) {
        rep.at(v, "expected an array of tables for '" + std::string(key) + "' (write [[" +
                      std::string(key) + "]]), got " + type_name(v));
        return out;
    }
    for (const auto& e : v.as_array()) {
        if (!e.is_table()) {
            rep.at(e, "expected a table in '" + std::string(key) + "', got " + type_name(e));
            continue;
        }
        out.push_back(&e);
    }
    return out;
}

bool is_directory(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

bool exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

// "does not exist" and "is not a directory" need different fixes, so say which.
bool check_directory(reporter& rep, const toml::value& node, std::string_view key,
                     const std::string& path) {
    if (is_directory(path)) {
        return true;
    }
    if (exists(path)) {
        rep.at(node, std::string(key) + " '" + path + "' is not a directory");
    } else {
        rep.at(node, std::string(key) + " '" + path + "' does not exist");
    }
    return false;
}

std::string to_lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

// A host name as matched against Host headers; "*." may only lead an alias.
bool valid_name(const std::string& name, bool wildcard_ok) {
    std::string_view rest = name;
    if (wildcard_ok && rest.starts_with("*.")) {
        rest.remove_prefix(2);
    }
    if (rest.empty()) {
        return false;
    }
    for (char c : rest) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                  c == '_' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// The value of a key a table must have; nullptr, with the error reported, when it is missing.
const toml::value* required_key(reporter& rep, const toml::value& t, std::string_view key, std::string_view table) {
    const toml::value* v = find_key(t, key);
    if (!v) {
        rep.at(t, "missing required key '" + std::string(key) + "' in " + std::string(table));
    }
    return v;
}

void read_directories(reporter& rep, const toml::value& v, site& s) {
    for (const auto* t : tables_of(rep, v, "site.directory")) {
        check_block_keys(rep, *t, "[site.directory]");
        directory_block d;
        d.settings = read_block(rep, *t, false);
        auto* pv = required_key(rep, *t, "path", "[site.directory]");
        if (!pv) {
            continue;
        }
        auto path = get_nonempty_string(rep, *pv, "path");
        if (!path) {
            continue;
        }
        if (s.document_root.empty()) {
            // Without a document_root a relative path has no meaning; the missing
            // document_root is reported already.
            if (!std::filesystem::path(*path).is_absolute()) {
                continue;
            }
        }
        d.path = resolve_path(s.document_root, *path);
        if (!check_directory(rep, *pv, "directory", d.path)) {
            continue;
        }
        s.directories.push_back(std::move(d));
    }
}

void read_locations(reporter& rep, const toml::value& v, site& s) {
    for (const auto* t : tables_of(rep, v, "site.location")) {
        check_block_keys(rep, *t, "[site.location]");
        location_block l;
        l.settings = read_block(rep, *t, false);
        auto* pv = required_key(rep, *t, "path", "[site.location]");
        if (!pv) {
            continue;
        }
        auto path = get_string(rep, *pv, "path");
        if (!path) {
            continue;
        }
        if (!path->starts_with("/")) {
            rep.at(*pv, "location path '" + *path + "' must start with '/'");
            continue;
        }
        while (path->size() > 1 && path->back() == '/') {
            path->pop_back();
        }
        l.path = std::move(*path);
        s.locations.push_back(std::move(l));
    }
}

// [[site.alias]]: url prefix -> folder; relative paths against the site file's folder.
void read_url_aliases(reporter& rep, const toml::value& v, const std::string& dir, site& s) {
    for (const auto* t : tables_of(rep, v, "site.alias")) {
        check_keys(rep, *t, {"url", "path"}, "[site.alias]");
        alias_block a;
        a.where = loc_of(*t);
        auto* uv = required_key(rep, *t, "url", "[site.alias]");
        auto* pv = required_key(rep, *t, "path", "[site.alias]");
        if (!uv || !pv) {
            continue;
        }
        auto url = get_nonempty_string(rep, *uv, "url");
        auto path = get_nonempty_string(rep, *pv, "path");
        if (!url || !path) {
            continue;
        }
        if (!url->starts_with("/")) {
            rep.at(*uv, "alias url '" + *url + "' must start with '/'");
            continue;
        }
        while (url->size() > 1 && url->back() == '/') {
            url->pop_back();
        }
        bool clean = *url != "/" && url->find('%') == std::string::npos &&
                     url->find('\0') == std::string::npos && url->find("//") == std::string::npos;
        for (std::size_t pos = 0; clean && pos < url->size();) {
            auto next = url->find('/', pos + 1);
            auto seg = url->substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
            clean = seg != "." && seg != "..";
            pos = next == std::string::npos ? url->size() : next;
        }
        if (!clean) {
            rep.at(*uv, "alias url '" + *url +
                            "' must be a plain URL prefix below '/' (no '.', '..', '%' or empty segments)");
            continue;
        }
        for (const auto& other : s.url_aliases) {
            if (other.url == *url) {
                rep.at(*uv, "alias url '" + *url + "' is already mapped at " + to_string(other.where));
                clean = false;
            }
        }
        if (!clean) {
            continue;
        }
        a.url = std::move(*url);
        a.path = resolve_path(dir, *path);
        if (!check_directory(rep, *pv, "alias path", a.path)) {
            continue;
        }
        s.url_aliases.push_back(std::move(a));
    }
}

// A script-file `wsgi` must name an existing file (relative to the block's folder).
void check_wsgi_file(reporter& rep, const block& b, const std::string& module_dir) {
    if (!b.wsgi || module_dir.empty()) {
        return;
    }
    wsgi_spec spec;
    if (!parse_wsgi_spec(*b.wsgi, spec).empty()) {
        return;
    }
    const std::string path = resolve_path(module_dir, spec.target);
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) {
        return;
    }
    // "x.wsgi" without a '/' may be module x.wsgi of an installed package: only
    // a surely-a-path target is checked here.
    const bool missing = spec.is_file;
    if (missing) {
        rep.at(b.wsgi_where, "wsgi script '" + path + "' does not exist");
    }
}

void read_site(reporter& rep, const toml::value& t, const std::string& file,
               std::vector<site>& out, std::vector<site_marks>& marks) {
    const std::string dir = parent_dir(file);
    site s;
    site_marks m;
    s.file = file;
    s.where = loc_of(t);

    for (const auto& [key, value] : t.as_table()) {
        static constexpr std::string_view site_keys[] = {
            "server_name", "aliases",     "default", "document_root", "index",  "python_path",
            "import",      "env",         "directory", "location", "alias"};
        bool known = is_block_key(key);
        for (auto k : site_keys) {
            known = known || k == key;
        }
        if (!known) {
            rep.at(value, "unknown key '" + key + "' in [site]");
        }
    }

    bool named = false;
    if (auto* v = required_key(rep, t, "server_name", "[site]")) {
        if (auto name = get_nonempty_string(rep, *v, "server_name")) {
            s.server_name = to_lower(*name);
            m.name = loc_of(*v);
            named = true;
            if (!valid_name(s.server_name, false)) {
                rep.at(*v, "invalid server_name '" + *name + "'");
            }
        }
    }

    if (auto* v = find_key(t, "aliases")) {
        if (auto list = get_string_list(rep, *v, "aliases")) {
            const auto& elems = v->as_array();
            for (std::size_t i = 0; i < list->size(); ++i) {
                std::string alias = to_lower((*list)[i]);
                if (!valid_name(alias, true)) {
                    rep.at(elems[i], "invalid alias '" + (*list)[i] +
                                         "' (a host name, or '*.' followed by a domain)");
                    continue;
                }
                s.aliases.push_back(std::move(alias));
                m.aliases.push_back(loc_of(elems[i]));
            }
        }
    }

    if (auto* v = find_key(t, "default")) {
        if (auto d = get_bool(rep, *v, "default")) {
            s.is_default = *d;
            m.default_flag = loc_of(*v);
        }
    }

    if (auto* v = required_key(rep, t, "document_root", "[site]")) {
        if (auto root = get_nonempty_string(rep, *v, "document_root")) {
            std::string abs = resolve_path(dir, *root);
            if (check_directory(rep, *v, "document_root", abs)) {
                s.document_root = std::move(abs);
            }
        }
    }

    if (auto* v = find_key(t, "index")) {
        if (auto list = get_string_list(rep, *v, "index")) {
            s.index = std::move(*list);
        }
    }
    if (auto* v = find_key(t, "python_path")) {
        if (auto list = get_string_list(rep, *v, "python_path")) {
            for (const auto& p : *list) {
                s.python_path.push_back(resolve_path(dir, p));
            }
        }
    }
    if (auto* v = find_key(t, "import")) {
        if (auto list = get_string_list(rep, *v, "import")) {
            s.imports = std::move(*list);
        }
    }
    if (auto* v = find_key(t, "env")) {
        if (auto env = get_string_table(rep, *v, "env")) {
            s.env = std::move(*env);
        }
    }

    s.settings = read_block(rep, t, true);
    if (auto* v = find_key(t, "directory")) {
        read_directories(rep, *v, s);
    }
    if (auto* v = find_key(t, "location")) {
        read_locations(rep, *v, s);
    }
    if (auto* v = find_key(t, "alias")) {
        read_url_aliases(rep, *v, dir, s);
    }

    check_wsgi_file(rep, s.settings, s.document_root);
    for (const auto& d : s.directories) {
        check_wsgi_file(rep, d.settings, d.path);
    }
    for (const auto& l : s.locations) {
        check_wsgi_file(rep, l.settings, s.document_root);
    }

    if (named) {
        out.push_back(std::move(s));
        marks.push_back(std::move(m));
    }
}

}  // namespace

void read_sites(reporter& rep, const toml::value& site_array, const std::string& file,
                std::vector<site>& out, std::vector<site_marks>& marks) {
    for (const auto* t : tables_of(rep, site_array, "site")) {
        read_site(rep, *t, file, out, marks);
    }
}

}  // namespace subhttpd::conf::detail

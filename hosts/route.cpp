// Routing: Host -> site, URL -> filename + path_info, block merging, the handler
// of every phase and the interpreter that runs it. A pure function of the
// snapshot, the request line and the fs_view; nothing here caches or mutates.
#include "hosts/route.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "common/host.h"
#include "common/text.h"
#include "hosts/merge.h"

namespace subhttpd::hosts {
namespace {

using conf::phase;
using namespace merge_impl;

using text::to_lower;

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && text::iequals(s.substr(0, prefix.size()), prefix);
}

// IPv6 literals may be configured with or without brackets; compare them bare.
std::string_view unbracket(std::string_view name) {
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
        return name.substr(1, name.size() - 2);
    }
    return name;
}

bool name_is(std::string_view configured, const std::string& key) {
    std::string name = to_lower(unbracket(configured));
    if (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    return name == key;
}

// Length of the matched suffix when `pattern` is "*.domain" and `key` is a
// strict sub-domain of it; 0 when it does not match.
std::size_t wildcard_match(std::string_view pattern, const std::string& key) {
    if (pattern.size() < 3 || pattern.substr(0, 2) != "*.") {
        return 0;
    }
    const std::string suffix = to_lower(pattern.substr(1));  // ".domain"
    if (key.size() <= suffix.size()) {
        return 0;
    }
    if (key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return 0;
    }
    return suffix.size();
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::vector<std::string_view> split_segments(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string_view::npos) {
            next = path.size();
        }
        if (next > pos) {
            out.push_back(path.substr(pos, next - pos));
        }
        pos = next + 1;
    }
    return out;
}

std::string join_path(std::string_view base, std::string_view name) {
    std::string out(base);
    if (out.empty() || out.back() != '/') {
        out.push_back('/');
    }
    out.append(name);
    return out;
}

// `s` with every byte that `keep` refuses written as %XX.
template <typename Keep>
std::string percent_escape(std::string_view s, Keep keep) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (keep(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 0xF]);
        }
    }
    return out;
}

// Location headers carry the decoded uri again, so anything that would change
// its meaning (space, '?', '#', '%', controls, non-ASCII) is escaped back.
std::string escape_path(std::string_view path) {
    return percent_escape(path, [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
    });
}

// The query string goes back as it came (still percent-encoded); only bytes
// that may not stand in a Location header or a URL are escaped: controls
// (a raw CR or LF would split the header), space, '#', DEL and non-ASCII.
std::string escape_query(std::string_view query) {
    return percent_escape(query, [](unsigned char c) { return c > 0x20 && c < 0x7F && c != '#'; });
}

// ---- filesystem mapping ----------------------------------------------------

struct mapping {
    std::string filename;
    std::string path_info;
    file_kind kind = file_kind::missing;  // of `filename`
    bool escaped = false;                 // its real path leaves the document root
};

bool index_name_ok(std::string_view name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

// Apache's directory walk: the longest existing prefix of document_root + uri,
// plus the first segment that does not exist, is the filename; the rest is path_info; a directory named with a trailing '/'
// gets the first existing DirectoryIndex file.
// `root` is the document root, or the folder of the [[site.alias]] whose url
// prefix was cut off `uri`: the same walk and the same escape checks serve both.
mapping map_to_storage(const conf::site& site, const std::string& root, const std::string& uri,
                       const fs_view& fs) {
    mapping m;
    const auto segments = split_segments(uri);
    const bool trailing = !uri.empty() && uri.back() == '/';
    std::string current = root;
    file_kind kind = fs.stat(current);
    std::size_t used = 0;
    // A path whose every segment below the root is a real directory or file
    // cannot leave the root: realpath(3) is needed only when a symlink is met.
    bool any_link = false;
    if (kind == file_kind::directory) {
        while (used < segments.size()) {
            std::string next = join_path(current, segments[used]);
            bool link = false;
            const file_kind next_kind = fs.stat_link(next, link);
            any_link = any_link || link;
            if (next_kind == file_kind::missing) {
                // Apache keeps the first missing segment in the filename (the
                // publisher maps /index/up to htdocs/index + "/up").
                current = std::move(next);
                kind = file_kind::missing;
                ++used;
                break;
            }
            current = std::move(next);
            kind = next_kind;
            ++used;
            if (kind != file_kind::directory) {
                break;
            }
        }
    }
    for (std::size_t i = used; i < segments.size(); ++i) {
        m.path_info.push_back('/');
        m.path_info.append(segments[i]);
    }
    if (trailing && (kind != file_kind::directory || used < segments.size())) {
        m.path_info.push_back('/');  // "/hello.py/" -> path_info "/", as Apache
    }
    if (kind == file_kind::directory && m.path_info.empty() && trailing) {
        for (const auto& name : site.index) {
            if (!index_name_ok(name)) {
                continue;
            }
            std::string candidate = join_path(current, name);
            bool link = false;
            if (fs.stat_link(candidate, link) == file_kind::file) {
                any_link = any_link || link;
                current = std::move(candidate);
                kind = file_kind::file;
                break;
            }
        }
    }
    if (any_link && (kind != file_kind::missing || used > 0)) {
        // Symlinks may point anywhere; only what really lies under the root is ours.
        // A missing filename is judged by the directory that holds it.
        std::string existing = current;
        if (kind == file_kind::missing) {
            auto slash = existing.rfind('/');
            existing = slash == 0 ? "/" : existing.substr(0, slash);
        }
        const std::string real = fs.real_path(existing);
        const std::string real_root = fs.real_path(root);
        m.escaped = real.empty() || real_root.empty() || !is_within(real, real_root);
    }
    m.filename = std::move(current);
    m.kind = kind;
    return m;
}

// The [[site.alias]] with the longest url prefix that holds `uri`, or nullptr.
const conf::alias_block* find_alias(const conf::site& site, const std::string& uri) {
    const conf::alias_block* best = nullptr;
    for (const auto& a : site.url_aliases) {
        if (is_within(uri, a.url) && (best == nullptr || a.url.size() > best->url.size())) {
            best = &a;
        }
    }
    return best;
}

// The location that sets the content phase, when a location does (it comes
// last in merge order, so it wins over any directory).
const conf::location_block* content_location(const conf::site& site, const std::string& uri) {
    const conf::location_block* best = nullptr;
    for (const auto& l : site.locations) {
        if (!location_matches(l.path, uri)) {
            continue;
        }
        const auto& s = l.settings;
        if (!s.handlers[static_cast<std::size_t>(phase::content)] && !s.wsgi) {
            continue;
        }
        if (best == nullptr || l.path.size() >= best->path.size()) {
            best = &l;
        }
    }
    return best;
}

// Request-target forms: origin ("/p?q") and absolute ("http://h/p?q", whose
// authority replaces the Host header, RFC 9112 3.2.2).
struct target_parts {
    std::string_view host;
    std::string_view path;
    std::string_view query;
    bool absolute = false;
};

target_parts split_target(std::string_view target) {
    target_parts t;
    for (const std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (starts_with_ci(target, scheme)) {
            target.remove_prefix(scheme.size());
            const auto end = target.find_first_of("/?");
            t.host = target.substr(0, end);
            t.absolute = true;
            target = end == std::string_view::npos ? std::string_view() : target.substr(end);
            break;
        }
    }
    const auto q = target.find('?');
    t.path = target.substr(0, q);
    if (q != std::string_view::npos) {
        t.query = target.substr(q + 1);
    }
    if (t.absolute && t.path.empty()) {
        t.path = "/";
    }
    return t;
}

void map_uri(const conf::config& cfg, route& r, const fs_view& fs);

}  // namespace

const conf::site* find_site(const conf::config& cfg, std::string_view host) {
    if (cfg.sites.empty()) {
        return nullptr;
    }
    const std::string key = host::key(host);
    if (!key.empty() && !cfg.host_index.empty()) {
        auto it = cfg.host_index.find(key);
        if (it != cfg.host_index.end()) {
            return &cfg.sites[it->second];
        }
        const conf::site* best = nullptr;
        std::size_t best_len = 0;
        for (std::size_t i : cfg.wildcard_sites) {
            for (const auto& a : cfg.sites[i].aliases) {
                const std::size_t len = wildcard_match(a, key);
                if (len > best_len) {
                    best = &cfg.sites[i];
                    best_len = len;
                }
            }
        }
        if (best != nullptr) {
            return best;
        }
    } else if (!key.empty()) {
        for (const auto& s : cfg.sites) {
            if (name_is(s.server_name, key)) {
                return &s;
            }
            for (const auto& a : s.aliases) {
                if (name_is(a, key)) {
                    return &s;
                }
            }
        }
        // Wildcards only after every exact name; the most specific one wins.
        const conf::site* best = nullptr;
        std::size_t best_len = 0;
        for (const auto& s : cfg.sites) {
            for (const auto& a : s.aliases) {
                const std::size_t len = wildcard_match(a, key);
                if (len > best_len) {
                    best = &s;
                    best_len = len;
                }
            }
        }
        if (best != nullptr) {
            return best;
        }
    }
    for (const auto& s : cfg.sites) {
        if (s.is_default) {
            return &s;
        }
    }
    return &cfg.sites.front();
}

bool normalise_path(std::string_view raw, std::string& out) {
    out.clear();
    if (raw.empty() || raw.front() != '/') {
        return false;
    }
    // Decode first: an encoded "%2f" or "%2e%2e" is then normalised like the
    // plain characters, so no spelling of ".." can climb above "/".
    std::string decoded;
    decoded.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= raw.size()) {
                return false;
            }
            const int hi = hex_value(raw[i + 1]);
            const int lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            return false;
        }
        decoded.push_back(c);
    }
    std::vector<std::string_view> kept;
    bool trailing = false;
    std::size_t pos = 0;
    while (pos <= decoded.size()) {
        auto next = decoded.find('/', pos);
        if (next == std::string::npos) {
            next = decoded.size();
        }
        const std::string_view seg(decoded.data() + pos, next - pos);
        pos = next + 1;
        if (seg.empty() || seg == ".") {
            trailing = true;
            continue;
        }
        if (seg == "..") {
            if (kept.empty()) {
                return false;
            }
            kept.pop_back();
            trailing = true;
            continue;
        }
        kept.push_back(seg);
        trailing = false;
    }
    out = "/";
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (i > 0) {
            out.push_back('/');
        }
        out.append(kept[i]);
    }
    if (trailing && !kept.empty()) {
        out.push_back('/');
    }
    return true;
}

route resolve(const conf::config& cfg, const request_line& req, const fs_view& fs) {
    route r;
    const target_parts target = split_target(req.target);
    r.site = find_site(cfg, target.absolute ? target.host : req.host);
    if (r.site == nullptr) {
        r.kind = route_kind::no_site;
        return r;
    }
    r.args = std::string(target.query);
    if (!normalise_path(target.path, r.uri)) {
        // The site's own settings still apply (debug decides the error page).
        r.kind = route_kind::bad_request;
        r.uri.clear();
        apply_settings(r, cfg, collect_blocks(*r.site, "", "", false));
        return r;
    }
    map_uri(cfg, r, fs);
    return r;
}

route resolve_uri(const conf::config& cfg, const conf::site& site, std::string_view uri, std::string_view args,
                  const fs_view& fs) {
    route r;
    r.site = &site;
    r.args = std::string(args);
    if (!normalise_path(escape_path(uri), r.uri)) {
        r.kind = route_kind::bad_request;
        r.uri.clear();
        apply_settings(r, cfg, collect_blocks(site, "", "", false));
        return r;
    }
    map_uri(cfg, r, fs);
    return r;
}

route resolve_filename(const conf::config& cfg, const conf::site& site, std::string_view uri,
                       std::string_view args, std::string filename, std::string path_info, const fs_view& fs) {
    route r;
    r.site = &site;
    r.uri = std::string(uri);
    r.args = std::string(args);
    r.filename = std::move(filename);
    r.path_info = std::move(path_info);
    const file_kind kind = fs.stat(r.filename);
    merge(r, cfg, collect_blocks(site, r.filename, r.uri, true), kind == file_kind::directory);
    if (r.at(phase::content).set) {
        r.kind = route_kind::handler;
        if (const auto* loc = content_location(site, r.uri)) {
            r.mount = loc->path == "/" ? "" : loc->path;
        }
    } else if (kind == file_kind::file && r.path_info.empty()) {
        r.kind = route_kind::static_file;
    } else if (kind == file_kind::missing || kind == file_kind::file) {
        r.kind = route_kind::not_found;
    } else {
        r.kind = route_kind::forbidden;
    }
    return r;
}

namespace {

// The URL part of resolve: r.site, r.uri (normalised) and r.args are set.
void map_uri(const conf::config& cfg, route& r, const fs_view& fs) {
    const conf::site& site = *r.site;

    // A location with a content handler or wsgi owns its URLs outright, as a
    // mod_python <Location> does: no directory walk, no <Directory> blocks.
    // An alias beats a shorter handler location (Alias /static beside a WSGI
    // app at "/", as with mod_wsgi); a location at or below the alias url wins.
    const conf::alias_block* alias = find_alias(site, r.uri);
    const conf::location_block* loc = content_location(site, r.uri);
    if (loc != nullptr && alias != nullptr && alias->url.size() > loc->path.size()) {
        loc = nullptr;
    }
    if (loc != nullptr) {
        route m = r;
        std::string name = site.document_root == "/" ? r.uri : site.document_root + r.uri;
        while (name.size() > 1 && name.back() == '/') {
            name.pop_back();
        }
        m.filename = std::move(name);
        m.path_info.clear();
        merge(m, cfg, collect_blocks(site, m.filename, m.uri, false),
              fs.stat(m.filename) == file_kind::directory);
        // An `| .ext` filter may still leave the content phase empty: then the
        // request falls back to the filesystem like any other.
        if (m.at(phase::content).set) {
            m.kind = route_kind::handler;
            m.mount = loc->path == "/" ? "" : loc->path;
            r = std::move(m);
            return;
        }
    }

    // An alias maps its URLs under its own folder: "/static/a.css" with url
    // "/static" walks "a.css" from the alias path; "/static" alone names the folder.
    mapping fm;
    if (alias != nullptr) {
        r.alias = alias->url;
        std::string rest = r.uri.substr(alias->url.size());
        fm = map_to_storage(site, alias->path, rest.empty() ? "" : rest, fs);
    } else {
        fm = map_to_storage(site, site.document_root, r.uri, fs);
    }
    r.filename = std::move(fm.filename);
    r.path_info = std::move(fm.path_info);
    merge(r, cfg, collect_blocks(site, r.filename, r.uri, true), fm.kind == file_kind::directory);
    if (alias != nullptr) {
        // The aliased files are static unless a block at or below the alias
        // (a directory inside its folder, a longer location) sets a handler.
        phase_route& content = r.phases[static_cast<std::size_t>(phase::content)];
        if (content.set && content.from.type == block_ref::kind::location && content.from.path.size() < alias->url.size()) {
            content = phase_route{};
        } else if (content.set && content.from.type == block_ref::kind::site) {
            content = phase_route{};
        }
    }

    const bool trailing = r.uri.back() == '/';
    if (fm.escaped) {
        // No phase may run on a file that really lies outside the root: the
        // server runs whatever phases are set, whatever the kind.
        r.kind = route_kind::forbidden;
        r.phases = {};
        r.output_filter = {};
        r.input_filter = {};
    } else if (r.at(phase::content).set) {
        r.kind = route_kind::handler;
    } else if (!r.path_info.empty() || fm.kind == file_kind::missing) {
        r.kind = route_kind::not_found;
    } else if (fm.kind == file_kind::file) {
        r.kind = route_kind::static_file;
    } else if (fm.kind == file_kind::directory && !trailing) {
        r.kind = route_kind::directory_redirect;
        r.redirect_location = escape_path(r.uri) + "/";
        if (!r.args.empty()) {
            r.redirect_location += "?" + escape_query(r.args);
        }
    } else {
        // A directory without an index file, or a socket/device/fifo.
        r.kind = route_kind::forbidden;
    }
}

}  // namespace

}  // namespace subhttpd::hosts

// libFuzzer target for hosts::resolve: the input is "Host\nmethod\ntarget" (a
// missing part is empty), resolved against three hand-built snapshots over an
// in-memory filesystem that holds symlinks out of the roots. After each call:
// - a static_file or handler route's filename lies inside the site's document
//   root, and a static file's real path inside the root's real path;
// - normalise_path never yields "/../", "/./", "//" or NUL;
// - explain never crashes and explain_json is valid JSON in valid UTF-8;
// - find_site picks the same site with load()'s host index as without it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "hosts/route.h"
#include "tests/unit/hosts/fixtures.h"

namespace {

namespace conf = subhttpd::conf;
namespace hosts = subhttpd::hosts;
using hosts::testing::add_dir;
using hosts::testing::add_loc;
using hosts::testing::fake_fs;
using hosts::testing::make_site;
using hosts::testing::set_handler;

[[noreturn]] void fail(const std::string& what, const hosts::request_line& req) {
    std::fprintf(stderr, "fuzz_route: invariant broken: %s\n  host=%.*s method=%.*s target=%.*s\n",
                 what.c_str(), static_cast<int>(req.host.size()), req.host.data(),
                 static_cast<int>(req.method.size()), req.method.data(),
                 static_cast<int>(req.target.size()), req.target.data());
    std::abort();
}

fake_fs make_fs() {
    fake_fs fs;
    fs.file("/srv/www/index.html")
        .file("/srv/www/app/hello.py")
        .file("/srv/www/app/sub/index.py")
        .dir("/srv/www/app/empty")
        .file("/srv/www/static/a.css")
        .file("/srv/www/static/dir.d/x.txt")
        .link("/srv/www/static/passwd", "/etc/passwd")       // a file outside
        .link("/srv/www/static/etc", "/etc")                 // a directory outside
        .link("/srv/www/static/app", "/srv/www/app")         // inside: allowed
        .link("/srv/www/static/loop", "/srv/www/static/loop")
        .link("/srv/www/static/up", "/srv")
        .file("/srv/www-old/secret.txt")                     // a sibling with the root as prefix
        .file("/srv/api/v1/users.py")
        .file("/srv/api/index.html")
        .file("/srv/server.toml")
        .file("/etc/passwd")
        .file("/index.html")
        .dir("/tmp");
    return fs;
}

// Two sites with every kind of block; a root of "/"; a config with no site.
conf::config make_multi() {
    conf::config cfg;
    cfg.main_file = "/srv/server.toml";
    auto www = make_site("www.example.com", "/srv/www");
    www.aliases = {"example.com", "*.example.org", "[::1]"};
    www.is_default = true;
    www.index = {"index.html", "index.py", "../server.toml", ""};
    www.settings.options = {{"db", "sqlite:///x"}, {"mode", "prod"}};
    auto& app = add_dir(www, "/srv/www/app", 10);
    set_handler(app.settings, {"hello", "extra::run | .py .cgi"});
    set_handler(app.settings, {"auth::check"}, conf::phase::authen);
    app.settings.interp_per_directory = true;
    app.settings.options = {{"mode", ""}};
    auto& sub = add_dir(www, "/srv/www/app/sub", 14);
    sub.settings.interpreter = "sub_interp";
    auto& stat = add_dir(www, "/srv/www/static", 18);
    stat.settings.interp_per_directive = true;
    set_handler(stat.settings, {"logger"}, conf::phase::log);
    auto& api = add_loc(www, "/api", 22);
    api.settings.wsgi = "myapp.wsgi:application";
    auto& pyonly = add_loc(www, "/py", 26);
    set_handler(pyonly.settings, {"only | .py"});
    pyonly.settings.interp_per_directive = true;
    add_loc(www, "/", 30).settings.debug = true;

    auto api_site = make_site("api.example.net", "/srv/api");
    api_site.aliases = {"*.api.example.net"};
    api_site.index = {"index.html"};
    set_handler(api_site.settings, {"dispatch::handler", "fallback"});
    api_site.settings.interp_per_directive = true;
    auto& v1 = add_dir(api_site, "/srv/api/v1", 10);
    set_handler(v1.settings, {"v1"}, conf::phase::fixup);

    cfg.sites.push_back(std::move(www));
    cfg.sites.push_back(std::move(api_site));
    return cfg;
}

conf::config make_root_site() {
    conf::config cfg;
    cfg.main_file = "/srv/server.toml";
    auto all = make_site("root.example.com", "/");
    all.index = {"index.html"};
    auto& srv = add_dir(all, "/srv", 10);
    srv.settings.interp_per_directory = true;
    set_handler(srv.settings, {"h | .py"});
    auto& loc = add_loc(all, "/handled", 20);
    set_handler(loc.settings, {"handled"});
    loc.settings.interp_per_directive = true;
    cfg.sites.push_back(std::move(all));
    return cfg;
}

// The host index conf::load builds (config.h), made the same way here: with it,
// find_site takes its indexed path, which must pick what the scan picks.
conf::config with_host_index(conf::config cfg) {
    auto key = [](std::string n) {
        if (n.size() >= 2 && n.front() == '[' && n.back() == ']') {
            n = n.substr(1, n.size() - 2);
        }
        if (!n.empty() && n.back() == '.') {
            n.pop_back();
        }
        return n;
    };
    for (std::size_t i = 0; i < cfg.sites.size(); ++i) {
        cfg.host_index.emplace(key(cfg.sites[i].server_name), i);
        bool wildcard = false;
        for (const auto& a : cfg.sites[i].aliases) {
            if (a.starts_with("*.")) {
                wildcard = true;
            } else {
                cfg.host_index.emplace(key(a), i);
            }
        }
        if (wildcard) {
            cfg.wildcard_sites.push_back(i);
        }
    }
    return cfg;
}

struct fixture {
    fake_fs fs = make_fs();
    conf::config configs[3] = {make_multi(), make_root_site(), conf::config{}};
    conf::config indexed = with_host_index(make_multi());
};

bool is_within(std::string_view path, std::string_view dir) {
    if (dir == "/") {
        return !path.empty() && path.front() == '/';
    }
    return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           (path.size() == dir.size() || path[dir.size()] == '/');
}

bool has_dot_segment(std::string_view p) {
    return p.find("/../") != std::string_view::npos || p.find("/./") != std::string_view::npos ||
           p.ends_with("/..") || p.ends_with("/.");
}

// ---- a strict JSON checker (RFC 8259 + UTF-8) --------------------------------

struct json_checker {
    std::string_view s;
    std::size_t i = 0;
    int depth = 0;

    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) {
            ++i;
        }
    }
    bool lit(std::string_view word) {
        if (s.substr(i, word.size()) != word) {
            return false;
        }
        i += word.size();
        return true;
    }
    bool utf8() {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (n == 0 || c > 0xF4 || c < 0xC2 || i + n > s.size()) {
            return false;
        }
        std::uint32_t cp = c & (0x3F >> (n - 1));
        for (std::size_t k = 1; k < n; ++k) {
            const auto t = static_cast<unsigned char>(s[i + k]);
            if ((t & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (t & 0x3F);
        }
        const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n;
        return true;
    }
    bool string() {
        if (!lit("\"")) {
            return false;
        }
        while (i < s.size()) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c == '"') {
                ++i;
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c == '\\') {
                ++i;
                if (i >= s.size()) {
                    return false;
                }
                const char e = s[i++];
                if (e == 'u') {
                    for (int k = 0; k < 4; ++k, ++i) {
                        if (i >= s.size() || std::string_view("0123456789abcdefABCDEF").find(s[i]) ==
                                                 std::string_view::npos) {
                            return false;
                        }
                    }
                } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                    return false;
                }
            } else if (c < 0x80) {
                ++i;
            } else if (!utf8()) {
                return false;
            }
        }
        return false;
    }
    bool number() {
        const std::size_t start = i;
        lit("-");
        while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                                s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        return i > start;
    }
    template <typename Item>
    bool sequence(char open, char close, Item item) {
        if (!lit(std::string_view(&open, 1)) || ++depth > 64) {
            return false;
        }
        ws();
        if (lit(std::string_view(&close, 1))) {
            --depth;
            return true;
        }
        for (;;) {
            if (!item()) {
                return false;
            }
            ws();
            if (lit(std::string_view(&close, 1))) {
                --depth;
                return true;
            }
            if (!lit(",")) {
                return false;
            }
            ws();
        }
    }
    bool value() {
        ws();
        if (i >= s.size()) {
            return false;
        }
        switch (s[i]) {
            case '{':
                return sequence('{', '}', [this] {
                    if (!string()) {
                        return false;
                    }
                    ws();
                    return lit(":") && value();
                });
            case '[':
                return sequence('[', ']', [this] { return value(); });
            case '"':
                return string();
            case 't':
                return lit("true");
            case 'f':
                return lit("false");
            case 'n':
                return lit("null");
            default:
                return number();
        }
    }
    bool document() {
        if (!value()) {
            return false;
        }
        ws();
        return i == s.size();
    }
};

void check(const conf::config& cfg, const hosts::fs_view& fs, const hosts::request_line& req) {
    const hosts::route r = hosts::resolve(cfg, req, fs);
    if (r.kind == hosts::route_kind::no_site) {
        if (!cfg.sites.empty()) {
            fail("no_site with sites configured", req);
        }
    } else if (r.site == nullptr) {
        fail("a route without a site", req);
    }
    if (r.kind == hosts::route_kind::static_file || r.kind == hosts::route_kind::handler) {
        const std::string& root = r.site->document_root;
        if (!is_within(r.filename, root) || has_dot_segment(r.filename) ||
            r.filename.find('\0') != std::string::npos) {
            fail("filename '" + r.filename + "' outside document_root '" + root + "'", req);
        }
        if (!r.uri.empty() && (r.uri.front() != '/' || has_dot_segment(r.uri))) {
            fail("uri '" + r.uri + "' not normalised", req);
        }
    }
    if (r.kind == hosts::route_kind::static_file) {
        const std::string real = fs.real_path(r.filename);
        const std::string real_root = fs.real_path(r.site->document_root);
        if (real.empty() || real_root.empty() || !is_within(real, real_root)) {
            fail("static file '" + r.filename + "' really is '" + real + "'", req);
        }
        if (fs.stat(r.filename) != hosts::file_kind::file) {
            fail("static_file '" + r.filename + "' is not a file", req);
        }
    }
    if (r.kind == hosts::route_kind::directory_redirect) {
        // It goes into a Location header as is: a path on this server, plain
        // printable ASCII (no CR/LF to split the header, no "//" to leave the host).
        const std::string& to = r.redirect_location;
        const bool printable = std::all_of(to.begin(), to.end(), [](char ch) {
            const auto c = static_cast<unsigned char>(ch);
            return c > 0x20 && c < 0x7F;
        });
        if (to.empty() || to.front() != '/' || to.starts_with("//") || !printable) {
            fail("redirect to '" + to + "'", req);
        }
    }
    for (const auto& pr : r.phases) {
        if (pr.set && pr.interpreter.empty()) {
            fail("a set phase without an interpreter", req);
        }
    }
    (void)hosts::explain(r, req);
    const std::string json = hosts::explain_json(r, req);
    json_checker checker{json};
    if (!checker.document()) {
        fail("explain_json is not valid JSON at byte " + std::to_string(checker.i) + ": " + json, req);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture fx;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nl1 = in.find('\n');
    const auto nl2 = nl1 == std::string_view::npos ? nl1 : in.find('\n', nl1 + 1);
    hosts::request_line req;
    req.host = in.substr(0, nl1);
    if (nl1 != std::string_view::npos) {
        req.method = in.substr(nl1 + 1, nl2 == std::string_view::npos ? nl2 : nl2 - nl1 - 1);
    }
    if (nl2 != std::string_view::npos) {
        req.target = in.substr(nl2 + 1);
    }

    // The target as the router sees it (query cut off) and as a whole.
    for (const std::string_view raw : {req.target, req.target.substr(0, req.target.find('?'))}) {
        std::string out;
        if (hosts::normalise_path(raw, out) &&
            (out.empty() || out.front() != '/' || has_dot_segment(out) ||
             out.find("//") != std::string::npos || out.find('\0') != std::string::npos)) {
            fail("normalise_path gave '" + out + "'", req);
        }
    }
    for (const auto& cfg : fx.configs) {
        check(cfg, fx.fs, req);
    }
    const conf::site* scanned = hosts::find_site(fx.configs[0], req.host);
    const conf::site* looked_up = hosts::find_site(fx.indexed, req.host);
    if (scanned - fx.configs[0].sites.data() != looked_up - fx.indexed.sites.data()) {
        fail("the host index picks '" + looked_up->server_name + "', the scan '" +
                 scanned->server_name + "'", req);
    }
    return 0;
}

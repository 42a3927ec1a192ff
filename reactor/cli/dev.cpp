// dev mode: config overrides, the start-up banner, short coloured access lines.
#include "reactor/cli/dev.h"

#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "hosts/naming.h"
#include "hosts/route.h"

namespace subhttpd::reactor::dev {
namespace {

using conf::phase;

void force_block(conf::block& b) {
    // An explicit `debug = false` / `autoreload = false` would win over the
    // global switch when merged; dev mode means on everywhere.
    b.debug.reset();
    b.autoreload.reset();
    b.autoreload_app.reset();
}

bool sets_handler(const conf::block& b) {
    if (b.wsgi) {
        return true;
    }
    for (const auto& h : b.handlers) {
        if (h) {
            return true;
        }
    }
    return false;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) {
            out += sep;
        }
        out += s;
    }
    return out;
}

// What the block sets: "handler hello", "wsgi app:application", "access_handler auth".
std::string handler_text(const conf::block& b) {
    std::string out;
    for (phase p : conf::all_phases) {
        const auto& h = b.handlers[static_cast<std::size_t>(p)];
        if (!h) {
            continue;
        }
        if (!out.empty()) {
            out += ", ";
        }
        out += std::string(conf::phase_key(p)) + " " + join(*h, " ");
    }
    if (b.wsgi) {
        out += (out.empty() ? "" : ", ") + std::string("wsgi ") + *b.wsgi;
    }
    return out;
}

bool loopback(const std::string& host) {
    return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}

bool resolves_locally(const std::string& name) {
    constexpr std::string_view tail = ".localhost";
    return name == "localhost" ||
           (name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0);
}

// The URLs a browser or curl can use to reach `s` on `listen`.
std::vector<std::string> site_urls(const conf::site& s, bool is_default, const std::vector<conf::listen_addr>& listen) {
    std::vector<std::string> out;
    for (const auto& a : listen) {
        if (a.type == conf::listen_addr::kind::unix_socket) {
            out.push_back("unix:" + a.path + " (curl --unix-socket " + a.path + " http://" + s.server_name + "/)");
            continue;
        }
        std::string host = a.host;
        if (host == "0.0.0.0" || host.empty()) {
            host = "127.0.0.1";
        } else if (host == "::") {
            host = "::1";
        }
        std::string port = ":" + std::to_string(a.port);
        if (loopback(host) && resolves_locally(s.server_name)) {
            out.push_back("http://" + s.server_name + port + "/");
            continue;
        }
        std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        std::string url = "http://" + shown + port + "/";
        if (!is_default) {
            url += "  (with Host: " + s.server_name + ")";
        }
        out.push_back(url);
    }
    return out;
}

std::string rule_text(const hosts::phase_route& pr) {
    std::string rule(hosts::rule_name(pr.rule));
    switch (pr.rule) {
        case hosts::interp_rule::per_directory:
            return "interpreter " + pr.interpreter + " (rule: " + rule +
                   ": one per directory of the requested file)";
        case hosts::interp_rule::per_directive:
            return "interpreter " + pr.interpreter + " (rule: " + rule + ": the block's path)";
        case hosts::interp_rule::per_directive_site:
            return "interpreter " + pr.interpreter + " (rule: " + rule + ": handler set at site level)";
        default:
            return "interpreter " + pr.interpreter + " (rule: " + rule + ")";
    }
}

// The rule as the block's own settings over the site's give it, for blocks no
// URL reaches (a directory outside the document root, a shadowed block).
std::string derived_rule(const conf::site& s, const conf::block& b, hosts::block_ref::kind kind,
                         const std::string& path) {
    auto pick = [&](const auto& member) { return (b.*member) ? (b.*member) : (s.settings.*member); };
    const auto name = pick(&conf::block::interpreter);
    const std::string dir = kind == hosts::block_ref::kind::directory ? path : s.document_root;
    hosts::naming_input in;
    in.interpreter = name ? std::string_view(*name) : std::string_view();
    in.per_directory = pick(&conf::block::interp_per_directory).value_or(false);
    in.per_directive = pick(&conf::block::interp_per_directive).value_or(false);
    in.file_dir = dir;
    in.from = kind;
    in.from_path = path;
    in.server_name = s.server_name;
    hosts::interp_choice c = hosts::name_interpreter(in);
    hosts::phase_route pr;
    pr.rule = c.rule;
    // No request names a file here: one interpreter per directory below `dir`.
    pr.interpreter = c.rule == hosts::interp_rule::per_directory ? dir + "/..." : std::move(c.name);
    return rule_text(pr);
}

// One handler block: its URL, what it sets and the interpreter a request there gets.
std::string block_lines(const conf::config& cfg, const conf::site& s, const conf::block& b,
                        hosts::block_ref::kind kind, const std::string& path) {
    std::string url;
    if (kind == hosts::block_ref::kind::site) {
        url = "/";
    } else if (kind == hosts::block_ref::kind::location) {
        url = path;
    } else if (path == s.document_root) {
        url = "/";
    } else if (path.rfind(s.document_root + "/", 0) == 0) {
        url = path.substr(s.document_root.size()) + "/";
    }
    hosts::block_ref ref{kind, kind == hosts::block_ref::kind::site ? "" : path, b.where};
    std::string what = kind == hosts::block_ref::kind::site ? "site " + s.server_name : hosts::describe(ref);
    if (kind == hosts::block_ref::kind::site) {
        what += " (" + conf::to_string(b.where) + ")";
    }
    std::string out = "    " + (url.empty() ? std::string("(no URL: outside the document root)") : url) + "  " +
                      what + "\n        " + handler_text(b) + "  ->  ";
    if (!url.empty()) {
        hosts::request_line line{s.server_name, "GET", url};
        hosts::route r = hosts::resolve(cfg, line);
        const hosts::phase_route* found = nullptr;
        for (phase p : {phase::content, phase::postreadrequest, phase::trans, phase::headerparser, phase::init,
                        phase::access, phase::authen, phase::authz, phase::type, phase::fixup, phase::log,
                        phase::cleanup}) {
            const hosts::phase_route& pr = r.at(p);
            if (pr.set && pr.from.type == kind && (kind == hosts::block_ref::kind::site || pr.from.path == path)) {
                found = &pr;
                break;
            }
        }
        if (r.site == &s && found != nullptr) {
            return out + rule_text(*found) + "\n";
        }
    }
    return out + derived_rule(s, b, kind, path) + "\n";
}

const char* status_colour(int status) {
    if (status >= 500) {
        return "\x1b[31m";
    }
    if (status >= 400) {
        return "\x1b[33m";
    }
    if (status >= 300) {
        return "\x1b[36m";
    }
    if (status >= 200) {
        return "\x1b[32m";
    }
    return "";
}

// Request targets are client bytes: no control characters reach the terminal.
void append_printable(std::string& out, std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else {
            out += ch;
        }
    }
}

}  // namespace

std::shared_ptr<const conf::config> with_dev_overrides(std::shared_ptr<const conf::config> cfg, bool forced) {
    if (!cfg || (!forced && !cfg->server.dev)) {
        return cfg;
    }
    auto c = std::make_shared<conf::config>(*cfg);
    c->server.dev = true;
    c->server.reload = conf::reload_mode::watch;
    c->python.debug = true;
    c->python.autoreload = true;
    c->python.autoreload_app = true;  // WSGI apps: a changed source file gives a fresh interpreter
    for (conf::site& s : c->sites) {
        force_block(s.settings);
        for (auto& d : s.directories) {
            force_block(d.settings);
        }
        for (auto& l : s.locations) {
            force_block(l.settings);
        }
    }
    return c;
}

std::string banner(const conf::config& cfg, const std::vector<conf::listen_addr>& listen) {
    std::string out = "subhttpd dev server: debug on, autoreload on (WSGI apps: whole app), reload on file change\n";
    out += "config: " + cfg.main_file + "\n";
    const conf::site* default_site = nullptr;
    for (const auto& s : cfg.sites) {
        if (s.is_default) {
            default_site = &s;
        }
    }
    if (default_site == nullptr && !cfg.sites.empty()) {
        default_site = &cfg.sites.front();
    }
    if (cfg.sites.empty()) {
        out += "no sites: every request gets 404\n";
    }
    for (const auto& s : cfg.sites) {
        bool is_default = &s == default_site;
        out += "\nsite " + s.server_name + (is_default ? "  [default]" : "");
        if (!s.aliases.empty()) {
            out += "  aliases: " + join(s.aliases, ", ");
        }
        out += "\n  file:  " + s.file + "\n";
        for (const auto& url : site_urls(s, is_default, listen)) {
            out += "  url:   " + url + "\n";
        }
        out += "  root:  " + s.document_root + "\n";
        std::string blocks;
        if (sets_handler(s.settings)) {
            blocks += block_lines(cfg, s, s.settings, hosts::block_ref::kind::site, "");
        }
        for (const auto& d : s.directories) {
            if (sets_handler(d.settings)) {
                blocks += block_lines(cfg, s, d.settings, hosts::block_ref::kind::directory, d.path);
            }
        }
        for (const auto& l : s.locations) {
            if (sets_handler(l.settings)) {
                blocks += block_lines(cfg, s, l.settings, hosts::block_ref::kind::location, l.path);
            }
        }
        if (blocks.empty()) {
            out += "  handlers: none (static files only)\n";
        } else {
            out += "  handlers:\n" + blocks;
        }
        if (!s.imports.empty()) {
            out += "  import at start: " + join(s.imports, ", ") + "\n";
        }
    }
    return out;
}

bool colour_wanted() {
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour != nullptr && *no_colour != '\0') {
        return false;
    }
    return log::access_is_tty();
}

std::string access_line(std::string_view method, std::string_view target, int status, double seconds,
                        std::string_view interp, bool colour) {
    std::string out;
    const char* col = colour ? status_colour(status) : "";
    out += col;
    append_printable(out, method);
    out += ' ';
    append_printable(out, target);
    char buf[48];
    double ms = seconds * 1000.0;
    if (ms >= 1000.0) {
        std::snprintf(buf, sizeof buf, " %d %.2fs", status, seconds);
    } else if (ms >= 10.0) {
        std::snprintf(buf, sizeof buf, " %d %.0fms", status, ms);
    } else {
        std::snprintf(buf, sizeof buf, " %d %.1fms", status, ms);
    }
    out += buf;
    if (!interp.empty()) {
        out += ' ';
        out += interp;
    }
    if (*col != '\0') {
        out += "\x1b[0m";
    }
    return out;
}

}  // namespace subhttpd::reactor::dev

// `subhttpd route`: a route as text for people and as JSON for scripts. Both
// print the same facts; the JSON keys are part of the CLI contract.
#include <cstdio>
#include <string>
#include <tuple>

#include "hosts/route.h"

namespace subhttpd::hosts {
namespace {

using conf::phase;

std::string_view block_kind_name(block_ref::kind k) {
    switch (k) {
        case block_ref::kind::site: return "site";
        case block_ref::kind::directory: return "directory";
        case block_ref::kind::location: return "location";
    }
    return "";
}

std::string where_text(const conf::source_loc& where) {
    if (where.file.empty()) {
        return "";
    }
    return conf::to_string(where);
}

// A site block is shown by its server name, which block_ref does not carry.
// URLs are client bytes: keep control characters off the terminal.
std::string printable(std::string_view s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::string handler_list(const phase_route& pr) {
    if (!pr.wsgi.empty()) {
        return pr.wsgi;
    }
    std::string out;
    for (const auto& h : pr.handlers) {
        if (!out.empty()) {
            out += ' ';
        }
        out += h.module + "::" + h.callable;
    }
    if (!pr.handlers.empty() && pr.handlers.front().silent) {
        out += " (handler_module: skipped when missing)";
    }
    return out;
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

// JSON strings must be valid UTF-8, but a decoded URL may hold any byte
// ("%ff"): malformed bytes become U+FFFD rather than breaking the document.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (c == '\n') {
            out += "\\n", ++i;
        } else if (c == '\r') {
            out += "\\r", ++i;
        } else if (c == '\t') {
            out += "\\t", ++i;
        } else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            ++i;
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (const std::size_t n = utf8_length(s, i); n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\\ufffd";
            ++i;
        }
    }
    out.push_back('"');
    return out;
}

std::string json_bool(bool b) { return b ? "true" : "false"; }

// The [[site.alias]] that mapped the route's file, or nullptr.
const conf::alias_block* alias_of(const route& r) {
    if (r.alias.empty() || r.site == nullptr) {
        return nullptr;
    }
    for (const auto& a : r.site->url_aliases) {
        if (a.url == r.alias) {
            return &a;
        }
    }
    return nullptr;
}

}  // namespace

std::string_view rule_name(interp_rule r) {
    switch (r) {
        case interp_rule::interpreter: return "interpreter";
        case interp_rule::per_directory: return "interp_per_directory";
        case interp_rule::per_directive: return "interp_per_directive";
        case interp_rule::per_directive_site: return "interp_per_directive_site";
        case interp_rule::server_name: return "server_name";
    }
    return "";
}

std::string_view kind_name(route_kind k) {
    switch (k) {
        case route_kind::handler: return "handler";
        case route_kind::static_file: return "static_file";
        case route_kind::directory_redirect: return "directory_redirect";
        case route_kind::not_found: return "not_found";
        case route_kind::forbidden: return "forbidden";
        case route_kind::bad_request: return "bad_request";
        case route_kind::no_site: return "no_site";
    }
    return "";
}

int http_status(route_kind k) {
    switch (k) {
        case route_kind::handler: return 200;
        case route_kind::static_file: return 200;
        case route_kind::directory_redirect: return 301;
        case route_kind::not_found: return 404;
        case route_kind::forbidden: return 403;
        case route_kind::bad_request: return 400;
        case route_kind::no_site: return 404;
    }
    return 500;
}

std::string describe(const block_ref& b) {
    std::string out(block_kind_name(b.type));
    if (!b.path.empty()) {
        out += ' ' + b.path;
    }
    if (const auto w = where_text(b.where); !w.empty()) {
        out += " (" + w + ")";
    }
    return out;
}

std::string explain(const route& r, const request_line& req) {
    std::string out;
    out += "request: " + printable(req.method.empty() ? "GET" : req.method) + ' ' + printable(req.target) +
           "  (Host: " + printable(req.host) + ")\n";
    if (r.site == nullptr) {
        out += "site: (none: the configuration has no sites)\n";
        out += "kind: " + std::string(kind_name(r.kind)) + " (" + std::to_string(http_status(r.kind)) + ")\n";
        return out;
    }
    out += "site: " + r.site->server_name;
    if (const auto w = where_text(r.site->where); !w.empty()) {
        out += " (" + w + ")";
    }
    out += '\n';
    out += "uri: " + printable(r.uri) + "   args: " + printable(r.args) + '\n';
    out += "filename: " + printable(r.filename) + '\n';
    out += "path_info: " + printable(r.path_info) + '\n';
    out += "kind: " + std::string(kind_name(r.kind)) + " (" + std::to_string(http_status(r.kind)) + ")\n";
    if (!r.redirect_location.empty()) {
        out += "redirect: " + r.redirect_location + '\n';
    }
    if (!r.mount.empty()) {
        out += "mount: " + r.mount + '\n';
    }
    if (const auto* a = alias_of(r)) {
        out += "alias: " + a->url + " -> " + a->path;
        if (const auto w = where_text(a->where); !w.empty()) {
            out += " (" + w + ")";
        }
        out += '\n';
    }
    out += "blocks: ";
    for (std::size_t i = 0; i < r.matched.size(); ++i) {
        if (i > 0) {
            out += "; ";
        }
        out += describe_in(r, r.matched[i]);
    }
    out += '\n';
    for (const phase p : conf::all_phases) {
        const phase_route& pr = r.at(p);
        if (!pr.set) {
            continue;
        }
        const std::string directive = pr.wsgi.empty() ? std::string(conf::phase_directive(p)) : "wsgi";
        out += std::string(conf::phase_key(p)) + " (" + directive + "): " + handler_list(pr) + "  [from " +
               describe_in(r, pr.from) + "]\n";
        out += "  module_dir: " + pr.module_dir + '\n';
        out += "  interpreter: " + pr.interpreter + "  (rule: " + std::string(rule_name(pr.rule)) + ")\n";
    }
    for (const auto& [key, directive, pr] : {std::tuple{"output_filter", "PythonOutputFilter", &r.output_filter},
                                             std::tuple{"input_filter", "PythonInputFilter", &r.input_filter}}) {
        if (!pr->set) {
            continue;
        }
        out += std::string(key) + " (" + directive + "): " + handler_list(*pr) + "  [from " +
               describe_in(r, pr->from) + "]\n";
        out += "  interpreter: " + pr->interpreter + "  (rule: " + std::string(rule_name(pr->rule)) + ")\n";
    }
    out += "options:";
    if (r.options.empty()) {
        out += " (none)";
    }
    for (const auto& [key, value] : r.options) {
        out += ' ' + key + '=' + value;
    }
    out += '\n';
    out += std::string("offload: ") + (r.offload ? "yes" : "no") + "   debug: " + (r.debug ? "yes" : "no") +
           "   autoreload: " + (r.autoreload_app ? "app" : r.autoreload ? "yes" : "no") +
           "   handler_timeout: " + std::to_string(r.handler_timeout.count()) + "ms\n";
    if (!r.auth_type.empty() || !r.auth_name.empty()) {
        out += "auth_type: " + r.auth_type + "   auth_name: " + r.auth_name + '\n';
    }
    out += "process_group: " + (r.process_group.empty() ? std::string("(none: served in the worker)") : r.process_group) + '\n';
    return out;
}

std::string explain_json(const route& r, const request_line& req) {
    std::string out = "{";
    auto field = [&out](std::string_view key, const std::string& json_value) {
        if (out.size() > 1) {
            out += ", ";
        }
        out += json_string(key) + ": " + json_value;
    };
    field("method", json_string(req.method.empty() ? "GET" : req.method));
    field("host", json_string(req.host));
    field("target", json_string(req.target));
    field("site", r.site ? json_string(r.site->server_name) : "null");
    field("uri", json_string(r.uri));
    field("args", json_string(r.args));
    field("filename", json_string(r.filename));
    field("path_info", json_string(r.path_info));
    field("kind", json_string(kind_name(r.kind)));
    field("status", std::to_string(http_status(r.kind)));

    std::string blocks = "[";
    for (const auto& b : r.matched) {
        if (blocks.size() > 1) {
            blocks += ", ";
        }
        blocks += "{\"type\": " + json_string(block_kind_name(b.type)) + ", \"path\": " + json_string(b.path) +
                  ", \"where\": " + json_string(where_text(b.where)) +
                  ", \"text\": " + json_string(describe_in(r, b)) + "}";
    }
    field("blocks", blocks + "]");

    std::string phases = "{";
    for (const phase p : conf::all_phases) {
        const phase_route& pr = r.at(p);
        if (!pr.set) {
            continue;
        }
        if (phases.size() > 1) {
            phases += ", ";
        }
        std::string list = "[";
        for (const auto& h : pr.handlers) {
            if (list.size() > 1) {
                list += ", ";
            }
            list += json_string(h.module + "::" + h.callable);
        }
        list += "]";
        phases += json_string(conf::phase_key(p)) + ": {\"handlers\": " + list + ", \"wsgi\": " +
                  json_string(pr.wsgi) + ", \"block\": " + json_string(describe_in(r, pr.from)) +
                  ", \"module_dir\": " + json_string(pr.module_dir) +
                  ", \"interpreter\": " + json_string(pr.interpreter) +
                  ", \"rule\": " + json_string(rule_name(pr.rule)) + "}";
    }
    field("phases", phases + "}");

    std::string options = "{";
    for (const auto& [key, value] : r.options) {
        if (options.size() > 1) {
            options += ", ";
        }
        options += json_string(key) + ": " + json_string(value);
    }
    field("options", options + "}");
    field("offload", json_bool(r.offload));
    field("debug", json_bool(r.debug));
    field("autoreload", json_bool(r.autoreload));
    field("autoreload_app", json_bool(r.autoreload_app));
    field("handler_timeout_ms", std::to_string(r.handler_timeout.count()));
    field("auth_type", json_string(r.auth_type));
    field("auth_name", json_string(r.auth_name));
    field("process_group", r.process_group.empty() ? std::string("null") : json_string(r.process_group));
    field("mount", json_string(r.mount));
    const auto* a = alias_of(r);
    field("alias", a ? "{\"url\": " + json_string(a->url) + ", \"path\": " + json_string(a->path) +
                           ", \"where\": " + json_string(where_text(a->where)) + "}"
                     : std::string("null"));
    field("redirect", json_string(r.redirect_location));
    out += "}";
    return out;
}

std::string describe_in(const route& r, const block_ref& b) {
    if (b.type != block_ref::kind::site || r.site == nullptr) {
        return describe(b);
    }
    std::string out = "site " + r.site->server_name;
    if (const auto w = where_text(b.where); !w.empty()) {
        out += " (" + w + ")";
    }
    return out;
}

}  // namespace subhttpd::hosts

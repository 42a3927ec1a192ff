// `subhttpd check`; see check.h.
#include "reactor/cli/check.h"

#include <iostream>

#include "common/escape.h"
#include "conf/config.h"
#include "hosts/extensions.h"
#include "reactor/groups.h"

namespace subhttpd::reactor {
namespace {

const char* plural(std::size_t n) { return n == 1 ? "" : "s"; }

int print_json(const conf::load_result& r) {
    std::string out = "{\"ok\": " + std::string(r.ok() ? "true" : "false") + ", \"errors\": [";
    for (std::size_t i = 0; i < r.errors.size(); ++i) {
        const auto& e = r.errors[i];
        out += (i ? ", " : "") + std::string("{\"file\": \"") + json_escape(e.where.file) +
               "\", \"line\": " + std::to_string(e.where.line) + ", \"column\": " +
               std::to_string(e.where.column) + ", \"message\": \"" + json_escape(e.message) + "\"}";
    }
    out += "]";
    if (r.ok()) {
        out += ", \"sites\": " + std::to_string(r.cfg->sites.size()) +
               ", \"files\": " + std::to_string(r.cfg->files.size());
    }
    out += "}";
    std::cout << out << "\n";
    return r.ok() ? 0 : 1;
}

}  // namespace

int check_config(const std::string& config_path, bool json) {
    conf::load_result r = conf::load(config_path);
    if (json) {
        return print_json(r);
    }
    if (!r.ok()) {
        for (const auto& e : r.errors) {
            std::cerr << conf::to_string(e) << "\n";
        }
        std::cerr << r.errors.size() << " error" << plural(r.errors.size()) << "\n";
        return 1;
    }
    for (const std::string& w : hosts::shared_extension_warnings(*r.cfg)) {
        std::cerr << w << "\n";
    }
    const conf::config& cfg = *r.cfg;
    std::cout << config_path << ": OK: " << cfg.sites.size() << " site" << plural(cfg.sites.size()) << " in "
              << cfg.files.size() << " file" << plural(cfg.files.size()) << ", " << cfg.server.listen.size()
              << " listener" << plural(cfg.server.listen.size()) << "\n";
    std::cout << groups::describe(cfg);
    return 0;
}

}  // namespace subhttpd::reactor

#include "hosts/extensions.h"

#include <map>
#include <utility>

#include "hosts/naming.h"

namespace subhttpd::hosts {
namespace {

// Debian 12's builds that load into only one interpreter per process (Cython
// and PyO3 modules, numpy), and those that fall back to pure Python silently.
constexpr const char* known[] = {"numpy", "pandas", "scipy", "lxml", "cryptography", "yaml", "msgpack",
                                 "pydantic_core", "orjson", "bcrypt"};

std::string top_package(const std::string& entry) {
    std::string module = entry.substr(0, entry.find("::"));
    return module.substr(0, module.find('.'));
}

}  // namespace

bool single_interpreter_package(const std::string& name) {
    for (const char* k : known) {
        if (name == k) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> shared_extension_warnings(const conf::config& cfg) {
    std::vector<std::string> out;
    // package -> (interpreter, site) that imports it first
    std::map<std::string, std::pair<std::string, const conf::site*>> first;
    for (const conf::site& s : cfg.sites) {
        std::string interp = import_interpreter(s);
        for (const std::string& entry : s.imports) {
            std::string pkg = top_package(entry);
            if (!single_interpreter_package(pkg)) {
                continue;
            }
            auto [it, fresh] = first.try_emplace(pkg, interp, &s);
            if (fresh || it->second.first == interp) {
                continue;
            }
            out.push_back(conf::to_string(s.where) + ": warning: site " + s.server_name + " imports " + pkg +
                          " into interpreter '" + interp + "', but site " + it->second.second->server_name +
                          " imports it into '" + it->second.first + "' (" + conf::to_string(it->second.second->where) +
                          "): " + pkg + " loads into one interpreter per process, so one of them fails. Serve both "
                          "from interpreter = \"" + std::string(main_interpreter_name) + "\" with [python] main_imports = [\"" + pkg +
                          "\"], or give them a process_group.");
        }
    }
    return out;
}

}  // namespace subhttpd::hosts

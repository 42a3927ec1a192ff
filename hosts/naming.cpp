// The interpreter-naming rules; see naming.h.
#include "hosts/naming.h"

namespace subhttpd::hosts {
namespace {

std::string with_slash(std::string_view path) {
    std::string out(path);
    if (out.empty() || out.back() != '/') {
        out.push_back('/');
    }
    return out;
}

}  // namespace

interp_choice name_interpreter(const naming_input& in) {
    if (!in.interpreter.empty()) {
        return {std::string(in.interpreter), interp_rule::interpreter};
    }
    if (in.per_directory) {
        // "/srv/x/sub" (a directory) and "/srv/x/sub/" name one interpreter.
        return {with_slash(in.file_dir), interp_rule::per_directory};
    }
    if (in.per_directive) {
        if (in.from == block_ref::kind::site) {
            return {main_interpreter_name, interp_rule::per_directive_site};
        }
        return {with_slash(in.from_path), interp_rule::per_directive};
    }
    return {std::string(in.server_name), interp_rule::server_name};
}

std::string import_interpreter(const conf::site& s) {
    if (s.settings.interpreter && !s.settings.interpreter->empty()) {
        return *s.settings.interpreter;
    }
    return s.server_name;
}

}  // namespace subhttpd::hosts

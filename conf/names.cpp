// Names that the schema, `req.phase` and the error messages share.
#include "conf/config.h"

namespace subhttpd::conf {

std::string to_string(const source_loc& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string to_string(const error& e) { return to_string(e.where) + ": " + e.message; }

namespace {

// A phase's names: its key in the TOML schema, the callable a handler module
// gives by default (mod_python's), and the Apache directive it stands for.
struct phase_names {
    std::string_view key, callable, directive;
};

phase_names names_of(phase p) {
    switch (p) {
        case phase::postreadrequest:
            return {"postreadrequest_handler", "postreadrequesthandler", "PythonPostReadRequestHandler"};
        case phase::trans: return {"trans_handler", "transhandler", "PythonTransHandler"};
        case phase::headerparser:
            return {"headerparser_handler", "headerparserhandler", "PythonHeaderParserHandler"};
        case phase::init: return {"init_handler", "inithandler", "PythonInitHandler"};
        case phase::access: return {"access_handler", "accesshandler", "PythonAccessHandler"};
        case phase::authen: return {"authen_handler", "authenhandler", "PythonAuthenHandler"};
        case phase::authz: return {"authz_handler", "authzhandler", "PythonAuthzHandler"};
        case phase::type: return {"type_handler", "typehandler", "PythonTypeHandler"};
        case phase::fixup: return {"fixup_handler", "fixuphandler", "PythonFixupHandler"};
        case phase::content: return {"handler", "handler", "PythonHandler"};
        case phase::log: return {"log_handler", "loghandler", "PythonLogHandler"};
        case phase::cleanup: return {"cleanup_handler", "cleanuphandler", "PythonCleanupHandler"};
    }
    return {};
}

}  // namespace

std::string_view phase_key(phase p) { return names_of(p).key; }

std::string_view phase_default_callable(phase p) { return names_of(p).callable; }

std::string_view phase_directive(phase p) { return names_of(p).directive; }

bool site_level_only(phase p) { return p == phase::postreadrequest || p == phase::trans; }

}  // namespace subhttpd::conf

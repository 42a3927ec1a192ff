// Names that the schema, `req.phase` and the error messages share.
#include "conf/config.h"

namespace subhttpd::conf {

std::string to_string(const source_loc& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string to_string(const error& e) { return to_string(e.where) + ": " + e.message; }

std::string_view phase_key(phase p) {
    switch (p) {
        case phase::postreadrequest: return "postreadrequest_handler";
        case phase::trans: return "trans_handler";
        case phase::headerparser: return "headerparser_handler";
        case phase::init: return "init_handler";
        case phase::access: return "access_handler";
        case phase::authen: return "authen_handler";
        case phase::authz: return "authz_handler";
        case phase::type: return "type_handler";
        case phase::fixup: return "fixup_handler";
        case phase::content: return "handler";
        case phase::log: return "log_handler";
        case phase::cleanup: return "cleanup_handler";
    }
    return "";
}

std::string_view phase_default_callable(phase p) {
    switch (p) {
        case phase::postreadrequest: return "postreadrequesthandler";
        case phase::trans: return "transhandler";
        case phase::headerparser: return "headerparserhandler";
        case phase::init: return "inithandler";
        case phase::access: return "accesshandler";
        case phase::authen: return "authenhandler";
        case phase::authz: return "authzhandler";
        case phase::type: return "typehandler";
        case phase::fixup: return "fixuphandler";
        case phase::content: return "handler";
        case phase::log: return "loghandler";
        case phase::cleanup: return "cleanuphandler";
    }
    return "";
}

std::string_view phase_directive(phase p) {
    switch (p) {
        case phase::postreadrequest: return "PythonPostReadRequestHandler";
        case phase::trans: return "PythonTransHandler";
        case phase::headerparser: return "PythonHeaderParserHandler";
        case phase::init: return "PythonInitHandler";
        case phase::access: return "PythonAccessHandler";
        case phase::authen: return "PythonAuthenHandler";
        case phase::authz: return "PythonAuthzHandler";
        case phase::type: return "PythonTypeHandler";
        case phase::fixup: return "PythonFixupHandler";
        case phase::content: return "PythonHandler";
        case phase::log: return "PythonLogHandler";
        case phase::cleanup: return "PythonCleanupHandler";
    }
    return "";
}

bool site_level_only(phase p) { return p == phase::postreadrequest || p == phase::trans; }

}  // namespace subhttpd::conf

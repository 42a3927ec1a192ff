#pragma once
// dispatcher: runs one request's phases (access, authen, authz, fixup, content,
// log, cleanup) with mod_python's return-code semantics, each phase in the
// interpreter its route names, and answers through the exchange. Handler
// callables are cached per interpreter and re-checked for autoreload at most once
// a second. Loop thread only; enters and leaves the GIL itself.
#include <cstdint>
#include <functional>
#include <string>

#include "conf/config.h"
#include "hosts/route.h"
#include "interp/exchange.h"
#include "interp/registry.h"

namespace subhttpd::interp {

struct outcome {
    int status = 0;
    std::string interpreter;  // the content phase's interpreter ("" when none ran)
};

// What the reactor does when no Python content handler answers: static file,
// directory redirect, 403/404. Returns the status sent.
using default_handler = std::function<int(exchange&, const hosts::route&, const std::string& filename,
                                          const std::string& path_info)>;

class dispatcher {
public:
    dispatcher(registry& reg, default_handler fallback) : reg_(reg), fallback_(std::move(fallback)) {}

    outcome run(const conf::config& cfg, std::uint64_t generation, const hosts::route& r, exchange& ex);

    // PythonImport: runs `module` or `module::callable` in the interpreter `name`.
    // Returns "" or the error text.
    std::string run_import(const std::string& interp_name, const conf::site& site, const std::string& entry,
                           std::uint64_t generation, const conf::config& cfg);

private:
    registry& reg_;
    default_handler fallback_;
};

}  // namespace subhttpd::interp

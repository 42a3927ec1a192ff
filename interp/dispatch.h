#pragma once
// dispatcher: runs one request's phases (access, authen, authz, fixup, content,
// log, cleanup) with mod_python's return-code semantics, each phase in the
// interpreter its route names, and answers through the exchange. A request runs
// inline on the loop, or on the worker pool when its route says offload; an
// async content handler suspends while it awaits subhttpd.offload() and resumes
// on the loop. Handler callables are cached per interpreter; with autoreload
// their module files are stat()ed on each use, so an edit counts from the next request. start(): loop thread, GIL not held.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "conf/config.h"
#include "hosts/route.h"
#include "interp/exchange.h"
#include "interp/executor.h"
#include "interp/registry.h"

namespace subhttpd::interp {

struct outcome {
    int status = 0;
    std::string interpreter;  // the content phase's interpreter ("" when none ran)
    bool offloaded = false;
    std::string user;  // req.user after the request, for the access log
};

// What the reactor does when no Python content handler answers: static file,
// directory redirect, 403/404. Returns the status sent.
using default_handler = std::function<int(exchange&, const hosts::route&, const std::string& filename,
                                          const std::string& path_info)>;
using finished_handler = std::function<void(const outcome&)>;

class watchdog;

class dispatcher {
public:
    dispatcher(registry& reg, default_handler fallback, executor& exec);
    ~dispatcher();

    // Runs the request; `done` runs on the loop thread once it is answered and its
    // log/cleanup phases have run (possibly before start() returns).
    void start(std::shared_ptr<const conf::config> cfg, std::uint64_t generation,
               std::shared_ptr<const hosts::route> r, std::unique_ptr<exchange> ex, finished_handler done);

    // PythonImport: runs `module` or `module::callable` in the interpreter `name`.
    // Returns "" or the error text. Loop thread.
    std::string run_import(const std::string& interp_name, const conf::site& site, const std::string& entry);

    std::size_t in_flight() const { return in_flight_; }

    struct shared;  // what every request job of this dispatcher uses

private:
    std::unique_ptr<shared> shared_;
    std::size_t in_flight_ = 0;
};

}  // namespace subhttpd::interp

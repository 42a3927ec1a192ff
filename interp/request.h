#pragma once
// request_ctx: the C++ side of one request while its phases run. The Python
// `req` object (one per interpreter the request passes through) points at it and
// reads/writes its scalars directly; mod_python's tables live in Python while an
// interpreter holds them and are exported here when the request moves on.
// Owned by the dispatcher for the duration of one request; loop thread only.
#include <Python.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "hosts/route.h"
#include "interp/exchange.h"
#include "interp/py_ref.h"

namespace subhttpd::interp {

class interpreter;

struct cleanup_entry {
    interpreter* in = nullptr;
    py::ref fn;
    py::ref data;  // may be null: called without an argument
};

// req.add_handler(): a handler added for a later phase (or later in this one).
struct added_handler {
    conf::phase phase = conf::phase::content;
    hosts::handler_entry entry;
    std::string dir;          // where its module is looked up first
    std::string interpreter;  // used when the route sets no handler for that phase
};

struct request_ctx {
    exchange* ex = nullptr;
    const conf::config* cfg = nullptr;
    const hosts::route* route = nullptr;
    class registry* reg = nullptr;  // set on the loop thread only: error hints may visit other interpreters
    std::uint64_t generation = 0;

    // mutable request state (mod_python lets handlers change these)
    std::string uri;
    std::string filename;
    std::string path_info;
    std::string args;
    std::string content_type;
    std::string user;
    std::string ap_auth_type;
    std::string status_line;
    std::string handler_name;  // req.handler
    int status = 200;
    conf::phase phase = conf::phase::content;
    bool debug = false;
    std::int64_t mtime = 0;            // req.mtime (update_mtime)
    std::int64_t content_length = -1;  // set_content_length
    bool no_cache = false;
    std::string allowed_methods;       // allow_methods
    std::string internal_redirect;     // set by req.internal_redirect
    std::string main_name;             // the interpreter of the current phase

    // tables, authoritative when no Python object holds them
    header_list headers_out;
    header_list err_headers_out;
    header_list notes;
    header_list subprocess_env;
    bool tables_exported = true;

    std::vector<cleanup_entry> cleanups;
    std::vector<added_handler> added;

    // Has the route, or req.add_handler, set a handler for `p`?
    bool phase_active(conf::phase p) const {
        if (route->at(p).set) {
            return true;
        }
        for (const auto& a : added) {
            if (a.phase == p) {
                return true;
            }
        }
        return false;
    }

    // Set when the request runs off the loop: req.write(flush=1) / req.flush()
    // start a streamed response here (headers fixed at that moment).
    std::function<void()> on_flush;

    // the current Python req object and its interpreter
    py::ref py_req;
    interpreter* py_req_interp = nullptr;
};

}  // namespace subhttpd::interp

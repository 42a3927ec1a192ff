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

// req.register_output_filter / register_input_filter: a name for a filter handler.
struct registered_filter {
    std::string name;
    hosts::handler_entry entry;
    std::string dir;          // where its module is looked up first
    std::string interpreter;  // the interpreter of the phase that registered it
    bool is_input = false;
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
    std::string main_name;             // the interpreter of the current phase
    // req.hlist: the handler running now ("module" or "module::callable") and
    // the block it came from (a handler req.add_handler added: a directory, its dir)
    std::string running;
    hosts::block_ref running_from;

    // tables, authoritative when no Python object holds them
    header_list headers_out;
    header_list err_headers_out;
    header_list notes;
    header_list subprocess_env;
    bool tables_exported = true;
    // headers_in as a handler left it, once a req object that read it moved on:
    // the next interpreter's req starts from it instead of the request's own
    header_list headers_in;
    bool headers_in_carried = false;

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
    // req.internal_redirect(uri): runs the new request now; false with a Python error set.
    std::function<bool(const std::string&)> on_internal_redirect;
    // req.add_output_filter / add_input_filter: puts a registered filter in the chain.
    std::vector<registered_filter> registered_filters;
    std::function<void(const registered_filter&)> on_add_filter;

    // the current Python req object and its interpreter
    py::ref py_req;
    interpreter* py_req_interp = nullptr;
};

}  // namespace subhttpd::interp

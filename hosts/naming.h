#pragma once
// Interpreter naming (DESIGN.md "Interpreter naming"): the only home of the four
// rules and of the name "main_interpreter". Routing names the interpreter of
// every phase with it; the dev banner, `subhttpd route` and PythonImport ask it
// rather than re-deriving an answer. Pure; any thread.
#include <string>
#include <string_view>

#include "conf/config.h"
#include "hosts/route.h"

namespace subhttpd::hosts {

// The process's first interpreter (CPython's main one).
inline constexpr const char* main_interpreter_name = "main_interpreter";

struct naming_input {
    std::string_view interpreter;      // `interpreter = NAME` as merged; "" when not set
    bool per_directory = false;        // interp_per_directory as merged
    bool per_directive = false;        // interp_per_directive as merged
    std::string_view file_dir;         // directory of req.filename (rule 2)
    block_ref::kind from = block_ref::kind::site;  // the block that set the handler (rule 3)
    std::string_view from_path;        // its path (directory or location URL)
    std::string_view server_name;      // the site's (rule 4)
};

struct interp_choice {
    std::string name;
    interp_rule rule = interp_rule::server_name;
};

// The four rules in order: `interpreter`, per directory, per directive
// (site level -> main_interpreter), the site's server_name.
interp_choice name_interpreter(const naming_input& in);

// The interpreter a site's PythonImport entries run in. They run at start, before
// any request names a file or a block, so only rules 1 and 4 apply: the site's
// `interpreter`, else its server_name.
std::string import_interpreter(const conf::site& s);

}  // namespace subhttpd::hosts

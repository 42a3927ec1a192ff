#pragma once
// conf: the `wsgi` setting parsed without Python, so `subhttpd check` can reject
// what cannot work before a request finds out. Forms (as gunicorn and mod_wsgi):
//   "pkg.mod"                    module, its `application`
//   "pkg.mod:app" / ":obj.attr"  module and a dotted attribute
//   "pkg.mod:factory()"          the attribute called once per interpreter
//   "pkg.mod:factory(1, k='x')"  ... with literal arguments (ast.literal_eval's grammar)
//   "app.wsgi", "sub/app.py[:name]"  a script file (relative to the block's folder)
// The runtime (interp/python/subhttpd_runtime/wsgi.py) applies the same split. Pure; any thread.
#include <string>
#include <string_view>

namespace subhttpd::conf {

struct wsgi_spec {
    bool is_file = false;   // surely a path (has '/' or is no dotted name); "x.wsgi" may be either
    std::string target;     // module dotted name, or the path as written
    std::string attr;       // dotted attribute; "application" when not written
    bool call = false;      // factory form: attr(...) is called
    std::string args;       // the text between the parentheses
};

// "" on success, else what is wrong (for "file:line:col: wsgi ...: <message>").
std::string parse_wsgi_spec(std::string_view text, wsgi_spec& out);

// Checks that `text` is a comma-separated list of Python literal arguments,
// positional first, then `name=literal`. "" or what is wrong.
std::string check_literal_args(std::string_view text);

}  // namespace subhttpd::conf

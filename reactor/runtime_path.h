#pragma once
// Where the Python runtime (the subhttpd_runtime and mod_python packages) is found.
// Order: --runtime DIR, then $SUBHTTPD_RUNTIME (an explicit choice that is not a
// runtime is an error, never silently passed over), then ../share/subhttpd/python
// beside the binary (installed tree, and the build tree, which mirrors it), then
// the install prefix compiled in. find_runtime() is pure: the filesystem test is
// a parameter. Called once by main() before the server starts; any thread.
#include <functional>
#include <string>
#include <vector>

namespace subhttpd::reactor {

struct runtime_search {
    std::string flag;            // --runtime, "" when not given
    std::string env;             // $SUBHTTPD_RUNTIME, "" when unset
    std::string exe;             // this binary's absolute path (/proc/self/exe)
    std::string install_dir;     // <prefix>/share/subhttpd/python, compiled in
};

struct runtime_result {
    std::string dir;                 // the runtime folder, or "" when none fits
    std::vector<std::string> tried;  // every place looked at, in order, with why it did not fit
    std::string error;               // "" or a message naming every place in `tried`
};

// `is_runtime(dir)` says whether `dir` holds a runtime.
runtime_result find_runtime(const runtime_search& s, const std::function<bool(const std::string&)>& is_runtime);

// The real filesystem test: dir/subhttpd_runtime/__init__.py and dir/mod_python/apache.py exist.
bool is_runtime_dir(const std::string& dir);

// runtime_search for this process: /proc/self/exe, $SUBHTTPD_RUNTIME, the prefix.
runtime_search process_runtime_search(const std::string& flag);

}  // namespace subhttpd::reactor

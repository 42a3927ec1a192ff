#include "reactor/runtime_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#ifndef SUBHTTPD_INSTALL_RUNTIME
#define SUBHTTPD_INSTALL_RUNTIME "/usr/local/share/subhttpd/python"
#endif

namespace subhttpd::reactor {
namespace {

// "a/b/c" -> "a/b"; "/x" -> "/"; "x" -> ".".
std::string parent_of(const std::string& p) {
    auto slash = p.find_last_of('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : p.substr(0, slash);
}

std::string trimmed(std::string p) {
    while (p.size() > 1 && p.back() == '/') {
        p.pop_back();
    }
    return p;
}

}  // namespace

runtime_result find_runtime(const runtime_search& s, const std::function<bool(const std::string&)>& is_runtime) {
    runtime_result r;
    // An explicit choice either fits or is the error: a typo must not fall back
    // to another runtime silently.
    for (const auto& [given, what] : {std::pair{s.flag, "--runtime"}, std::pair{s.env, "SUBHTTPD_RUNTIME"}}) {
        if (given.empty()) {
            continue;
        }
        std::string dir = trimmed(given);
        if (is_runtime(dir)) {
            r.dir = dir;
            return r;
        }
        r.tried.push_back(dir + " (" + what + ")");
        r.error = std::string(what) + " " + dir +
                  ": not a subhttpd Python runtime (expected subhttpd_runtime/ and mod_python/ in it)";
        return r;
    }
    std::vector<std::pair<std::string, std::string>> places;
    if (!s.exe.empty()) {
        // <prefix>/bin/subhttpd -> <prefix>/share/subhttpd/python; the build tree
        // has the same shape (build/reactor/subhttpd -> build/share/...).
        std::string prefix = parent_of(parent_of(s.exe));
        places.emplace_back((prefix == "/" ? "" : prefix) + "/share/subhttpd/python", "beside the binary");
    }
    if (!s.install_dir.empty()) {
        places.emplace_back(trimmed(s.install_dir), "install prefix");
    }
    for (const auto& [dir, why] : places) {
        if (is_runtime(dir)) {
            r.dir = dir;
            r.tried.clear();
            return r;
        }
        r.tried.push_back(dir + " (" + why + ")");
    }
    r.error = "cannot find the subhttpd Python runtime (subhttpd_runtime/, mod_python/); looked in:";
    for (const auto& t : r.tried) {
        r.error += "\n  " + t;
    }
    r.error += "\nset SUBHTTPD_RUNTIME or pass --runtime DIR";
    return r;
}

bool is_runtime_dir(const std::string& dir) {
    struct stat sb{};
    return stat((dir + "/subhttpd_runtime/__init__.py").c_str(), &sb) == 0 && S_ISREG(sb.st_mode) &&
           stat((dir + "/mod_python/apache.py").c_str(), &sb) == 0 && S_ISREG(sb.st_mode);
}

runtime_search process_runtime_search(const std::string& flag) {
    runtime_search s;
    s.flag = flag;
    if (const char* e = std::getenv("SUBHTTPD_RUNTIME"); e != nullptr) {
        s.env = e;
    }
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        s.exe.assign(buf, static_cast<std::size_t>(n));
    }
    s.install_dir = SUBHTTPD_INSTALL_RUNTIME;
    return s;
}

}  // namespace subhttpd::reactor

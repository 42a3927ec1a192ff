// The handler cache's freshness check; see handler_cache.h.
#include "interp/handler_cache.h"

#include <sys/stat.h>

#include "common/clock.h"

namespace subhttpd::interp {
namespace {

// Autoreload without a window: one stat per module file per use.
bool files_unchanged(const std::vector<std::pair<std::string, std::int64_t>>& files) {
    for (const auto& [path, ns] : files) {
        struct stat sb {};
        if (::stat(path.c_str(), &sb) != 0 ||
            static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec != ns) {
            return false;
        }
    }
    return true;
}

}  // namespace

py::ref handler_cache::find_fresh(const std::string& key) const {
    auto it = map_.find(key);
    if (it == map_.end()) {
        return {};
    }
    const cached_callable& c = it->second;
    if (c.next_check < 1e300 && mono_now() >= c.next_check) {
        return {};
    }
    if (!files_unchanged(c.files)) {
        return {};
    }
    return c.callable;
}

}  // namespace subhttpd::interp

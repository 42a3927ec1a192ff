// The process's filesystem behind fs_view: stat(2) follows symlinks (a link to
// a file is served as that file), realpath(3) tells where it really is.
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "hosts/route.h"

namespace subhttpd::hosts {
namespace {

class posix_fs final : public fs_view {
public:
    file_kind stat(const std::string& path) const override {
        struct ::stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            // EACCES and friends also end here: what we cannot see does not exist.
            return file_kind::missing;
        }
        if (S_ISREG(st.st_mode)) {
            return file_kind::file;
        }
        if (S_ISDIR(st.st_mode)) {
            return file_kind::directory;
        }
        return file_kind::other;
    }

    // One lstat(2) in the common case; a second stat(2) only for a symlink.
    file_kind stat_link(const std::string& path, bool& is_link) const override {
        struct ::stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            is_link = false;
            return file_kind::missing;
        }
        is_link = S_ISLNK(st.st_mode);
        if (is_link) {
            return stat(path);
        }
        if (S_ISREG(st.st_mode)) {
            return file_kind::file;
        }
        if (S_ISDIR(st.st_mode)) {
            return file_kind::directory;
        }
        return file_kind::other;
    }

    std::string real_path(const std::string& path) const override {
        std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
        if (!resolved) {
            return "";
        }
        return resolved.get();
    }
};

}  // namespace

const fs_view& real_fs() {
    static const posix_fs fs;
    return fs;
}

}  // namespace subhttpd::hosts

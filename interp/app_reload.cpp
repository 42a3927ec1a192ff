// inotify bookkeeping for autoreload = "app": one descriptor per process, a
// watch per folder under the apps' roots, changes collected per interpreter name.
#include "interp/app_reload.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/log.h"

namespace subhttpd::interp {
namespace {

// A large document_root (or "/") must not cost the process every watch it has.
constexpr std::size_t max_watched_dirs = 4096;

constexpr std::uint32_t watch_mask =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ONLYDIR;

// Folders that never hold an app's sources, or hold only what it writes itself.
bool skipped_folder(const std::string& name) {
    return name.empty() || name[0] == '.' || name == "__pycache__" || name == "node_modules";
}

bool within(const std::string& path, const std::string& dir) {
    if (dir == "/") {
        return true;
    }
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

}  // namespace

app_reload::~app_reload() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool app_reload::watch_dir_locked(const std::string& dir) {
    if (watched_.count(dir) != 0) {
        return true;
    }
    if (watched_.size() >= max_watched_dirs) {
        return false;
    }
    int wd = inotify_add_watch(fd_, dir.c_str(), watch_mask);
    if (wd < 0) {
        return errno != ENOSPC;
    }
    dirs_[wd] = dir;
    watched_.insert(dir);
    return true;
}

void app_reload::watch_tree_locked(const std::string& root) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) {
        return;
    }
    if (!watch_dir_locked(root)) {
        return;
    }
    std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::skip_permission_denied,
                                                     ec);
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_directory(ec) || it->is_symlink(ec)) {
            continue;
        }
        if (skipped_folder(it->path().filename().string())) {
            it.disable_recursion_pending();
            continue;
        }
        if (!watch_dir_locked(it->path().string())) {
            log::write(log::level::warn, "reload", "",
                       "app reload watches at most " + std::to_string(max_watched_dirs) + " folders; " +
                           it->path().string() + " and what follows are not watched");
            return;
        }
    }
}

void app_reload::note(const std::string& name, const std::vector<std::string>& roots) {
    std::lock_guard<std::mutex> g(mu_);
    if (failed_) {
        return;
    }
    if (fd_ < 0) {
        fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ < 0) {
            failed_ = true;
            log::write(log::level::warn, "reload", name,
                       std::string("inotify unavailable, autoreload = \"app\" is off: ") + std::strerror(errno));
            return;
        }
    }
    auto& mine = roots_[name];
    for (const auto& r : roots) {
        if (r.empty() || std::find(mine.begin(), mine.end(), r) != mine.end()) {
            continue;
        }
        mine.push_back(r);
        if (roots_done_.insert(r).second) {
            watch_tree_locked(r);
        }
    }
}

bool app_reload::tracked(const std::string& name) const {
    std::lock_guard<std::mutex> g(mu_);
    return roots_.count(name) != 0;
}

void app_reload::drain_locked() {
    if (fd_ < 0) {
        return;
    }
    alignas(inotify_event) char buf[16384];
    while (true) {
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
            return;  // EAGAIN: nothing more queued
        }
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + ev->len;
            if ((ev->mask & IN_Q_OVERFLOW) != 0) {
                for (auto& [name, roots] : roots_) {
                    pending_[name].push_back("*");
                }
                continue;
            }
            if ((ev->mask & IN_IGNORED) != 0) {
                auto it = dirs_.find(ev->wd);
                if (it != dirs_.end()) {
                    watched_.erase(it->second);
                    dirs_.erase(it);
                }
                continue;
            }
            auto it = dirs_.find(ev->wd);
            if (it == dirs_.end() || ev->len == 0) {
                continue;
            }
            const std::string file_name(ev->name);
            const std::string path = it->second + "/" + file_name;
            if ((ev->mask & IN_ISDIR) != 0) {
                // A new folder (a new package): watch it, its files come as events later.
                if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0 && !skipped_folder(file_name)) {
                    watch_tree_locked(path);
                }
                continue;
            }
            if ((ev->mask & IN_CREATE) != 0) {
                continue;  // its IN_CLOSE_WRITE follows once the file is written
            }
            for (auto& [name, roots] : roots_) {
                for (const auto& r : roots) {
                    if (within(path, r)) {
                        auto& list = pending_[name];
                        if (std::find(list.begin(), list.end(), path) == list.end()) {
                            list.push_back(path);
                        }
                        break;
                    }
                }
            }
        }
    }
}

std::vector<std::string> app_reload::take_changes(const std::string& name) {
    std::lock_guard<std::mutex> g(mu_);
    drain_locked();
    auto it = pending_.find(name);
    if (it == pending_.end()) {
        return {};
    }
    std::vector<std::string> out = std::move(it->second);
    pending_.erase(it);
    return out;
}

void app_reload::clear(const std::string& name) {
    std::lock_guard<std::mutex> g(mu_);
    pending_.erase(name);
}

std::size_t app_reload::watched_dirs() const {
    std::lock_guard<std::mutex> g(mu_);
    return watched_.size();
}

void drop_bytecode(const std::string& py_file) {
    namespace fs = std::filesystem;
    const fs::path src(py_file);
    if (src.extension() != ".py") {
        return;
    }
    const std::string prefix = src.stem().string() + ".";
    std::error_code ec;
    for (fs::directory_iterator it(src.parent_path() / "__pycache__", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (n.starts_with(prefix) && n.ends_with(".pyc")) {
            fs::remove(it->path(), ec);
        }
    }
}

}  // namespace subhttpd::interp

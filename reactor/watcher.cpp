#include "reactor/watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <algorithm>

#include "common/clock.h"
#include "common/log.h"

namespace subhttpd::reactor {
namespace {

void on_inotify(evutil_socket_t, short, void* arg) noexcept {
    try {
        static_cast<config_watcher*>(arg)->on_readable();
    } catch (...) {
        log::write(log::level::error, "watch", "", "inotify handling failed");
    }
}

void on_debounce(evutil_socket_t, short, void* arg) noexcept {
    try {
        static_cast<config_watcher*>(arg)->on_timer();
    } catch (...) {
        log::write(log::level::error, "watch", "", "reload after a change failed");
    }
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

config_watcher::config_watcher(event_base* base, int debounce_ms, std::function<void()> on_change)
    : base_(base), debounce_ms_(debounce_ms), on_change_(std::move(on_change)) {}

config_watcher::~config_watcher() {
    if (read_ev_ != nullptr) {
        event_free(read_ev_);
    }
    if (timer_ev_ != nullptr) {
        event_free(timer_ev_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::string config_watcher::watch(const std::vector<std::string>& files, const std::vector<std::string>& dirs) {
    if (fd_ < 0) {
        fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ < 0) {
            return std::string("inotify: ") + std::strerror(errno);
        }
        read_ev_ = event_new(base_, fd_, EV_READ | EV_PERSIST, on_inotify, this);
        event_add(read_ev_, nullptr);
        timer_ev_ = evtimer_new(base_, on_debounce, this);
    }
    std::set<std::string> want;
    files_.clear();
    for (const auto& f : files) {
        files_.insert(f);
        want.insert(dir_of(f));
    }
    dirs_.clear();
    for (const auto& d : dirs) {
        dirs_.insert(d);
        want.insert(d);
    }
    const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY |
                          IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    for (auto it = watches_.begin(); it != watches_.end();) {
        if (want.count(it->first) == 0) {
            inotify_rm_watch(fd_, it->second);
            by_wd_.erase(it->second);
            it = watches_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& d : want) {
        int wd = inotify_add_watch(fd_, d.c_str(), mask);
        if (wd < 0) {
            // A folder that does not exist yet: its parent's change brings a reload
            // that tries again.
            log::write(log::level::debug, "watch", "", "cannot watch " + d + ": " + std::strerror(errno));
            continue;
        }
        if (watches_.count(d) == 0) {
            log::write(log::level::debug, "watch", "", "watching " + d);
        }
        watches_[d] = wd;
        by_wd_[wd] = d;
    }
    return "";
}

void config_watcher::on_readable() {
    alignas(inotify_event) char buf[8192];
    bool relevant = false;
    for (;;) {
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + ev->len;
            auto it = by_wd_.find(ev->wd);
            if (it == by_wd_.end()) {
                continue;
            }
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                relevant = true;
                continue;
            }
            std::string name = ev->len > 0 ? std::string(ev->name) : "";
            std::string full = it->second == "/" ? "/" + name : it->second + "/" + name;
            bool toml = name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0;
            if (files_.count(full) != 0 || (dirs_.count(it->second) != 0 && (toml || (ev->mask & IN_ISDIR)))) {
                relevant = true;
            }
        }
    }
    if (relevant) {
        // Re-arming pushes the deadline (a debounce), but never past five debounce
        // periods after the first change: a file saved 20 times a second still
        // applies several times a second.
        double t = mono_now();
        if (first_change_ == 0) {
            first_change_ = t;
        }
        double wait_ms = std::min<double>(debounce_ms_, (first_change_ + 5.0 * debounce_ms_ / 1000.0 - t) * 1000.0);
        if (wait_ms < 0) {
            wait_ms = 0;
        }
        auto ms = static_cast<long>(wait_ms);
        timeval tv{ms / 1000, (ms % 1000) * 1000};
        evtimer_add(timer_ev_, &tv);
    }
}

void config_watcher::on_timer() {
    first_change_ = 0;
    on_change_();
}

}  // namespace subhttpd::reactor

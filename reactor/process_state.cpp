#include "reactor/process_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "common/log.h"
#include "interp/module.h"

namespace subhttpd::reactor {
namespace {

std::string current_dir() {
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf) == nullptr) {
        return "";
    }
    return buf;
}

mode_t current_umask() {
    mode_t m = umask(022);
    umask(m);
    return m;
}

}  // namespace

void process_state::capture() {
    cwd_ = current_dir();
    umask_ = current_umask();
    captured_ = true;
}

bool process_state::restore_after(const std::string& interp) {
    if (!captured_ || !interp::take_process_state_touched()) {
        return false;
    }
    return check(interp);
}

bool process_state::sweep() {
    if (!captured_) {
        return false;
    }
    interp::take_process_state_touched();
    return check("");
}

bool process_state::check(const std::string& interp) {
    std::string what;
    mode_t m = current_umask();
    if (m != umask_) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "umask %03o (restored to %03o)", static_cast<unsigned>(m),
                      static_cast<unsigned>(umask_));
        what = buf;
        umask(umask_);
    }
    std::string dir = current_dir();
    if (dir != cwd_ && !cwd_.empty()) {
        if (!what.empty()) {
            what += " and ";
        }
        what += "the working directory to " + dir + " (restored to " + cwd_ + ")";
        if (chdir(cwd_.c_str()) != 0) {
            log::write(log::level::error, "process", interp,
                       "cannot restore the working directory " + cwd_ + ": " + std::strerror(errno));
        }
    }
    if (what.empty()) {
        return false;
    }
    ++restored_;
    if (warned_.insert(interp).second) {
        log::write(log::level::warn, "process", interp,
                   std::string(interp.empty() ? "C code (not os.chdir/os.fchdir/os.umask)" : "a handler") +
                       " changed process-wide state shared by every interpreter: " + what +
                       "; restored after each request (logged once per interpreter)");
    }
    return true;
}

}  // namespace subhttpd::reactor

#pragma once
// process_state: the process-wide settings every interpreter shares — working
// directory and umask — put back after a request whose handler changed them,
// so one site's os.chdir()/os.umask() never reaches another. The first change by
// an interpreter is logged (once per interpreter). The kernel is asked only
// after a request whose Python code called os.chdir/os.fchdir/os.umask (the
// runtime reports those calls), and by sweep() on a slow tick for changes made
// from C. Loop thread only.
#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>

namespace subhttpd::reactor {

class process_state {
public:
    // Remembers the current directory and umask as the ones to keep.
    void capture();
    // After a request run by `interp`: restores what changed. Returns true when
    // something had to be restored.
    bool restore_after(const std::string& interp);
    // The slow check: asks the kernel whatever was reported (a change made from
    // C code is found here, up to one tick late).
    bool sweep();
    std::uint64_t restored() const { return restored_; }

private:
    bool check(const std::string& interp);

    std::string cwd_;
    mode_t umask_ = 022;
    bool captured_ = false;
    std::set<std::string> warned_;
    std::uint64_t restored_ = 0;
};

}  // namespace subhttpd::reactor

#pragma once
// config_watcher: inotify on the folders that hold the main file, every site
// file and the folders the site globs name, driven by the libevent loop. Any
// change there (write, create, delete, rename: editors that save by rename too)
// arms one debounce timer (at most 5 periods after the first change); when it
// fires, `on_change` runs once. Folders, not
// files, are watched, so a file replaced by rename is still seen. Loop thread only.
#include <event2/event.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace subhttpd::reactor {

class config_watcher {
public:
    config_watcher(event_base* base, int debounce_ms, std::function<void()> on_change);
    ~config_watcher();
    config_watcher(const config_watcher&) = delete;
    config_watcher& operator=(const config_watcher&) = delete;

    // Watches the folders of `files` plus `dirs`; drops watches no longer needed.
    // Returns "" or an error (inotify unavailable).
    std::string watch(const std::vector<std::string>& files, const std::vector<std::string>& dirs);

    void on_readable();
    void on_timer();

private:
    event_base* base_;
    int debounce_ms_;
    std::function<void()> on_change_;
    int fd_ = -1;
    event* read_ev_ = nullptr;
    event* timer_ev_ = nullptr;
    std::map<std::string, int> watches_;  // folder -> watch descriptor
    std::set<std::string> files_;         // files whose change matters, by full path
    std::map<int, std::string> by_wd_;
    std::set<std::string> dirs_;          // folders where any *.toml change matters
    double first_change_ = 0;             // monotonic time of the first change not applied yet
};

}  // namespace subhttpd::reactor

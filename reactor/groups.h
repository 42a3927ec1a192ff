#pragma once
// groups: [[process_group]] processes (mod_wsgi's daemon mode, our way). The
// supervisor prepares a `plan` before its first fork: one hand-off channel per
// group (reactor/handoff.h), one back to the workers, and the Unix account of
// each group. Group processes are supervised like workers (same restart with
// backoff, stall watch, recycling, SIGHUP forwarding); they run the same server
// with the full config, accept nothing themselves, and serve only requests whose
// route names their group (anything else goes back to the workers). A group
// with `user`/`group` drops to that account after the parent has bound the
// ports and the logs are open, before Python starts.
// plan: supervisor thread. processes()/status text: any process, any time
// (a table in shared memory the supervisor keeps).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "conf/config.h"
#include "reactor/handoff.h"
#include "reactor/server.h"

namespace subhttpd::reactor::faults {
struct worker_slot;
}

namespace subhttpd::reactor::groups {

class plan {
public:
    // "" or the error (naming the [[process_group]] table's file:line:col).
    std::string prepare(const conf::config& cfg);
    std::size_t process_count() const { return places_.size(); }
    handoff_links worker_links() const;
    // What a group process starts with: its links, no listeners, and a step run
    // once the logs are open that closes what it must not hold and drops
    // privileges. `listeners` are the supervisor's listening sockets.
    server_options options_for(const server_options& base, std::size_t place) const;
    // "process group 'analytics' process 1234"
    std::string label(std::size_t place, long pid) const;
    void started(std::size_t place, long pid, faults::worker_slot* slot) const;
    void ended(std::size_t place, long pid, const std::string& how) const;

    struct group_desc {
        std::string name;
        unsigned processes = 1;
        std::string user, group;  // as configured
        bool drop = false;
        uid_t uid = 0;
        gid_t gid = 0;
        std::string home;
        int inbox_read = -1, inbox_send = -1;
    };

private:
    std::vector<group_desc> groups_;
    std::vector<std::size_t> places_;  // place -> index in groups_
    int back_read_ = -1, back_send_ = -1;
};

struct process_info {
    std::string group;
    unsigned index = 0;     // which of the group's `processes`
    std::string account;    // "alice:alice", "" = the server's
    long pid = 0;           // 0: not running (restarting)
    bool serving = false;
    std::uint64_t requests = 0;
    std::uint64_t rss_bytes = 0;
    unsigned restarts = 0;
    std::string last_exit;  // "killed by SIGSEGV (...)", "" = none
};

// Every group process this server supervises (empty without process groups).
std::vector<process_info> processes();
// The status page's section: HTML, a JSON member (", \"process_groups\": [...]"
// or ""), Prometheus lines.
std::string status_html();
std::string status_json_member();
std::string status_metrics();

// `subhttpd check`: one line per group, with what it serves.
std::string describe(const conf::config& cfg);

// True when this process runs the site's `import` entries: the site's own
// process_group (site level) is the one this process serves ("" = a worker).
bool serves_site_imports(const conf::site& s, const std::string& my_group);

}  // namespace subhttpd::reactor::groups

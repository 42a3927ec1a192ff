#include "reactor/groups.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "common/escape.h"
#include "common/log.h"
#include "reactor/faults.h"

namespace subhttpd::reactor::groups {
namespace {

// One entry per group process place, in shared memory: written by the
// supervisor, read by whichever process renders a status page.
struct shared_entry {
    std::atomic<std::int64_t> pid{0};
    std::atomic<std::uint32_t> restarts{0};
    std::atomic<faults::worker_slot*> slot{nullptr};
    char last_exit[120] = {};
};

struct table {
    std::vector<plan::group_desc> groups;  // copied into every process at fork
    std::vector<std::size_t> places;
    shared_entry* entries = nullptr;
};

table& current() {
    static table t;  // set once by the supervisor before it forks
    return t;
}

std::string where_of(const conf::process_group& g) { return conf::to_string(g.where) + ": process_group '" + g.name + "'"; }

int make_channel(int ends[2], std::string& err) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
        err = std::string("cannot create a hand-off channel: ") + std::strerror(errno);
        return -1;
    }
    // Room for many connections in flight while a group restarts (capped by
    // net.core.wmem_max).
    int size = 4 * 1024 * 1024;
    setsockopt(ends[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(ends[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return 0;
}

// In a group process, after the logs are open and before Python starts.
std::string enter(const plan::group_desc& g, const std::vector<int>& close_fds, pid_t supervisor) {
    for (int fd : close_fds) {
        ::close(fd);
    }
    // WSGI's mod_wsgi.process_group and os.environ name the group (interp/wsgi.cpp).
    setenv("SUBHTTPD_PROCESS_GROUP", g.name.c_str(), 1);
    if (!g.drop) {
        return "";
    }
    if (setgroups(1, &g.gid) != 0) {
        return "process_group '" + g.name + "': setgroups failed: " + std::strerror(errno);
    }
    if (setgid(g.gid) != 0) {
        return "process_group '" + g.name + "': setgid(" + std::to_string(g.gid) + ") failed: " + std::strerror(errno);
    }
    if (setuid(g.uid) != 0) {
        return "process_group '" + g.name + "': setuid(" + std::to_string(g.uid) + ") failed: " + std::strerror(errno);
    }
    if (g.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        return "process_group '" + g.name + "': root privileges could be regained after setuid; refusing to serve";
    }
    // A change of credentials clears the parent-death signal: set it again.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != supervisor) {
        std::_Exit(0);
    }
    if (!g.home.empty()) {
        setenv("HOME", g.home.c_str(), 1);
    }
    if (!g.user.empty()) {
        setenv("USER", g.user.c_str(), 1);
        setenv("LOGNAME", g.user.c_str(), 1);
    }
    return "";
}

std::string account_of(const plan::group_desc& g) {
    if (!g.drop) {
        return "";
    }
    std::string u = g.user.empty() ? std::to_string(g.uid) : g.user;
    std::string gr = g.group.empty() ? std::to_string(g.gid) : g.group;
    if (g.group.empty()) {
        if (group* e = getgrgid(g.gid)) {
            gr = e->gr_name;
        }
    }
    return u + ":" + gr;
}

std::string num(std::uint64_t v) { return std::to_string(v); }

std::string json_text(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            o += b;
        } else {
            o += c;
        }
    }
    return o + "\"";
}

}  // namespace

std::string plan::prepare(const conf::config& cfg) {
    std::string err;
    for (const auto& pg : cfg.process_groups) {
        group_desc g;
        g.name = pg.name;
        g.processes = pg.processes;
        g.user = pg.user;
        g.group = pg.group;
        if (!pg.user.empty() || !pg.group.empty()) {
            if (geteuid() != 0) {
                return where_of(pg) + " runs as " + (pg.user.empty() ? "group '" + pg.group + "'" : "user '" + pg.user + "'") +
                       ": the server must start as root to switch to it (it runs as uid " + std::to_string(geteuid()) +
                       "); start it as root, or remove user/group from the table";
            }
            g.drop = true;
            g.uid = 0;
            g.gid = 0;
            if (!pg.user.empty()) {
                passwd* pw = getpwnam(pg.user.c_str());
                if (pw == nullptr) {
                    return where_of(pg) + ": no such user '" + pg.user + "'";
                }
                g.uid = pw->pw_uid;
                g.gid = pw->pw_gid;
                g.home = pw->pw_dir != nullptr ? pw->pw_dir : "";
            }
            if (!pg.group.empty()) {
                group* gr = getgrnam(pg.group.c_str());
                if (gr == nullptr) {
                    return where_of(pg) + ": no such group '" + pg.group + "'";
                }
                g.gid = gr->gr_gid;
            }
            if (g.uid == 0 && !pg.user.empty()) {
                log::writef(log::level::warn, "groups", "%s runs as root", where_of(pg).c_str());
            }
        }
        int ends[2];
        if (make_channel(ends, err) != 0) {
            return err;
        }
        g.inbox_read = ends[0];
        g.inbox_send = ends[1];
        for (unsigned i = 0; i < g.processes; ++i) {
            places_.push_back(groups_.size());
        }
        groups_.push_back(std::move(g));
    }
    if (groups_.empty()) {
        return "";
    }
    int back[2];
    if (make_channel(back, err) != 0) {
        return err;
    }
    back_read_ = back[0];
    back_send_ = back[1];
    table& t = current();
    t.groups = groups_;
    t.places = places_;
    void* mem = mmap(nullptr, sizeof(shared_entry) * places_.size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) {
        return std::string("cannot map the process groups' table: ") + std::strerror(errno);
    }
    t.entries = static_cast<shared_entry*>(mem);
    for (std::size_t i = 0; i < places_.size(); ++i) {
        new (&t.entries[i]) shared_entry();
    }
    for (const auto& g : groups_) {
        std::string acct = account_of(g);
        log::writef(log::level::notice, "groups", "process group '%s': %u process%s%s%s", g.name.c_str(), g.processes,
                    g.processes == 1 ? "" : "es", acct.empty() ? "" : " as ", acct.c_str());
    }
    return "";
}

handoff_links plan::worker_links() const {
    handoff_links l;
    if (groups_.empty()) {
        return l;
    }
    l.inbox = back_read_;
    for (const auto& g : groups_) {
        l.to_group[g.name] = g.inbox_send;
    }
    return l;
}

server_options plan::options_for(const server_options& base, std::size_t place) const {
    server_options o = base;
    const group_desc& g = groups_[places_[place]];
    o.links = handoff_links{};
    o.links.group = g.name;
    o.links.inbox = g.inbox_read;
    o.links.to_workers = back_send_;
    // Listening sockets and every other channel end stay out of reach of the
    // group's code: a site running as another user must not accept or take
    // connections meant for someone else.
    std::vector<int> close_fds;
    for (const auto& [text, fd] : base.inherited_listeners) {
        close_fds.push_back(fd);
    }
    o.inherited_listeners.clear();
    close_fds.push_back(back_read_);
    for (const auto& other : groups_) {
        close_fds.push_back(other.inbox_send);
        if (&other != &g) {
            close_fds.push_back(other.inbox_read);
        }
    }
    group_desc desc = g;
    pid_t supervisor = getpid();
    o.after_logs = [desc, close_fds, supervisor] { return enter(desc, close_fds, supervisor); };
    return o;
}

std::string plan::label(std::size_t place, long pid) const {
    return "process group '" + groups_[places_[place]].name + "' process " + std::to_string(pid);
}

void plan::started(std::size_t place, long pid, faults::worker_slot* slot) const {
    shared_entry& e = current().entries[place];
    e.slot = slot;
    e.pid = pid;
}

void plan::ended(std::size_t place, long pid, const std::string& how) const {
    shared_entry& e = current().entries[place];
    if (e.pid.load() != pid) {
        return;  // a replaced process: its successor already holds the place
    }
    e.pid = 0;
    e.slot = nullptr;
    ++e.restarts;
    std::snprintf(e.last_exit, sizeof e.last_exit, "%s", how.c_str());
}

std::vector<process_info> processes() {
    std::vector<process_info> out;
    const table& t = current();
    if (t.entries == nullptr) {
        return out;
    }
    std::vector<unsigned> seen(t.groups.size(), 0);
    for (std::size_t i = 0; i < t.places.size(); ++i) {
        const plan::group_desc& g = t.groups[t.places[i]];
        const shared_entry& e = t.entries[i];
        process_info p;
        p.group = g.name;
        p.index = seen[t.places[i]]++;
        p.account = account_of(g);
        p.pid = static_cast<long>(e.pid.load());
        if (faults::worker_slot* s = e.slot.load(); s != nullptr && p.pid != 0) {
            p.serving = s->beat_ms.load() != 0;
            p.requests = s->requests.load();
            p.rss_bytes = s->rss_bytes.load();
        }
        p.restarts = e.restarts.load();
        p.last_exit = std::string(e.last_exit, strnlen(e.last_exit, sizeof e.last_exit));
        out.push_back(std::move(p));
    }
    return out;
}

std::string status_html() {
    std::vector<process_info> all = processes();
    if (all.empty()) {
        return "";
    }
    std::string o = "<h2>process groups</h2>\n<table id=\"process-groups\">\n<tr><th>group</th><th>process</th>"
                     "<th>account</th><th>pid</th><th>state</th><th>requests</th><th>RSS</th><th>restarts</th>"
                     "<th>last exit</th></tr>\n";
    for (const auto& p : all) {
        o += "<tr><td>" + html_escape(p.group) + "</td><td>" + num(p.index) + "</td><td>" +
             html_escape(p.account.empty() ? "(server's)" : p.account) + "</td><td>" + num(static_cast<std::uint64_t>(p.pid)) +
             "</td><td>" + (p.pid == 0 ? "restarting" : p.serving ? "serving" : "starting") + "</td><td>" +
             num(p.requests) + "</td><td>" + num(p.rss_bytes >> 20) + " MB</td><td>" + num(p.restarts) + "</td><td>" +
             html_escape(p.last_exit) + "</td></tr>\n";
    }
    return o + "</table>\n";
}

std::string status_json_member() {
    std::vector<process_info> all = processes();
    if (all.empty()) {
        return "";
    }
    std::string o = ", \"process_groups\": [";
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& p = all[i];
        o += (i ? ", " : "") + std::string("{\"group\": ") + json_text(p.group) + ", \"index\": " + num(p.index) +
             ", \"account\": " + json_text(p.account) + ", \"pid\": " + std::to_string(p.pid) +
             ", \"serving\": " + (p.serving ? "true" : "false") + ", \"requests\": " + num(p.requests) +
             ", \"rss_bytes\": " + num(p.rss_bytes) + ", \"restarts\": " + num(p.restarts) +
             ", \"last_exit\": " + json_text(p.last_exit) + "}";
    }
    return o + "]";
}

std::string status_metrics() {
    std::vector<process_info> all = processes();
    if (all.empty()) {
        return "";
    }
    std::string up = "# HELP subhttpd_process_group_up 1 when the group process serves.\n"
                     "# TYPE subhttpd_process_group_up gauge\n";
    std::string req = "# HELP subhttpd_process_group_requests_total Requests served by the group process.\n"
                      "# TYPE subhttpd_process_group_requests_total counter\n";
    std::string rs = "# HELP subhttpd_process_group_restarts_total Times the group process was replaced.\n"
                     "# TYPE subhttpd_process_group_restarts_total counter\n";
    for (const auto& p : all) {
        std::string l = "{group=\"" + p.group + "\",process=\"" + num(p.index) + "\"} ";
        up += "subhttpd_process_group_up" + l + (p.serving ? "1" : "0") + "\n";
        req += "subhttpd_process_group_requests_total" + l + num(p.requests) + "\n";
        rs += "subhttpd_process_group_restarts_total" + l + num(p.restarts) + "\n";
    }
    return up + req + rs;
}

std::string describe(const conf::config& cfg) {
    std::string o;
    for (const auto& g : cfg.process_groups) {
        o += "process_group '" + g.name + "' (" + conf::to_string(g.where) + "): " + std::to_string(g.processes) +
             " process" + (g.processes == 1 ? "" : "es");
        if (!g.user.empty() || !g.group.empty()) {
            o += " as " + (g.user.empty() ? std::string("(server's user)") : g.user) + ":" +
                 (g.group.empty() ? std::string("(user's group)") : g.group);
        }
        std::string serves;
        for (const auto& s : cfg.sites) {
            auto mine = [&](const conf::block& b) { return b.process_group && *b.process_group == g.name; };
            if (mine(s.settings)) {
                serves += " " + s.server_name;
            }
            for (const auto& d : s.directories) {
                if (mine(d.settings)) {
                    serves += " " + s.server_name + ":" + d.path;
                }
            }
            for (const auto& l : s.locations) {
                if (mine(l.settings)) {
                    serves += " " + s.server_name + l.path;
                }
            }
        }
        o += "; serves:" + (serves.empty() ? std::string(" (nothing yet)") : serves) + "\n";
    }
    return o;
}

bool serves_site_imports(const conf::site& s, const std::string& my_group) {
    return s.settings.process_group.value_or("") == my_group;
}

}  // namespace subhttpd::reactor::groups

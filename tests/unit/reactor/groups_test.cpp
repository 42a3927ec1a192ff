// groups: the plan made before the first fork (channels, places, links per
// process), the shared table of group processes and what it reports, and the
// `check` description.
#include "reactor/groups.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "reactor/faults.h"

namespace subhttpd::reactor::groups {
namespace {

conf::process_group pg(const std::string& name, unsigned n, int line) {
    conf::process_group g;
    g.name = name;
    g.processes = n;
    g.where = {"/etc/subhttpd/server.toml", line, 1};
    return g;
}

bool is_socket(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

TEST(groups_plan, no_groups_means_no_links_and_no_table) {
    conf::config cfg;
    plan p;
    EXPECT_EQ(p.prepare(cfg), "");
    EXPECT_EQ(p.process_count(), 0u);
    EXPECT_FALSE(p.worker_links().active());
    EXPECT_TRUE(processes().empty());
    EXPECT_EQ(status_html(), "");
    EXPECT_EQ(status_json_member(), "");
    EXPECT_EQ(status_metrics(), "");
}

TEST(groups_plan, one_place_per_process_and_a_channel_per_group) {
    conf::config cfg;
    cfg.process_groups = {pg("analytics", 2, 3), pg("admin", 1, 7)};
    plan p;
    ASSERT_EQ(p.prepare(cfg), "");
    EXPECT_EQ(p.process_count(), 3u);
    handoff_links w = p.worker_links();
    EXPECT_TRUE(w.active());
    EXPECT_EQ(w.group, "");
    EXPECT_TRUE(is_socket(w.inbox));
    ASSERT_EQ(w.to_group.size(), 2u);
    EXPECT_TRUE(is_socket(w.to_group.at("analytics")));
    EXPECT_TRUE(is_socket(w.to_group.at("admin")));
    EXPECT_NE(w.to_group.at("analytics"), w.to_group.at("admin"));
    EXPECT_EQ(p.label(0, 11), "process group 'analytics' process 11");
    EXPECT_EQ(p.label(1, 12), "process group 'analytics' process 12");
    EXPECT_EQ(p.label(2, 13), "process group 'admin' process 13");
}

TEST(groups_plan, a_group_process_gets_its_inbox_no_listeners_and_a_way_back) {
    conf::config cfg;
    cfg.process_groups = {pg("analytics", 1, 3), pg("admin", 1, 7)};
    plan p;
    ASSERT_EQ(p.prepare(cfg), "");
    server_options base;
    base.inherited_listeners["127.0.0.1:8080"] = 99;
    server_options o = p.options_for(base, 1);
    EXPECT_EQ(o.links.group, "admin");
    EXPECT_TRUE(is_socket(o.links.inbox));
    EXPECT_TRUE(is_socket(o.links.to_workers));
    EXPECT_TRUE(o.links.to_group.empty());
    EXPECT_TRUE(o.inherited_listeners.empty());
    EXPECT_TRUE(static_cast<bool>(o.after_logs));
    // A message sent to the admin inbox comes out of the admin process's end only.
    handoff_links w = p.worker_links();
    ASSERT_EQ(send(w.to_group.at("admin"), "x", 1, 0), 1);
    char c = 0;
    EXPECT_EQ(recv(o.links.inbox, &c, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(c, 'x');
    server_options other = p.options_for(base, 0);
    EXPECT_EQ(recv(other.links.inbox, &c, 1, MSG_DONTWAIT), -1);
    // And the way back reaches the workers' inbox.
    ASSERT_EQ(send(o.links.to_workers, "y", 1, 0), 1);
    EXPECT_EQ(recv(w.inbox, &c, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(c, 'y');
}

TEST(groups_plan, unknown_accounts_are_refused_with_the_tables_position) {
    conf::config cfg;
    conf::process_group g = pg("ghost", 1, 9);
    g.user = "no-such-user-subhttpd";
    cfg.process_groups = {g};
    plan p;
    std::string err = p.prepare(cfg);
    ASSERT_NE(err, "");
    EXPECT_EQ(err.rfind("/etc/subhttpd/server.toml:9:1: process_group 'ghost'", 0), 0u) << err;
    if (geteuid() == 0) {
        EXPECT_NE(err.find("no such user 'no-such-user-subhttpd'"), std::string::npos) << err;
    } else {
        EXPECT_NE(err.find("must start as root"), std::string::npos) << err;
    }
    conf::config cfg2;
    conf::process_group h = pg("ghost", 1, 11);
    h.group = "no-such-group-subhttpd";
    cfg2.process_groups = {h};
    plan p2;
    err = p2.prepare(cfg2);
    EXPECT_EQ(err.rfind("/etc/subhttpd/server.toml:11:1: process_group 'ghost'", 0), 0u) << err;
}

TEST(groups_table, started_and_ended_processes_are_reported) {
    conf::config cfg;
    cfg.process_groups = {pg("analytics", 2, 3)};
    plan p;
    ASSERT_EQ(p.prepare(cfg), "");
    faults::worker_slot* slots = faults::map_slots(2);
    ASSERT_NE(slots, nullptr);
    slots[0].beat_ms = 5;
    slots[0].requests = 17;
    p.started(0, 101, &slots[0]);
    p.started(1, 102, &slots[1]);
    std::vector<process_info> all = processes();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].group, "analytics");
    EXPECT_EQ(all[0].index, 0u);
    EXPECT_EQ(all[1].index, 1u);
    EXPECT_EQ(all[0].pid, 101);
    EXPECT_TRUE(all[0].serving);
    EXPECT_EQ(all[0].requests, 17u);
    EXPECT_FALSE(all[1].serving);  // no beat yet
    EXPECT_EQ(all[0].account, "");

    p.ended(1, 999, "exited 1");  // not the process in that place: ignored
    all = processes();
    EXPECT_EQ(all[1].pid, 102);
    EXPECT_EQ(all[1].restarts, 0u);
    p.ended(1, 102, "killed by SIGSEGV");
    all = processes();
    EXPECT_EQ(all[1].pid, 0);
    EXPECT_EQ(all[1].restarts, 1u);
    EXPECT_EQ(all[1].last_exit, "killed by SIGSEGV");
    EXPECT_FALSE(all[1].serving);

    std::string m = status_metrics();
    EXPECT_NE(m.find("subhttpd_process_group_up{group=\"analytics\",process=\"0\"} 1\n"), std::string::npos) << m;
    EXPECT_NE(m.find("subhttpd_process_group_up{group=\"analytics\",process=\"1\"} 0\n"), std::string::npos);
    EXPECT_NE(m.find("subhttpd_process_group_requests_total{group=\"analytics\",process=\"0\"} 17\n"),
              std::string::npos);
    EXPECT_NE(m.find("subhttpd_process_group_restarts_total{group=\"analytics\",process=\"1\"} 1\n"),
              std::string::npos);
    std::string j = status_json_member();
    EXPECT_EQ(j.rfind(", \"process_groups\": [", 0), 0u) << j;
    EXPECT_NE(j.find("killed by SIGSEGV"), std::string::npos);
    std::string h = status_html();
    EXPECT_NE(h.find("<table id=\"process-groups\">"), std::string::npos);
    EXPECT_NE(h.find("analytics"), std::string::npos);
}

TEST(groups_describe, names_what_each_group_serves) {
    conf::config cfg;
    cfg.process_groups = {pg("analytics", 2, 3), pg("idle", 1, 5)};
    cfg.process_groups[0].user = "alice";
    conf::site s;
    s.server_name = "www.example.com";
    s.directories.push_back({"/srv/app", {}});
    s.directories.back().settings.process_group = "analytics";
    s.locations.push_back({"/stats", {}});
    s.locations.back().settings.process_group = "analytics";
    conf::site t;
    t.server_name = "other.test";
    t.settings.process_group = "analytics";
    cfg.sites = {s, t};
    std::string d = describe(cfg);
    EXPECT_EQ(d,
              "process_group 'analytics' (/etc/subhttpd/server.toml:3:1): 2 processes as alice:(user's group); "
              "serves: www.example.com:/srv/app www.example.com/stats other.test\n"
              "process_group 'idle' (/etc/subhttpd/server.toml:5:1): 1 process; serves: (nothing yet)\n");
    EXPECT_EQ(describe(conf::config{}), "");
}

TEST(groups_imports, a_site_imports_where_its_own_group_runs) {
    conf::site s;
    EXPECT_TRUE(serves_site_imports(s, ""));
    EXPECT_FALSE(serves_site_imports(s, "analytics"));
    s.settings.process_group = "analytics";
    EXPECT_FALSE(serves_site_imports(s, ""));
    EXPECT_TRUE(serves_site_imports(s, "analytics"));
    EXPECT_FALSE(serves_site_imports(s, "admin"));
}

}  // namespace
}  // namespace subhttpd::reactor::groups

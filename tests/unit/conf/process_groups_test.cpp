// [[process_group]] tables and process_group on sites and blocks: values,
// defaults, and errors at file:line:col (unknown group, bad names, duplicates).
#include "tree.h"

namespace subhttpd::conf::testing {
namespace {

using process_groups = tree;

TEST_F(process_groups, tables_and_references) {
    mkdir("htdocs");
    write("server.toml", R"([[process_group]]
name = "analytics"
processes = 2
user = "alice"
group = "staff"

[[process_group]]
name = "plain"

[[site]]
server_name = "a"
document_root = "htdocs"
process_group = "analytics"
[[site.location]]
path = "/x"
process_group = "plain"
)");
    auto r = load_main();
    ASSERT_TRUE(r.cfg) << ::testing::PrintToString(errors(r));
    const auto& g = r.cfg->process_groups;
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[0].name, "analytics");
    EXPECT_EQ(g[0].processes, 2u);
    EXPECT_EQ(g[0].user, "alice");
    EXPECT_EQ(g[0].group, "staff");
    EXPECT_EQ(g[0].where.line, 1);
    EXPECT_EQ(g[1].name, "plain");
    EXPECT_EQ(g[1].processes, 1u);
    EXPECT_TRUE(g[1].user.empty());
    EXPECT_EQ(r.cfg->sites[0].settings.process_group, std::optional<std::string>("analytics"));
    EXPECT_EQ(r.cfg->sites[0].locations[0].settings.process_group, std::optional<std::string>("plain"));
}

TEST_F(process_groups, errors_name_the_node) {
    mkdir("htdocs");
    write("server.toml", R"([[process_group]]
name = "a b"

[[process_group]]
name = "dup"
processes = 0
[[process_group]]
name = "dup"
user = "x"
color = 1
[[process_group]]
processes = 1

[[site]]
server_name = "a"
document_root = "htdocs"
process_group = "missing"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    auto e = errors(r);
    ASSERT_EQ(e.size(), 6u) << ::testing::PrintToString(e);
    EXPECT_EQ(e[0], "@/server.toml:2:8: process_group name 'a b' may hold only letters, digits, '_', '-' and '.'");
    EXPECT_EQ(e[1].rfind("@/server.toml:6:13: ", 0), 0u) << e[1];
    EXPECT_EQ(e[2], "@/server.toml:8:8: duplicate process_group name 'dup'");
    EXPECT_EQ(e[3], "@/server.toml:10:9: unknown key 'color' in [[process_group]]");
    EXPECT_EQ(e[4].rfind("@/server.toml:11:1: [[process_group]] needs a 'name'", 0), 0u) << e[4];
    EXPECT_EQ(e[5], "@/server.toml:17:17: process_group 'missing' is not defined (defined: dup)");
}

}  // namespace
}  // namespace subhttpd::conf::testing

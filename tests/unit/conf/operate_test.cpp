// The operating keys of [server]: reuse_port and access_log_format.
#include "tree.h"

namespace subhttpd::conf::testing {
namespace {

using config_operate = tree;
using strings = std::vector<std::string>;

TEST_F(config_operate, defaults_do_not_share_ports_and_log_combined) {
    write("server.toml", "[server]\nlisten = [\"127.0.0.1:8080\"]\n");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_FALSE(r.cfg->server.reuse_port);
    EXPECT_FALSE(r.cfg->server.listen[0].reuse_port);
    EXPECT_EQ(r.cfg->server.access_format, access_log_format::combined);
}

TEST_F(config_operate, every_access_log_format_and_reuse_port) {
    const std::pair<const char*, access_log_format> cases[] = {
        {"combined", access_log_format::combined},
        {"common", access_log_format::common},
        {"json", access_log_format::json},
    };
    for (const auto& [text, want] : cases) {
        write("server.toml", std::string("[server]\nlisten = [\"127.0.0.1:8080\", \"unix:/tmp/x.sock\"]\nreuse_port = true\n"
                                             "access_log_format = \"") +
                                 text + "\"\n");
        auto r = load_main();
        ASSERT_TRUE(r.ok()) << text << ": " << ::testing::PrintToString(errors(r));
        EXPECT_TRUE(r.cfg->server.reuse_port);
        ASSERT_EQ(r.cfg->server.listen.size(), 2u);
        EXPECT_TRUE(r.cfg->server.listen[0].reuse_port);  // open_listener reads it from the address
        EXPECT_TRUE(r.cfg->server.listen[1].reuse_port);
        EXPECT_EQ(r.cfg->server.access_format, want) << text;
    }
}

TEST_F(config_operate, bad_values_name_the_place) {
    write("server.toml", R"([server]
listen = []
reuse_port = "yes"
access_log_format = "apache"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:3:14: expected a boolean (true or false) for 'reuse_port', got string",
                             "@/server.toml:4:21: invalid access_log_format 'apache' (expected "
                             "\"combined\", \"common\" or \"json\")",
                         }));
}

TEST_F(config_operate, access_log_format_must_be_a_string) {
    write("server.toml", "[server]\nlisten = []\naccess_log_format = 1\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    ASSERT_EQ(errors(r).size(), 1u);
    EXPECT_EQ(errors(r)[0], "@/server.toml:3:21: expected a string for 'access_log_format', got integer");
}

}  // namespace
}  // namespace subhttpd::conf::testing

// [server] worker recycling and fault keys: max_requests, max_requests_jitter,
// max_rss, stall_timeout — defaults, values and errors at file:line:col.
#include "tree.h"

namespace subhttpd::conf::testing {
namespace {

using std::chrono::milliseconds;
using strings = std::vector<std::string>;
using fault_keys = tree;

TEST_F(fault_keys, defaults_never_recycle) {
    mkdir("htdocs");
    write("server.toml", "[[site]]\nserver_name = \"a\"\ndocument_root = \"htdocs\"\n");
    auto r = load_main();
    ASSERT_TRUE(r.cfg) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.cfg->server.max_requests, 0u);
    EXPECT_EQ(r.cfg->server.max_requests_jitter, 0u);
    EXPECT_EQ(r.cfg->server.max_rss, 0u);
    EXPECT_FALSE(r.cfg->server.stall_timeout);
    // handler_timeout 10 s: four times it, at least 30 s
    EXPECT_EQ(effective_stall_timeout(*r.cfg), milliseconds(40000));
}

TEST_F(fault_keys, values) {
    mkdir("htdocs");
    write("server.toml", R"([server]
max_requests = 1000
max_requests_jitter = 50
max_rss = "512MB"
stall_timeout = "1500ms"
[[site]]
server_name = "a"
document_root = "htdocs"
)");
    auto r = load_main();
    ASSERT_TRUE(r.cfg) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.cfg->server.max_requests, 1000u);
    EXPECT_EQ(r.cfg->server.max_requests_jitter, 50u);
    EXPECT_EQ(r.cfg->server.max_rss, 512u * 1024 * 1024);
    EXPECT_EQ(effective_stall_timeout(*r.cfg), milliseconds(1500));
}

TEST_F(fault_keys, stall_default_follows_handler_timeout) {
    mkdir("htdocs");
    write("server.toml", "[limits]\nhandler_timeout = 0\n[[site]]\nserver_name = \"a\"\ndocument_root = \"htdocs\"\n");
    auto r = load_main();
    ASSERT_TRUE(r.cfg);
    EXPECT_EQ(effective_stall_timeout(*r.cfg), milliseconds(60000));
    write("server.toml", "[limits]\nhandler_timeout = 20\n[[site]]\nserver_name = \"a\"\ndocument_root = \"htdocs\"\n");
    r = load_main();
    ASSERT_TRUE(r.cfg);
    EXPECT_EQ(effective_stall_timeout(*r.cfg), milliseconds(80000));
}

TEST_F(fault_keys, bad_values) {
    mkdir("htdocs");
    write("server.toml", R"([server]
max_requests = -1
max_requests_jitter = "x"
max_rss = "1KB"
stall_timeout = "10ms"
[[site]]
server_name = "a"
document_root = "htdocs"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    auto e = errors(r);
    ASSERT_EQ(e.size(), 4u) << ::testing::PrintToString(e);
    EXPECT_EQ(e[0].rfind("@/server.toml:2:16: 'max_requests' must be", 0), 0u) << e[0];
    EXPECT_EQ(e[1].rfind("@/server.toml:3:23: ", 0), 0u) << e[1];
    EXPECT_EQ(e[2], "@/server.toml:4:11: 'max_rss' must be 0 (never) or at least 16MB, got 1024 bytes");
    EXPECT_EQ(e[3], "@/server.toml:5:17: 'stall_timeout' must be 0 (never) or at least 100ms");
}

}  // namespace
}  // namespace subhttpd::conf::testing

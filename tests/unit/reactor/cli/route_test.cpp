// `subhttpd route`: URLs split into host and target, and the explanation
// printed for a config (text and JSON, --dev), or its errors.
#include "reactor/cli/route.h"

#include <gtest/gtest.h>

#include "cli_tree.h"

namespace subhttpd::reactor {
namespace {

TEST(split_url, absolute_urls) {
    std::string host, target;
    split_url("http://www.example.com/app/x?y=1", host, target);
    EXPECT_EQ(host, "www.example.com");
    EXPECT_EQ(target, "/app/x?y=1");
    split_url("https://[::1]:8443", host, target);
    EXPECT_EQ(host, "[::1]:8443");
    EXPECT_EQ(target, "/");
    split_url("http://a.test:8080/", host, target);
    EXPECT_EQ(host, "a.test:8080");
    EXPECT_EQ(target, "/");
}

TEST(split_url, paths_and_anything_else) {
    std::string host = "stale", target;
    split_url("/just/a/path", host, target);
    EXPECT_EQ(host, "");
    EXPECT_EQ(target, "/just/a/path");
    split_url("relative/path", host, target);
    EXPECT_EQ(target, "/relative/path");
    split_url("", host, target);
    EXPECT_EQ(target, "/");
    split_url("ftp://x/y", host, target);  // not http(s): a path on no host
    EXPECT_EQ(host, "");
    EXPECT_EQ(target, "/ftp://x/y");
    split_url("HTTP://x/y", host, target);  // the scheme is matched as written
    EXPECT_EQ(host, "");
}

using route_test = testing::cli_tree;

TEST_F(route_test, explains_the_route_for_a_url) {
    write("htdocs/app/hello.py", "def handler(req): pass\n");
    std::string main = write("server.toml",
                             "[[site]]\nserver_name = \"www.example.com\"\ndocument_root = \"htdocs\"\n"
                             "[[site.directory]]\npath = \"app\"\nhandler = \"hello\"\n");
    route_options o;
    o.config_path = main;
    o.url = "http://www.example.com/app/hello.py/more";
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(explain_route(o), 0);
    std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("www.example.com"), std::string::npos) << out;
    EXPECT_NE(out.find(root_ + "/htdocs/app/hello.py"), std::string::npos) << out;
    EXPECT_NE(out.find("/more"), std::string::npos) << out;
    EXPECT_NE(out.find("hello"), std::string::npos) << out;

    o.json = true;
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(explain_route(o), 0);
    std::string json = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.substr(json.size() - 2), "}\n");
    EXPECT_NE(json.find("\"path_info\": \"/more\""), std::string::npos) << json;
}

TEST_F(route_test, dev_mode_is_what_run_dev_would_serve) {
    write("htdocs/app/hello.py", "x = 1\n");
    std::string main = write("server.toml",
                             "[[site]]\nserver_name = \"www.example.com\"\ndocument_root = \"htdocs\"\n"
                             "[[site.directory]]\npath = \"app\"\nhandler = \"hello\"\ndebug = false\n");
    route_options o;
    o.config_path = main;
    o.url = "/app/hello.py";
    o.json = true;
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(explain_route(o), 0);
    std::string plain = ::testing::internal::GetCapturedStdout();
    o.dev = true;
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(explain_route(o), 0);
    std::string dev = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(plain, dev);  // the block's debug = false is overridden in dev mode
}

TEST_F(route_test, a_broken_config_prints_its_errors) {
    std::string main = write("server.toml", "[server]\nlisten = 5\n");
    route_options o;
    o.config_path = main;
    o.url = "/";
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(explain_route(o), 1);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
    EXPECT_NE(::testing::internal::GetCapturedStderr().find(main + ":2:"), std::string::npos);
}

}  // namespace
}  // namespace subhttpd::reactor

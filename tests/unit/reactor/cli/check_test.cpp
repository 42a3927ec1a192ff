// `subhttpd check`: the verdict on stdout, each error as file:line:col on
// stderr, the JSON form, and the exit code.
#include "reactor/cli/check.h"

#include <gtest/gtest.h>

#include "cli_tree.h"

namespace subhttpd::reactor {
namespace {

using check_test = testing::cli_tree;

TEST_F(check_test, a_valid_config_says_ok_and_counts) {
    write("htdocs/index.html", "x");
    std::string main = write("server.toml",
                             "[server]\nlisten = [\"127.0.0.1:8080\", \"127.0.0.1:8081\"]\n"
                             "[[site]]\nserver_name = \"a.test\"\ndocument_root = \"htdocs\"\n"
                             "[[site]]\nserver_name = \"b.test\"\ndocument_root = \"htdocs\"\n");
    ::testing::internal::CaptureStdout();
    int rc = check_config(main, false);
    std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out, main + ": OK: 2 sites in 1 file, 2 listeners\n");
}

TEST_F(check_test, singular_words_for_one) {
    write("htdocs/index.html", "x");
    std::string main = write("server.toml", "[[site]]\nserver_name = \"a.test\"\ndocument_root = \"htdocs\"\n");
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(check_config(main, false), 0);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), main + ": OK: 1 site in 1 file, 1 listener\n");
}

TEST_F(check_test, errors_name_file_line_column_and_exit_1) {
    std::string main = write("server.toml",
                             "[server]\nlisten = \"nonsense\"\n"
                             "[[site]]\nserver_name = \"a.test\"\ndocument_root = \"missing-folder\"\n");
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int rc = check_config(main, false);
    std::string out = ::testing::internal::GetCapturedStdout();
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(out, "");
    EXPECT_NE(err.find(main + ":2:"), std::string::npos) << err;
    EXPECT_NE(err.find(main + ":5:"), std::string::npos) << err;
    EXPECT_NE(err.find("2 errors\n"), std::string::npos) << err;
}

TEST_F(check_test, a_missing_main_file) {
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(check_config(root_ + "/nope.toml", false), 1);
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find(root_ + "/nope.toml"), std::string::npos) << err;
    EXPECT_NE(err.find("1 error\n"), std::string::npos) << err;
}

TEST_F(check_test, json_for_both_outcomes) {
    write("htdocs/index.html", "x");
    std::string good = write("good.toml", "[[site]]\nserver_name = \"a.test\"\ndocument_root = \"htdocs\"\n");
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(check_config(good, true), 0);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "{\"ok\": true, \"errors\": [], \"sites\": 1, \"files\": 1}\n");

    std::string bad = write("bad \"quoted\".toml", "[server]\nlisten = \"nonsense\"\n");
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(check_config(bad, true), 1);
    std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // everything is in the JSON
    EXPECT_EQ(out.rfind("{\"ok\": false, \"errors\": [{\"file\": \"", 0), 0u) << out;
    EXPECT_NE(out.find("bad \\\"quoted\\\".toml"), std::string::npos) << out;  // escaped
    EXPECT_NE(out.find("\"line\": 2, \"column\": "), std::string::npos) << out;
    EXPECT_EQ(out.find("\"sites\""), std::string::npos);
}

}  // namespace
}  // namespace subhttpd::reactor

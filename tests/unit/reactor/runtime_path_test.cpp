// find_runtime: the order of the places, explicit choices, and the error text.
#include <gtest/gtest.h>

#include <set>

#include "reactor/runtime_path.h"

namespace subhttpd::reactor {
namespace {

struct fake_fs {
    std::set<std::string> runtimes;
    std::vector<std::string> asked;
    std::function<bool(const std::string&)> fn() {
        return [this](const std::string& d) {
            asked.push_back(d);
            return runtimes.count(d) != 0;
        };
    }
};

runtime_search installed() {
    runtime_search s;
    s.exe = "/usr/bin/subhttpd";
    s.install_dir = "/usr/local/share/subhttpd/python";
    return s;
}

TEST(runtime_path, beside_the_binary_first) {
    fake_fs fs;
    fs.runtimes = {"/usr/share/subhttpd/python", "/usr/local/share/subhttpd/python"};
    runtime_result r = find_runtime(installed(), fs.fn());
    EXPECT_EQ(r.dir, "/usr/share/subhttpd/python");
    EXPECT_TRUE(r.error.empty());
}

TEST(runtime_path, the_build_tree_mirrors_the_install_tree) {
    fake_fs fs;
    fs.runtimes = {"/src/build/share/subhttpd/python"};
    runtime_search s;
    s.exe = "/src/build/reactor/subhttpd";
    EXPECT_EQ(find_runtime(s, fs.fn()).dir, "/src/build/share/subhttpd/python");
}

TEST(runtime_path, the_install_prefix_is_the_last_place) {
    fake_fs fs;
    fs.runtimes = {"/usr/local/share/subhttpd/python"};
    runtime_search s = installed();
    s.exe = "/home/u/bin/subhttpd";  // a copied binary
    runtime_result r = find_runtime(s, fs.fn());
    EXPECT_EQ(r.dir, "/usr/local/share/subhttpd/python");
    EXPECT_EQ(fs.asked, (std::vector<std::string>{"/home/u/share/subhttpd/python",
                                                  "/usr/local/share/subhttpd/python"}));
}

TEST(runtime_path, the_flag_wins_over_the_environment_and_the_binary) {
    fake_fs fs;
    fs.runtimes = {"/opt/rt", "/env/rt", "/usr/share/subhttpd/python"};
    runtime_search s = installed();
    s.flag = "/opt/rt/";
    s.env = "/env/rt";
    EXPECT_EQ(find_runtime(s, fs.fn()).dir, "/opt/rt");
    s.flag.clear();
    EXPECT_EQ(find_runtime(s, fs.fn()).dir, "/env/rt");
}

TEST(runtime_path, a_wrong_explicit_choice_is_an_error_not_a_fallback) {
    fake_fs fs;
    fs.runtimes = {"/usr/share/subhttpd/python"};
    runtime_search s = installed();
    s.env = "/typo";
    runtime_result r = find_runtime(s, fs.fn());
    EXPECT_EQ(r.dir, "");
    EXPECT_EQ(r.error, "SUBHTTPD_RUNTIME /typo: not a subhttpd Python runtime (expected subhttpd_runtime/ and "
                       "mod_python/ in it)");
    s.flag = "/typo2";
    r = find_runtime(s, fs.fn());
    EXPECT_NE(r.error.find("--runtime /typo2"), std::string::npos) << r.error;
}

TEST(runtime_path, the_error_names_every_place_looked_at) {
    fake_fs fs;
    runtime_result r = find_runtime(installed(), fs.fn());
    EXPECT_EQ(r.dir, "");
    EXPECT_EQ(r.tried, (std::vector<std::string>{"/usr/share/subhttpd/python (beside the binary)",
                                                 "/usr/local/share/subhttpd/python (install prefix)"}));
    EXPECT_EQ(r.error,
              "cannot find the subhttpd Python runtime (subhttpd_runtime/, mod_python/); looked in:\n"
              "  /usr/share/subhttpd/python (beside the binary)\n"
              "  /usr/local/share/subhttpd/python (install prefix)\n"
              "set SUBHTTPD_RUNTIME or pass --runtime DIR");
}

TEST(runtime_path, a_binary_at_the_root) {
    fake_fs fs;
    runtime_search s;
    s.exe = "/subhttpd";
    runtime_result r = find_runtime(s, fs.fn());
    EXPECT_EQ(fs.asked, (std::vector<std::string>{"/share/subhttpd/python"}));
}

TEST(runtime_path, the_real_test_wants_both_files) {
    EXPECT_FALSE(is_runtime_dir("/nonexistent"));
    EXPECT_FALSE(is_runtime_dir("/"));
}

}  // namespace
}  // namespace subhttpd::reactor

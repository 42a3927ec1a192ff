// real_fs() on a real temporary tree, including a symlink out of the root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

namespace fs = std::filesystem;
using conf::phase;

class real_fs_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "hosts_test.XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        base_ = fs::canonical(tmpl);
        root_ = base_ / "htdocs";
        fs::create_directories(root_ / "app");
        fs::create_directories(base_ / "secret");
        std::ofstream(root_ / "index.html") << "hi";
        std::ofstream(root_ / "app" / "hello.py") << "x";
        std::ofstream(base_ / "secret" / "key.txt") << "k";
        fs::create_directory_symlink(base_ / "secret", root_ / "out");
        fs::create_symlink(base_ / "secret" / "key.txt", root_ / "key.txt");
        fs::create_symlink(root_ / "index.html", root_ / "same.html");
        cfg_.sites = {testing::make_site("www.example.com", root_.string())};
    }
    void TearDown() override { fs::remove_all(base_); }
    route at(std::string_view target) const { return resolve(cfg_, {"www.example.com", "GET", target}); }

    fs::path base_;
    fs::path root_;
    conf::config cfg_;
};

TEST_F(real_fs_test, stat_and_real_path) {
    const fs_view& f = real_fs();
    EXPECT_EQ(f.stat(root_.string()), file_kind::directory);
    EXPECT_EQ(f.stat((root_ / "index.html").string()), file_kind::file);
    EXPECT_EQ(f.stat((root_ / "nope").string()), file_kind::missing);
    EXPECT_EQ(f.stat((root_ / "index.html" / "x").string()), file_kind::missing);
    EXPECT_EQ(f.stat("/dev/null"), file_kind::other);
    EXPECT_EQ(f.real_path((root_ / "out").string()), (base_ / "secret").string());
    EXPECT_EQ(f.real_path((root_ / "nope").string()), "");
}

TEST_F(real_fs_test, serves_inside_the_root) {
    const route r = at("/index.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(r.filename, (root_ / "index.html").string());
    EXPECT_EQ(at("/same.html").kind, route_kind::static_file);
    EXPECT_EQ(at("/").filename, (root_ / "index.html").string());
    EXPECT_EQ(at("/app").kind, route_kind::directory_redirect);
}

TEST_F(real_fs_test, symlink_out_of_the_root_is_forbidden) {
    EXPECT_EQ(at("/out/key.txt").kind, route_kind::forbidden);
    EXPECT_EQ(at("/out/").kind, route_kind::forbidden);
    EXPECT_EQ(at("/key.txt").kind, route_kind::forbidden);
    EXPECT_EQ(at("/%6fut/key.txt").kind, route_kind::forbidden);
    testing::set_handler(cfg_.sites[0].settings, {"h"});
    EXPECT_EQ(at("/out/key.txt").kind, route_kind::forbidden);
    EXPECT_EQ(at("/app/hello.py").kind, route_kind::handler);
}

TEST_F(real_fs_test, dot_dot_never_reaches_outside) {
    EXPECT_EQ(at("/../secret/key.txt").kind, route_kind::bad_request);
    EXPECT_EQ(at("/app/%2e%2e/%2e%2e/secret/key.txt").kind, route_kind::bad_request);
    EXPECT_EQ(at("/app/..%2f..%2fsecret%2fkey.txt").kind, route_kind::bad_request);
}

TEST_F(real_fs_test, per_directory_names_on_a_real_tree) {
    auto& s = cfg_.sites[0].settings;
    testing::set_handler(s, {"h"});
    s.interp_per_directory = true;
    EXPECT_EQ(at("/app").at(phase::content).interpreter, (root_ / "app").string() + "/");
    EXPECT_EQ(at("/app/").at(phase::content).interpreter, (root_ / "app").string() + "/");
    EXPECT_EQ(at("/app/hello.py").at(phase::content).interpreter, (root_ / "app").string() + "/");
}

}  // namespace
}  // namespace subhttpd::hosts

// `subhttpd init`: every kind writes a project whose config loads, and nothing
// is written when a file would be overwritten or the options are bad.
#include "reactor/cli/init.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "conf/config.h"

namespace subhttpd::reactor {
namespace {

namespace fs = std::filesystem;

class init_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "init_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    std::string read(const std::string& rel) const {
        std::ifstream in(root_ + "/" + rel);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::size_t count_files() const {
        std::size_t n = 0;
        for (const auto& e : fs::recursive_directory_iterator(root_)) {
            n += e.is_regular_file() ? 1 : 0;
        }
        return n;
    }
    std::string root_;
};

TEST_F(init_test, modpython_project_loads_as_written) {
    init_options o;
    o.dir = root_ + "/proj";
    o.name = "demo.localhost";
    o.listen = "127.0.0.1:9090";
    ASSERT_EQ(init_project(o), 0);
    EXPECT_TRUE(fs::is_regular_file(o.dir + "/server.toml"));
    EXPECT_TRUE(fs::is_regular_file(o.dir + "/sites.d/demo.localhost.toml"));
    EXPECT_TRUE(fs::is_regular_file(o.dir + "/htdocs/index.html"));
    EXPECT_TRUE(fs::is_regular_file(o.dir + "/htdocs/app/hello.py"));
    std::string server = read("proj/server.toml");
    EXPECT_EQ(server.find('@'), std::string::npos) << "a placeholder was left";
    EXPECT_NE(server.find("127.0.0.1:9090"), std::string::npos);
    conf::load_result r = conf::load(o.dir + "/server.toml");
    ASSERT_TRUE(r.ok()) << conf::to_string(r.errors[0].where) << ": " << r.errors[0].message;
    ASSERT_EQ(r.cfg->sites.size(), 1u);
    EXPECT_EQ(r.cfg->sites[0].server_name, "demo.localhost");
    ASSERT_EQ(r.cfg->server.listen.size(), 1u);
    EXPECT_EQ(r.cfg->server.listen[0].port, 9090);
}

TEST_F(init_test, flask_and_django_projects_load) {
    for (init_kind k : {init_kind::flask, init_kind::django}) {
        init_options o;
        o.kind = k;
        o.dir = root_ + (k == init_kind::flask ? "/flask" : "/django");
        ASSERT_EQ(init_project(o), 0);
        conf::load_result r = conf::load(o.dir + "/server.toml");
        ASSERT_TRUE(r.ok()) << conf::to_string(r.errors[0].where) << ": " << r.errors[0].message;
        ASSERT_EQ(r.cfg->sites.size(), 1u);
        EXPECT_EQ(r.cfg->sites[0].server_name, "localhost");
    }
    EXPECT_TRUE(fs::is_regular_file(root_ + "/flask/app/app.py"));
    EXPECT_TRUE(fs::is_regular_file(root_ + "/django/project/manage.py"));
    // The shared page template names each project's own folders; no placeholder is left.
    std::string flask_page = read("flask/app/templates/index.html");
    std::string django_page = read("django/project/templates/index.html");
    EXPECT_EQ(flask_page.find('@'), std::string::npos);
    EXPECT_EQ(django_page.find('@'), std::string::npos);
    EXPECT_NE(flask_page.find("app/views.py"), std::string::npos);
    EXPECT_NE(django_page.find("project/mysite/views.py"), std::string::npos);
    // Each Django project gets its own secret.
    init_options again;
    again.kind = init_kind::django;
    again.dir = root_ + "/django2";
    ASSERT_EQ(init_project(again), 0);
    EXPECT_NE(read("django/project/mysite/settings.py"), read("django2/project/mysite/settings.py"));
}

TEST_F(init_test, never_overwrites_and_then_writes_nothing) {
    init_options o;
    o.dir = root_;
    fs::create_directories(root_ + "/htdocs");
    std::ofstream(root_ + "/htdocs/index.html") << "mine";
    EXPECT_EQ(init_project(o), 1);
    EXPECT_EQ(read("htdocs/index.html"), "mine");
    EXPECT_FALSE(fs::exists(root_ + "/server.toml"));
    EXPECT_EQ(count_files(), 1u);
}

TEST_F(init_test, a_file_where_the_folder_should_be) {
    std::ofstream(root_ + "/taken") << "x";
    init_options o;
    o.dir = root_ + "/taken";
    EXPECT_EQ(init_project(o), 1);
    EXPECT_EQ(read("taken"), "x");
}

TEST_F(init_test, bad_options_are_refused) {
    init_options o;
    o.dir = "";
    EXPECT_EQ(init_project(o), 2);
    for (const char* bad : {"", "Upper.test", "-lead", ".lead", "sp ace", "a/b", "x_y"}) {
        init_options b;
        b.dir = root_ + "/p";
        b.name = bad;
        EXPECT_EQ(init_project(b), 2) << bad;
    }
    EXPECT_FALSE(fs::exists(root_ + "/p"));
}

}  // namespace
}  // namespace subhttpd::reactor

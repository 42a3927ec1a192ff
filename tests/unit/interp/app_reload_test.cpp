// app_reload: which changed files are pending for which interpreter name,
// folders made later, skipped folders, clear(), and drop_bytecode().
#include "interp/app_reload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace subhttpd::interp {
namespace {

namespace fs = std::filesystem;

class app_reload_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "app_reload.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = fs::canonical(tmpl).string();
        fs::create_directories(root_ + "/a/pkg");
        fs::create_directories(root_ + "/a/.git");
        fs::create_directories(root_ + "/a/__pycache__");
        fs::create_directories(root_ + "/b");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    void write(const std::string& rel, const std::string& text = "x") { std::ofstream(root_ + "/" + rel) << text; }
    static bool has(const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
    std::string root_;
    app_reload w_;
};

TEST_F(app_reload_test, untracked_names_have_nothing) {
    EXPECT_FALSE(w_.tracked("app"));
    EXPECT_TRUE(w_.take_changes("app").empty());
    EXPECT_EQ(w_.watched_dirs(), 0u);
}

TEST_F(app_reload_test, a_written_file_is_pending_once_for_its_name) {
    w_.note("app-a", {root_ + "/a"});
    w_.note("app-b", {root_ + "/b"});
    EXPECT_TRUE(w_.tracked("app-a"));
    write("a/views.py");
    write("a/pkg/models.py");
    write("a/pkg/models.py", "again");  // the same file twice: listed once
    std::vector<std::string> a = w_.take_changes("app-a");
    EXPECT_EQ(a.size(), 2u);
    EXPECT_TRUE(has(a, root_ + "/a/views.py"));
    EXPECT_TRUE(has(a, root_ + "/a/pkg/models.py"));
    EXPECT_TRUE(w_.take_changes("app-b").empty());
    EXPECT_TRUE(w_.take_changes("app-a").empty());  // taken
    write("b/x.py");
    EXPECT_TRUE(w_.take_changes("app-a").empty());
    EXPECT_EQ(w_.take_changes("app-b"), std::vector<std::string>{root_ + "/b/x.py"});
}

TEST_F(app_reload_test, hidden_and_cache_folders_are_not_watched) {
    w_.note("app", {root_ + "/a"});
    EXPECT_EQ(w_.watched_dirs(), 2u);  // a and a/pkg
    write("a/.git/index");
    write("a/__pycache__/views.cpython-311.pyc");
    EXPECT_TRUE(w_.take_changes("app").empty());
}

TEST_F(app_reload_test, a_folder_made_later_is_watched_too) {
    w_.note("app", {root_ + "/a"});
    fs::create_directories(root_ + "/a/newpkg");
    EXPECT_TRUE(w_.take_changes("app").empty());  // a folder alone is not a change
    EXPECT_EQ(w_.watched_dirs(), 3u);
    write("a/newpkg/mod.py");
    EXPECT_EQ(w_.take_changes("app"), std::vector<std::string>{root_ + "/a/newpkg/mod.py"});
}

TEST_F(app_reload_test, deletes_and_renames_count) {
    write("a/old.py");
    w_.note("app", {root_ + "/a"});
    fs::rename(root_ + "/a/old.py", root_ + "/a/new.py");
    std::vector<std::string> c = w_.take_changes("app");
    EXPECT_TRUE(has(c, root_ + "/a/old.py"));
    EXPECT_TRUE(has(c, root_ + "/a/new.py"));
    fs::remove(root_ + "/a/new.py");
    EXPECT_EQ(w_.take_changes("app"), std::vector<std::string>{root_ + "/a/new.py"});
}

TEST_F(app_reload_test, two_names_sharing_a_root_both_see_the_change) {
    w_.note("one", {root_ + "/a"});
    w_.note("two", {root_ + "/a/pkg"});
    write("a/pkg/m.py");
    write("a/top.py");
    // The first root that holds the file decides, per name.
    EXPECT_TRUE(has(w_.take_changes("one"), root_ + "/a/pkg/m.py"));
    EXPECT_EQ(w_.take_changes("two"), std::vector<std::string>{root_ + "/a/pkg/m.py"});
}

TEST_F(app_reload_test, a_sibling_with_a_common_prefix_is_not_inside) {
    fs::create_directories(root_ + "/a2");
    w_.note("app", {root_ + "/a"});
    w_.note("other", {root_ + "/a2"});
    write("a2/x.py");
    EXPECT_TRUE(w_.take_changes("app").empty());
    EXPECT_EQ(w_.take_changes("other").size(), 1u);
}

TEST_F(app_reload_test, clear_forgets_pending_changes) {
    w_.note("app", {root_ + "/a"});
    write("a/x.py");
    w_.take_changes("other");  // reads the queue: x.py is pending for app now
    w_.clear("app");
    EXPECT_TRUE(w_.take_changes("app").empty());
    EXPECT_TRUE(w_.tracked("app"));
}

TEST_F(app_reload_test, missing_and_empty_roots_are_ignored) {
    w_.note("app", {"", root_ + "/not-there"});
    EXPECT_TRUE(w_.tracked("app"));
    EXPECT_EQ(w_.watched_dirs(), 0u);
    w_.note("app", {root_ + "/a", root_ + "/a"});
    EXPECT_EQ(w_.watched_dirs(), 2u);
}

TEST(drop_bytecode, removes_only_that_modules_pyc) {
    std::string tmpl = (fs::temp_directory_path() / "drop_bytecode.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    const std::string d = tmpl;
    fs::create_directories(d + "/__pycache__");
    for (const char* n : {"views.cpython-311.pyc", "views.cpython-311.opt-1.pyc", "views2.cpython-311.pyc",
                          "other.cpython-311.pyc", "views.txt"}) {
        std::ofstream(d + "/__pycache__/" + n) << "x";
    }
    drop_bytecode(d + "/views.py");
    EXPECT_FALSE(fs::exists(d + "/__pycache__/views.cpython-311.pyc"));
    EXPECT_FALSE(fs::exists(d + "/__pycache__/views.cpython-311.opt-1.pyc"));
    EXPECT_TRUE(fs::exists(d + "/__pycache__/views2.cpython-311.pyc"));
    EXPECT_TRUE(fs::exists(d + "/__pycache__/other.cpython-311.pyc"));
    EXPECT_TRUE(fs::exists(d + "/__pycache__/views.txt"));
    drop_bytecode(d + "/other.txt");  // not a .py: nothing
    EXPECT_TRUE(fs::exists(d + "/__pycache__/other.cpython-311.pyc"));
    drop_bytecode(d + "/nowhere/x.py");  // no __pycache__: nothing happens
    fs::remove_all(d);
}

}  // namespace
}  // namespace subhttpd::interp

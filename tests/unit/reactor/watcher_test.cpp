// config_watcher: a change to a watched file, or a *.toml / new folder in a
// watched folder, runs on_change once per burst; other files do not.
#include "reactor/watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "loop_fixture.h"

namespace subhttpd::reactor {
namespace {

class watcher_test : public testing::loop_test {
protected:
    void SetUp() override {
        testing::loop_test::SetUp();
        std::string tmpl = (std::filesystem::temp_directory_path() / "watcher.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = std::filesystem::canonical(tmpl).string();
        std::filesystem::create_directory(root_ + "/sites.d");
        std::filesystem::create_directory(root_ + "/elsewhere");
        write("server.toml", "a");
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
        testing::loop_test::TearDown();
    }
    void write(const std::string& rel, const std::string& text) { std::ofstream(root_ + "/" + rel) << text; }

    // Takes the inotify events queued now (the kernel queues them within the
    // syscall that caused them), then lets the debounce timer (0 ms) run.
    int settle(config_watcher& w) {
        w.on_readable();
        for (int i = 0; i < 3; ++i) {
            event_base_loop(base_, EVLOOP_NONBLOCK);
        }
        return changes_;
    }
    std::string root_;
    int changes_ = 0;
};

TEST_F(watcher_test, a_write_to_a_watched_file_is_a_change) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {}), "");
    write("server.toml", "b");
    ASSERT_TRUE(run_until([&] { return changes_ > 0; }));
    EXPECT_EQ(changes_, 1);
}

TEST_F(watcher_test, other_files_beside_a_watched_file_are_not) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {}), "");
    write("notes.txt", "x");
    write("other.toml", "x");  // not a watched folder: only server.toml matters here
    EXPECT_EQ(settle(w), 0);
    write("server.toml", "c");
    EXPECT_EQ(settle(w), 1);
}

TEST_F(watcher_test, a_burst_of_changes_runs_on_change_once) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {}), "");
    for (int i = 0; i < 5; ++i) {
        write("server.toml", std::to_string(i));
    }
    EXPECT_EQ(settle(w), 1);
}

TEST_F(watcher_test, replaced_by_rename_is_a_change) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {}), "");
    write("server.toml.tmp", "new");
    EXPECT_EQ(settle(w), 0);
    ASSERT_EQ(std::rename((root_ + "/server.toml.tmp").c_str(), (root_ + "/server.toml").c_str()), 0);
    EXPECT_EQ(settle(w), 1);
}

TEST_F(watcher_test, watched_folders_react_to_toml_files_and_new_folders_only) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {root_ + "/sites.d"}), "");
    write("sites.d/readme.txt", "x");
    write("sites.d/a.toml~", "x");
    EXPECT_EQ(settle(w), 0);
    write("sites.d/a.toml", "x");
    EXPECT_EQ(settle(w), 1);
    std::filesystem::create_directory(root_ + "/sites.d/sub");
    EXPECT_EQ(settle(w), 2);
    std::filesystem::remove(root_ + "/sites.d/a.toml");
    EXPECT_EQ(settle(w), 3);
}

TEST_F(watcher_test, watch_again_drops_folders_no_longer_named) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {root_ + "/sites.d"}), "");
    ASSERT_EQ(w.watch({root_ + "/server.toml"}, {root_ + "/elsewhere"}), "");
    write("sites.d/a.toml", "x");
    EXPECT_EQ(settle(w), 0);
    write("elsewhere/b.toml", "x");
    EXPECT_EQ(settle(w), 1);
}

TEST_F(watcher_test, a_missing_folder_is_skipped_not_an_error) {
    config_watcher w(base_, 0, [this] { ++changes_; });
    EXPECT_EQ(w.watch({root_ + "/server.toml"}, {root_ + "/not-yet"}), "");
    write("server.toml", "d");
    EXPECT_EQ(settle(w), 1);
}

}  // namespace
}  // namespace subhttpd::reactor

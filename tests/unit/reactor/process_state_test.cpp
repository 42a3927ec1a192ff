// process_state: a changed cwd/umask is put back and counted, an unchanged one
// is not. After a request the kernel is asked only when Python reported an
// os.chdir/os.fchdir/os.umask call (interp::note_process_state_touched); the
// sweep asks it anyway (changes made from C).
#include "reactor/process_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "interp/module.h"

namespace subhttpd::reactor {
namespace {

std::string cwd() {
    char buf[PATH_MAX];
    return getcwd(buf, sizeof buf) != nullptr ? buf : "";
}

mode_t current_umask() {
    mode_t m = umask(022);
    umask(m);
    return m;
}

// Runs each case from a fresh folder with umask 022, and leaves the process as it found it.
class process_state_test : public ::testing::Test {
protected:
    void SetUp() override {
        start_dir_ = cwd();
        start_mask_ = current_umask();
        std::string tmpl = (std::filesystem::temp_directory_path() / "process_state.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        home_ = std::filesystem::canonical(tmpl).string();
        other_ = home_ + "/other";
        std::filesystem::create_directory(other_);
        ASSERT_EQ(chdir(home_.c_str()), 0);
        umask(022);
    }
    void TearDown() override {
        umask(start_mask_);
        EXPECT_EQ(chdir(start_dir_.c_str()), 0);
        std::error_code ec;
        std::filesystem::remove_all(home_, ec);
    }
    std::string start_dir_, home_, other_;
    mode_t start_mask_ = 022;
};

TEST_F(process_state_test, nothing_changed_nothing_restored) {
    process_state ps;
    ps.capture();
    interp::note_process_state_touched();
    EXPECT_FALSE(ps.restore_after("site-a"));
    EXPECT_FALSE(ps.sweep());
    EXPECT_EQ(ps.restored(), 0u);
    EXPECT_EQ(cwd(), home_);
    EXPECT_EQ(current_umask(), 022u);
}

TEST_F(process_state_test, a_reported_chdir_is_restored_and_counted) {
    process_state ps;
    ps.capture();
    ASSERT_EQ(chdir(other_.c_str()), 0);
    interp::note_process_state_touched();
    EXPECT_TRUE(ps.restore_after("site-a"));
    EXPECT_EQ(cwd(), home_);
    EXPECT_EQ(ps.restored(), 1u);
    // Put back: the next request has nothing to restore.
    interp::note_process_state_touched();
    EXPECT_FALSE(ps.restore_after("site-a"));
    EXPECT_EQ(ps.restored(), 1u);
}

TEST_F(process_state_test, a_reported_umask_is_restored_and_counted) {
    process_state ps;
    ps.capture();
    umask(077);
    interp::note_process_state_touched();
    EXPECT_TRUE(ps.restore_after("site-a"));
    EXPECT_EQ(current_umask(), 022u);
    EXPECT_EQ(ps.restored(), 1u);
}

TEST_F(process_state_test, both_changed_count_once) {
    process_state ps;
    ps.capture();
    umask(0);
    ASSERT_EQ(chdir(other_.c_str()), 0);
    interp::note_process_state_touched();
    EXPECT_TRUE(ps.restore_after("site-a"));
    EXPECT_EQ(cwd(), home_);
    EXPECT_EQ(current_umask(), 022u);
    EXPECT_EQ(ps.restored(), 1u);
}

TEST_F(process_state_test, the_sweep_finds_an_unreported_change) {
    process_state ps;
    ps.capture();
    ASSERT_EQ(chdir(other_.c_str()), 0);  // as C code would: nothing reported
    umask(027);
    EXPECT_TRUE(ps.sweep());
    EXPECT_EQ(cwd(), home_);
    EXPECT_EQ(current_umask(), 022u);
    EXPECT_EQ(ps.restored(), 1u);
    EXPECT_FALSE(ps.sweep());
    EXPECT_EQ(ps.restored(), 1u);
}

TEST_F(process_state_test, every_request_that_changes_state_counts) {
    process_state ps;
    ps.capture();
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(chdir(other_.c_str()), 0);
        interp::note_process_state_touched();
        EXPECT_TRUE(ps.restore_after(i % 2 == 0 ? "site-a" : "site-b"));
        EXPECT_EQ(cwd(), home_);
    }
    EXPECT_EQ(ps.restored(), 3u);
}

TEST_F(process_state_test, capture_takes_the_state_of_the_moment) {
    process_state ps;
    ASSERT_EQ(chdir(other_.c_str()), 0);
    umask(027);
    ps.capture();
    EXPECT_FALSE(ps.sweep());
    ASSERT_EQ(chdir(home_.c_str()), 0);
    umask(022);
    EXPECT_TRUE(ps.sweep());
    EXPECT_EQ(cwd(), other_);
    EXPECT_EQ(current_umask(), 027u);
}

TEST_F(process_state_test, nothing_is_restored_before_capture) {
    process_state ps;
    ASSERT_EQ(chdir(other_.c_str()), 0);
    umask(077);
    interp::note_process_state_touched();
    EXPECT_FALSE(ps.restore_after("site-a"));
    EXPECT_FALSE(ps.sweep());
    EXPECT_EQ(cwd(), other_);
    EXPECT_EQ(current_umask(), 077u);
    EXPECT_EQ(ps.restored(), 0u);
}

}  // namespace
}  // namespace subhttpd::reactor

// The logger: line format (UTC time, level, subsystem, interpreter), the level
// filter, files appended and reopened, "off", bad paths, and failed writes
// counted rather than fatal.
#include "common/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace subhttpd::log {
namespace {

namespace fs = std::filesystem;

class log_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "log_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        err_ = dir_ + "/error.log";
        acc_ = dir_ + "/access.log";
        ASSERT_EQ(open(err_, acc_), "");
        set_level(level::info);
    }
    void TearDown() override {
        open("-", "-");
        set_level(level::info);
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    static std::string read(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::string dir_, err_, acc_;
};

TEST_F(log_test, line_format) {
    write(level::error, "dispatch", "www.example.com", "handler failed");
    write(level::warn, "reactor", "", "no interpreter here");
    std::string text = read(err_);
    std::regex line1(R"(\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] \[error\] \[dispatch\] \[interp www\.example\.com\] handler failed\n)");
    std::regex line2(R"(\[[^\]]+Z\] \[warn\] \[reactor\] no interpreter here\n)");
    std::size_t nl = text.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_TRUE(std::regex_match(text.substr(0, nl + 1), line1)) << text;
    EXPECT_TRUE(std::regex_match(text.substr(nl + 1), line2)) << text;
}

TEST_F(log_test, trailing_newlines_are_trimmed_to_one) {
    write(level::error, "x", "", "traceback\n\n\n");
    write(level::error, "x", "", "");
    std::string text = read(err_);
    EXPECT_NE(text.find("] traceback\n["), std::string::npos) << text;
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find("\n\n"), std::string::npos);
}

TEST_F(log_test, times_are_utc_whatever_tz_says) {
    setenv("TZ", "America/New_York", 1);
    tzset();
    time_t now = time(nullptr);
    write(level::error, "x", "", "t");
    unsetenv("TZ");
    tzset();
    tm g{};
    gmtime_r(&now, &g);
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%dT%H", &g);
    std::string text = read(err_);
    // The hour is UTC's (the test could straddle an hour: accept the next one too).
    time_t later = now + 3600;
    tm g2{};
    gmtime_r(&later, &g2);
    char day2[16];
    std::strftime(day2, sizeof day2, "%Y-%m-%dT%H", &g2);
    EXPECT_TRUE(text.rfind(std::string("[") + day, 0) == 0 || text.rfind(std::string("[") + day2, 0) == 0) << text;
}

TEST_F(log_test, the_level_filters_before_anything_is_written) {
    set_level(level::warn);
    EXPECT_FALSE(enabled(level::info));
    EXPECT_TRUE(enabled(level::warn));
    EXPECT_TRUE(enabled(level::crit));
    write(level::info, "x", "", "hidden");
    writef(level::notice, "x", "hidden %d", 2);
    SUBHTTPD_LOG(level::debug, "x", "hidden %s", "3");
    write(level::warn, "x", "", "shown");
    std::string text = read(err_);
    EXPECT_EQ(text.find("hidden"), std::string::npos);
    EXPECT_NE(text.find("shown"), std::string::npos);
    set_level(level::debug);
    SUBHTTPD_LOG(level::debug, "x", "now %s %d", "shown", 4);
    EXPECT_NE(read(err_).find("[debug] [x] now shown 4\n"), std::string::npos);
}

TEST_F(log_test, writef_formats_and_bounds_long_messages) {
    writef(level::error, "sub", "%s=%d", "n", 42);
    std::string big(5000, 'z');
    writef(level::error, "sub", "%s", big.c_str());
    std::string text = read(err_);
    EXPECT_NE(text.find("[error] [sub] n=42\n"), std::string::npos);
    std::size_t zs = 0;
    for (char c : text) {
        zs += c == 'z' ? 1 : 0;
    }
    EXPECT_GT(zs, 1000u);
    EXPECT_LT(zs, 5000u);  // cut at the buffer, still one terminated line
    EXPECT_EQ(text.back(), '\n');
}

TEST_F(log_test, access_lines_go_to_their_own_file) {
    EXPECT_TRUE(access_enabled());
    EXPECT_FALSE(access_is_tty());
    access("127.0.0.1 - - \"GET / HTTP/1.1\" 200 5");
    EXPECT_EQ(read(acc_), "127.0.0.1 - - \"GET / HTTP/1.1\" 200 5\n");
    EXPECT_EQ(read(err_).find("GET"), std::string::npos);
}

TEST_F(log_test, files_are_appended_not_truncated) {
    write(level::error, "x", "", "first");
    ASSERT_EQ(open(err_, acc_), "");
    write(level::error, "x", "", "second");
    std::string text = read(err_);
    EXPECT_LT(text.find("first"), text.find("second"));
}

TEST_F(log_test, reopen_follows_a_rotated_file) {
    write(level::error, "x", "", "before rotation");
    fs::rename(err_, err_ + ".1");
    write(level::error, "x", "", "still to the old file");
    ASSERT_EQ(reopen(), "");
    write(level::error, "x", "", "after rotation");
    std::string old_text = read(err_ + ".1");
    std::string new_text = read(err_);
    EXPECT_NE(old_text.find("still to the old file"), std::string::npos);
    EXPECT_EQ(old_text.find("after rotation"), std::string::npos);
    EXPECT_NE(new_text.find("after rotation"), std::string::npos);
    EXPECT_NE(new_text.find("reopened the log files"), std::string::npos);
}

TEST_F(log_test, off_writes_nothing) {
    ASSERT_EQ(open("off", "off"), "");
    EXPECT_EQ(error_fd(), -1);
    EXPECT_FALSE(access_enabled());
    write(level::crit, "x", "", "nowhere");
    access("nowhere");
    EXPECT_EQ(read(err_).find("nowhere"), std::string::npos);
    EXPECT_EQ(read(acc_), "");
}

TEST_F(log_test, a_bad_path_names_the_file_and_keeps_the_old_log) {
    std::string bad = dir_ + "/no/such/dir/error.log";
    std::string err = open(bad, acc_);
    EXPECT_EQ(err.rfind(bad + ": cannot open log file: ", 0), 0u) << err;
    EXPECT_NE(err.find("No such file"), std::string::npos) << err;
    write(level::error, "x", "", "kept");
    EXPECT_NE(read(err_).find("kept"), std::string::npos);
    std::string err2 = open(err_, dir_);  // a folder is not a log file
    EXPECT_EQ(err2.rfind(dir_ + ": cannot open log file: ", 0), 0u) << err2;
}

TEST_F(log_test, a_failed_write_is_counted_not_fatal) {
    ASSERT_TRUE(fs::exists("/dev/full"));
    ASSERT_EQ(open("/dev/full", acc_), "");
    std::uint64_t before = write_failures();
    write(level::error, "x", "", "cannot be written");
    write(level::error, "x", "", "nor this");
    EXPECT_EQ(write_failures(), before + 2);
    access("but this can");
    EXPECT_EQ(read(acc_), "but this can\n");
}

TEST_F(log_test, lines_from_many_threads_never_interleave) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t] {
            for (int i = 0; i < 200; ++i) {
                write(level::error, "t" + std::to_string(t), "", std::string(300, static_cast<char>('a' + t)));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    std::istringstream in(read(err_));
    std::string line;
    int lines = 0;
    std::regex whole(R"(\[[^\]]+\] \[error\] \[t(\d)\] ([a-d])\2{299})");
    while (std::getline(in, line)) {
        ++lines;
        std::smatch m;
        ASSERT_TRUE(std::regex_match(line, m, whole)) << line.substr(0, 80);
        EXPECT_EQ(m[2].str()[0], static_cast<char>('a' + (m[1].str()[0] - '0')));
    }
    EXPECT_EQ(lines, 800);
}

}  // namespace
}  // namespace subhttpd::log

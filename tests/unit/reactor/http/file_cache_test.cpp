// file_cache: small static files kept with their route and checked by one
// stat per use. What is kept (GET/HEAD, a small regular file, no path_info, no
// Python phase, not through a final symlink), and what drops an entry (a
// changed size, mtime or ctime, a replaced file, a new generation).
#include "reactor/http/file_cache.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace subhttpd::reactor::http {
namespace {

namespace fs = std::filesystem;

class file_cache_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "file_cache.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = fs::canonical(tmpl).string();
        write("a.txt", "hello");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    void write(const std::string& rel, const std::string& text) { std::ofstream(root_ + "/" + rel) << text; }
    std::shared_ptr<const hosts::route> route_to(const std::string& rel, const std::string& uri) {
        auto r = std::make_shared<hosts::route>();
        r->kind = hosts::route_kind::static_file;
        r->filename = root_ + "/" + rel;
        r->uri = uri;
        return r;
    }
    hosts::request_line line(std::string_view target, std::string_view method = "GET") {
        return {"www.example.com", method, target};
    }
    std::string root_;
    file_cache cache_;
};

TEST_F(file_cache_test, a_small_file_is_kept_with_its_facts_and_bytes) {
    EXPECT_EQ(cache_.find(1, line("/a.txt")), nullptr);
    const file_cache::entry* e = cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 7);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->body, "hello");
    EXPECT_EQ(e->facts.size, 5u);
    EXPECT_EQ(e->facts.type, "text/plain; charset=utf-8");
    EXPECT_FALSE(e->facts.etag.empty());
    EXPECT_EQ(e->site, 7);
    EXPECT_EQ(cache_.size(), 1u);
    const file_cache::entry* again = cache_.find(1, line("/a.txt"));
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->body, "hello");
    EXPECT_EQ(again->route->filename, root_ + "/a.txt");
}

TEST_F(file_cache_test, keyed_by_host_method_and_target) {
    ASSERT_NE(cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 0), nullptr);
    EXPECT_EQ(cache_.find(1, line("/a.txt?x=1")), nullptr);
    EXPECT_EQ(cache_.find(1, line("/a.txt", "HEAD")), nullptr);
    EXPECT_EQ(cache_.find(1, {"other.test", "GET", "/a.txt"}), nullptr);
    EXPECT_NE(cache_.find(1, line("/a.txt")), nullptr);
}

TEST_F(file_cache_test, a_changed_file_drops_the_entry) {
    ASSERT_NE(cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 0), nullptr);
    write("a.txt", "hellO");  // same size: mtime/ctime tell
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/a.txt").c_str(), times, 0), 0);
    EXPECT_EQ(cache_.find(1, line("/a.txt")), nullptr);
    EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(file_cache_test, a_chmod_changes_ctime_and_drops_the_entry) {
    ASSERT_NE(cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 0), nullptr);
    struct stat before {};
    ASSERT_EQ(stat((root_ + "/a.txt").c_str(), &before), 0);
    // Change ctime for sure: chmod until the kernel's clock tick moves (bounded).
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(chmod((root_ + "/a.txt").c_str(), i % 2 == 0 ? 0600 : 0644), 0);
        struct stat now {};
        ASSERT_EQ(stat((root_ + "/a.txt").c_str(), &now), 0);
        if (now.st_ctim.tv_sec != before.st_ctim.tv_sec || now.st_ctim.tv_nsec != before.st_ctim.tv_nsec) {
            break;
        }
        usleep(1000);
    }
    EXPECT_EQ(cache_.find(1, line("/a.txt")), nullptr);
}

TEST_F(file_cache_test, a_replaced_or_removed_file_drops_the_entry) {
    ASSERT_NE(cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 0), nullptr);
    write("b.txt", "hello");
    fs::rename(root_ + "/b.txt", root_ + "/a.txt");  // another inode under the same name
    EXPECT_EQ(cache_.find(1, line("/a.txt")), nullptr);
    ASSERT_NE(cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 0), nullptr);
    fs::remove(root_ + "/a.txt");
    EXPECT_EQ(cache_.find(1, line("/a.txt")), nullptr);
}

TEST_F(file_cache_test, a_new_generation_empties_it) {
    ASSERT_NE(cache_.fill(1, line("/a.txt"), route_to("a.txt", "/a.txt"), 0), nullptr);
    EXPECT_EQ(cache_.find(2, line("/a.txt")), nullptr);
    EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(file_cache_test, what_is_never_kept) {
    write("big.bin", std::string(file_cache::max_file_bytes + 1, 'x'));
    write("edge.bin", std::string(file_cache::max_file_bytes, 'x'));
    EXPECT_EQ(cache_.fill(1, line("/big.bin"), route_to("big.bin", "/big.bin"), 0), nullptr);
    EXPECT_NE(cache_.fill(1, line("/edge.bin"), route_to("edge.bin", "/edge.bin"), 0), nullptr);  // the bound itself
    EXPECT_EQ(cache_.fill(1, line("/a.txt", "POST"), route_to("a.txt", "/a.txt"), 0), nullptr);
    auto with_info = std::make_shared<hosts::route>(*route_to("a.txt", "/a.txt/x"));
    with_info->path_info = "/x";
    EXPECT_EQ(cache_.fill(1, line("/a.txt/x"), with_info, 0), nullptr);
    auto handler = std::make_shared<hosts::route>(*route_to("a.txt", "/a.txt"));
    handler->phases[static_cast<std::size_t>(conf::phase::access)].set = true;  // Python runs for it
    EXPECT_EQ(cache_.fill(1, line("/a.txt"), handler, 0), nullptr);
    auto filtered = std::make_shared<hosts::route>(*route_to("a.txt", "/a.txt"));
    filtered->output_filter.set = true;
    EXPECT_EQ(cache_.fill(1, line("/a.txt"), filtered, 0), nullptr);
    auto not_static = std::make_shared<hosts::route>(*route_to("a.txt", "/a.txt"));
    not_static->kind = hosts::route_kind::handler;
    EXPECT_EQ(cache_.fill(1, line("/a.txt"), not_static, 0), nullptr);
    EXPECT_EQ(cache_.fill(1, line("/missing.txt"), route_to("missing.txt", "/missing.txt"), 0), nullptr);
    fs::create_directory(root_ + "/dir");
    EXPECT_EQ(cache_.fill(1, line("/dir/"), route_to("dir", "/dir/"), 0), nullptr);
    fs::create_symlink(root_ + "/a.txt", root_ + "/link.txt");
    EXPECT_EQ(cache_.fill(1, line("/link.txt"), route_to("link.txt", "/link.txt"), 0), nullptr);
    EXPECT_EQ(cache_.size(), 1u);  // edge.bin only
}

TEST_F(file_cache_test, an_empty_file_is_kept) {
    write("empty.txt", "");
    const file_cache::entry* e = cache_.fill(1, line("/empty.txt"), route_to("empty.txt", "/empty.txt"), 0);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->body, "");
    EXPECT_NE(cache_.find(1, line("/empty.txt")), nullptr);
}

}  // namespace
}  // namespace subhttpd::reactor::http

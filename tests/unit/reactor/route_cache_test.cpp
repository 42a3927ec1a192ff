// route_cache: handler routes are kept for a second per (host, method, target)
// and config generation; static files, 404s and the like are routed afresh.
#include "reactor/route_cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../hosts/fixtures.h"

namespace subhttpd::reactor {
namespace {

class route_cache_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "route_cache.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = std::filesystem::canonical(tmpl).string();
        std::filesystem::create_directory(root_ + "/app");
        touch("/app/x.py");
        touch("/index.html");
        conf::site s = hosts::testing::make_site("www.example.com", root_);
        conf::directory_block& d = hosts::testing::add_dir(s, root_ + "/app");
        hosts::testing::set_handler(d.settings, {"x::handler"});
        cfg_.sites = {s};
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    void touch(const std::string& rel) { std::ofstream(root_ + rel) << "x"; }

    std::shared_ptr<const hosts::route> get(std::string_view target, double now, std::uint64_t gen = 1,
                                            std::string_view host = "www.example.com",
                                            std::string_view method = "GET") {
        return cache_.get(cfg_, gen, {host, method, target}, now);
    }

    std::string root_;
    conf::config cfg_;
    route_cache cache_;
};

TEST_F(route_cache_test, handler_route_is_reused_within_a_second) {
    auto a = get("/app/x.py", 100.0);
    ASSERT_EQ(a->kind, hosts::route_kind::handler);
    EXPECT_EQ(a->filename, root_ + "/app/x.py");
    auto b = get("/app/x.py", 100.5);
    EXPECT_EQ(a.get(), b.get());
    auto c = get("/app/x.py", 100.999);
    EXPECT_EQ(a.get(), c.get());
}

TEST_F(route_cache_test, expired_entry_is_routed_again) {
    auto a = get("/app/x.py", 100.0);
    auto b = get("/app/x.py", 101.0);  // exactly one second later: expired
    EXPECT_NE(a.get(), b.get());
    EXPECT_EQ(b->kind, hosts::route_kind::handler);
    auto c = get("/app/x.py", 101.5);  // the fresh entry is kept from then on
    EXPECT_EQ(b.get(), c.get());
}

TEST_F(route_cache_test, a_new_generation_empties_the_cache) {
    auto a = get("/app/x.py", 100.0, 1);
    auto b = get("/app/x.py", 100.1, 2);
    EXPECT_NE(a.get(), b.get());
    // Going back is a change of generation too: nothing of generation 2 is kept.
    auto c = get("/app/x.py", 100.2, 1);
    EXPECT_NE(b.get(), c.get());
    EXPECT_NE(a.get(), c.get());
}

TEST_F(route_cache_test, the_key_is_host_method_and_whole_target) {
    auto a = get("/app/x.py?a=1", 100.0);
    auto b = get("/app/x.py?a=2", 100.0);
    EXPECT_NE(a.get(), b.get());
    EXPECT_EQ(a->args, "a=1");
    EXPECT_EQ(b->args, "a=2");
    auto c = get("/app/x.py?a=1", 100.0, 1, "www.example.com", "POST");
    EXPECT_NE(a.get(), c.get());
    auto d = get("/app/x.py?a=1", 100.0, 1, "www.example.com:8080");
    EXPECT_NE(a.get(), d.get());
    EXPECT_EQ(get("/app/x.py?a=1", 100.0).get(), a.get());
}

TEST_F(route_cache_test, static_files_are_always_routed_afresh) {
    auto a = get("/index.html", 100.0);
    ASSERT_EQ(a->kind, hosts::route_kind::static_file);
    auto b = get("/index.html", 100.0);
    EXPECT_NE(a.get(), b.get());
    // A file that appears is seen at once.
    auto missing = get("/new.html", 100.0);
    EXPECT_EQ(missing->kind, hosts::route_kind::not_found);
    touch("/new.html");
    EXPECT_EQ(get("/new.html", 100.0)->kind, hosts::route_kind::static_file);
    std::filesystem::remove(root_ + "/index.html");
    EXPECT_EQ(get("/index.html", 100.0)->kind, hosts::route_kind::not_found);
}

TEST_F(route_cache_test, a_cached_handler_route_outlives_its_file_until_expiry) {
    auto a = get("/app/x.py", 100.0);
    std::filesystem::remove(root_ + "/app/x.py");
    EXPECT_EQ(get("/app/x.py", 100.5).get(), a.get());
    auto b = get("/app/x.py", 102.0);
    EXPECT_NE(b.get(), a.get());
}

TEST_F(route_cache_test, unknown_host_and_bad_targets) {
    cfg_.sites.clear();
    auto a = get("/app/x.py", 100.0);
    EXPECT_EQ(a->kind, hosts::route_kind::no_site);
    EXPECT_NE(get("/app/x.py", 100.0).get(), a.get());
}

}  // namespace
}  // namespace subhttpd::reactor

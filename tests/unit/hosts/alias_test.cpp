// [[site.alias]]: URLs under an alias url map to files under its folder, with
// the document root's escape checks ('..', encoded dots, NUL, symlinks out).
#include <gtest/gtest.h>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

using testing::fake_fs;
using testing::get;
using testing::make_site;

class alias_routing : public ::testing::Test {
protected:
    alias_routing() {
        conf::site s = make_site("www.example.com", "/srv/www");
        s.url_aliases.push_back({"/static", "/srv/app/collected", {"sites.d/www.toml", 30, 1}});
        s.url_aliases.push_back({"/static/big", "/data/big", {"sites.d/www.toml", 34, 1}});
        cfg_.sites.push_back(std::move(s));
        fs_.dir("/srv/www")
            .file("/srv/www/index.html")
            .file("/srv/www/static.txt")
            .file("/srv/app/collected/css/site.css")
            .file("/srv/app/collected/index.html")
            .file("/data/big/video.mp4")
            .file("/etc/passwd")
            .link("/srv/app/collected/out", "/etc")
            .link("/srv/app/collected/inner", "/srv/app/collected/css");
    }
    route at(std::string_view target) { return get(cfg_, target, fs_); }
    conf::config cfg_;
    fake_fs fs_;
};

TEST_F(alias_routing, file_under_the_alias_is_served_from_its_folder) {
    auto r = at("/static/css/site.css");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(r.filename, "/srv/app/collected/css/site.css");
    EXPECT_EQ(r.alias, "/static");
}

TEST_F(alias_routing, longest_url_wins) {
    auto r = at("/static/big/video.mp4");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(r.filename, "/data/big/video.mp4");
    EXPECT_EQ(r.alias, "/static/big");
}

TEST_F(alias_routing, prefix_matches_whole_segments_only) {
    auto r = at("/static.txt");
    EXPECT_EQ(r.filename, "/srv/www/static.txt");
    EXPECT_TRUE(r.alias.empty());
    EXPECT_EQ(at("/staticx/a").alias, "");
}

TEST_F(alias_routing, the_alias_itself_redirects_then_serves_its_index) {
    auto r = at("/static");
    EXPECT_EQ(r.kind, route_kind::directory_redirect);
    EXPECT_EQ(r.redirect_location, "/static/");
    auto i = at("/static/");
    EXPECT_EQ(i.kind, route_kind::static_file);
    EXPECT_EQ(i.filename, "/srv/app/collected/index.html");
}

TEST_F(alias_routing, missing_file_is_404) {
    EXPECT_EQ(at("/static/nope.css").kind, route_kind::not_found);
}

TEST_F(alias_routing, dot_dot_cannot_climb_out_of_the_alias) {
    // Normalised before the prefix is matched: it leaves the alias, never its folder.
    auto r = at("/static/../index.html");
    EXPECT_EQ(r.filename, "/srv/www/index.html");
    EXPECT_TRUE(r.alias.empty());
    EXPECT_EQ(at("/static/../../etc/passwd").kind, route_kind::bad_request);
    EXPECT_EQ(at("/static/%2e%2e/%2e%2e/etc/passwd").kind, route_kind::bad_request);
    EXPECT_EQ(at("/static/..%2f..%2f..%2fetc/passwd").kind, route_kind::bad_request);
}

TEST_F(alias_routing, nul_byte_is_bad_request) {
    EXPECT_EQ(at("/static/css/site.css%00.png").kind, route_kind::bad_request);
}

TEST_F(alias_routing, symlink_out_of_the_alias_folder_is_forbidden) {
    auto r = at("/static/out/passwd");
    EXPECT_EQ(r.kind, route_kind::forbidden);
}

TEST_F(alias_routing, symlink_inside_the_alias_folder_is_served) {
    auto r = at("/static/inner/site.css");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

TEST_F(alias_routing, handler_location_still_wins) {
    auto& l = testing::add_loc(cfg_.sites[0], "/static/app");
    l.settings.wsgi = "app:application";
    auto r = at("/static/app/x");
    EXPECT_EQ(r.kind, route_kind::handler);
    EXPECT_EQ(r.mount, "/static/app");
}

TEST_F(alias_routing, explain_names_the_alias) {
    auto r = at("/static/css/site.css");
    request_line req{"www.example.com", "GET", "/static/css/site.css"};
    const std::string text = explain(r, req);
    EXPECT_NE(text.find("alias: /static -> /srv/app/collected (sites.d/www.toml:30:1)"), std::string::npos) << text;
    const std::string json = explain_json(r, req);
    EXPECT_NE(json.find("\"alias\": {\"url\": \"/static\", \"path\": \"/srv/app/collected\""), std::string::npos)
        << json;
}

}  // namespace
}  // namespace subhttpd::hosts

namespace subhttpd::hosts {
namespace {

TEST(alias_beside_app, alias_beats_a_wsgi_app_at_the_root) {
    conf::config cfg;
    conf::site s = testing::make_site("www.example.com", "/srv/www");
    s.url_aliases.push_back({"/static", "/srv/app/collected", {}});
    cfg.sites.push_back(std::move(s));
    testing::add_loc(cfg.sites[0], "/").settings.wsgi = "mysite.wsgi:application";
    cfg.sites[0].settings.wsgi = std::nullopt;
    testing::fake_fs fs;
    fs.dir("/srv/www").file("/srv/app/collected/admin/base.css");
    auto r = testing::get(cfg, "/static/admin/base.css", fs);
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(r.filename, "/srv/app/collected/admin/base.css");
    EXPECT_EQ(testing::get(cfg, "/admin/", fs).kind, route_kind::handler);
    EXPECT_EQ(testing::get(cfg, "/static/missing.css", fs).kind, route_kind::not_found);
}

}  // namespace
}  // namespace subhttpd::hosts

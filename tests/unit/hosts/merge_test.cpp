// Block merging (site, directories, locations), per-phase handler selection,
// the `| .ext` filter, wsgi vs handler, and locations that skip the filesystem.
#include <gtest/gtest.h>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

using conf::phase;
using testing::add_dir;
using testing::add_loc;
using testing::fake_fs;
using testing::get;
using testing::make_site;
using testing::set_handler;
using namespace std::chrono_literals;

class merge_test : public ::testing::Test {
protected:
    void SetUp() override {
        cfg_.sites = {make_site("www.example.com", "/srv/www")};
        cfg_.limits.handler_timeout = 7s;
        fs_.file("/srv/www/index.html")
            .file("/srv/www/app/hello.py")
            .file("/srv/www/app/page.html")
            .file("/srv/www/app/sub/deep.py")
            .dir("/srv/www/api");
    }
    conf::site& site() { return cfg_.sites[0]; }
    route at(std::string_view target) const { return get(cfg_, target, fs_); }
    conf::config cfg_;
    fake_fs fs_;
};

std::vector<std::string> paths(const route& r) {
    std::vector<std::string> out;
    for (const auto& b : r.matched) {
        out.push_back((b.type == block_ref::kind::site        ? "site:"
                       : b.type == block_ref::kind::directory ? "dir:"
                                                              : "loc:") +
                      b.path);
    }
    return out;
}

TEST_F(merge_test, order_site_directories_locations_shortest_first) {
    // Declared out of order on purpose: the merge sorts by path length.
    add_dir(site(), "/srv/www/app/sub", 30);
    add_dir(site(), "/srv/www", 31);
    add_dir(site(), "/srv/www/app", 32);
    add_dir(site(), "/srv/www/other", 33);
    add_dir(site(), "/srv/www/ap", 34);  // a name prefix, not a parent
    add_loc(site(), "/app/sub", 40);
    add_loc(site(), "/", 41);
    add_loc(site(), "/app", 42);
    add_loc(site(), "/ap", 43);
    const route r = at("/app/sub/deep.py");
    EXPECT_EQ(paths(r), (std::vector<std::string>{"site:", "dir:/srv/www", "dir:/srv/www/app",
                                                  "dir:/srv/www/app/sub", "loc:/", "loc:/app", "loc:/app/sub"}));
    EXPECT_EQ(r.matched[2].where.line, 32);
}

TEST_F(merge_test, directory_block_of_the_directory_itself_applies) {
    add_dir(site(), "/srv/www/app");
    EXPECT_EQ(paths(at("/app")), (std::vector<std::string>{"site:", "dir:/srv/www/app"}));
    EXPECT_EQ(paths(at("/app/")), (std::vector<std::string>{"site:", "dir:/srv/www/app"}));
    EXPECT_EQ(paths(at("/index.html")), (std::vector<std::string>{"site:"}));
}

TEST_F(merge_test, directory_ties_keep_file_order) {
    auto& a = add_dir(site(), "/srv/www/app", 10);
    a.settings.options["k"] = "first";
    auto& b = add_dir(site(), "/srv/www/app", 11);
    b.settings.options["k"] = "second";
    const route r = at("/app/hello.py");
    ASSERT_EQ(r.matched.size(), 3u);
    EXPECT_EQ(r.matched[1].where.line, 10);
    EXPECT_EQ(r.matched[2].where.line, 11);
    EXPECT_EQ(r.options.at("k"), "second");
}

TEST_F(merge_test, location_prefix_matching) {
    add_loc(site(), "/api");
    EXPECT_EQ(at("/api").matched.size(), 2u);
    EXPECT_EQ(at("/api/").matched.size(), 2u);
    EXPECT_EQ(at("/api/x/y").matched.size(), 2u);
    EXPECT_EQ(at("/apix").matched.size(), 1u);
    EXPECT_EQ(at("/").matched.size(), 1u);
}

TEST_F(merge_test, later_block_overrides_key_by_key) {
    site().settings.debug = true;
    site().settings.offload = true;
    site().settings.autoreload = false;
    auto& d = add_dir(site(), "/srv/www/app");
    d.settings.debug = false;
    d.settings.handler_timeout = 30s;
    auto& l = add_loc(site(), "/app");
    l.settings.auth_type = "Basic";
    l.settings.auth_name = "realm";
    const route r = at("/app/hello.py");
    EXPECT_FALSE(r.debug);          // directory over site
    EXPECT_TRUE(r.offload);         // site, untouched
    EXPECT_FALSE(r.autoreload);     // site, untouched
    EXPECT_EQ(r.handler_timeout, 30s);
    EXPECT_EQ(r.auth_type, "Basic");
    EXPECT_EQ(r.auth_name, "realm");
    const route top = at("/index.html");
    EXPECT_TRUE(top.debug);
    EXPECT_EQ(top.handler_timeout, 7s);  // limits.handler_timeout
}

TEST_F(merge_test, defaults_come_from_server_settings) {
    cfg_.python.debug = true;
    cfg_.python.autoreload = false;
    const route r = at("/index.html");
    EXPECT_TRUE(r.debug);
    EXPECT_FALSE(r.autoreload);
    EXPECT_FALSE(r.offload);
    EXPECT_EQ(r.handler_timeout, 7s);
    cfg_.python.debug = false;
    cfg_.python.autoreload = true;
    EXPECT_FALSE(at("/index.html").debug);
    EXPECT_TRUE(at("/index.html").autoreload);
}

TEST_F(merge_test, options_merge_per_key_and_empty_removes) {
    site().settings.options = {{"db", "sqlite:///x"}, {"mode", "prod"}, {"gone", "soon"}};
    auto& d = add_dir(site(), "/srv/www/app");
    d.settings.options = {{"mode", "dev"}, {"gone", ""}, {"extra", "1"}};
    auto& l = add_loc(site(), "/app/sub");
    l.settings.options = {{"db", ""}, {"gone", "back"}};
    const route r = at("/app/hello.py");
    EXPECT_EQ(r.options, (conf::options_map{{"db", "sqlite:///x"}, {"mode", "dev"}, {"extra", "1"}}));
    const route deep = at("/app/sub/deep.py");
    EXPECT_EQ(deep.options, (conf::options_map{{"mode", "dev"}, {"extra", "1"}, {"gone", "back"}}));
}

TEST_F(merge_test, removing_a_key_that_was_never_set_is_harmless) {
    site().settings.options = {{"x", ""}};
    EXPECT_TRUE(at("/index.html").options.empty());
}

TEST_F(merge_test, handler_at_site_level) {
    set_handler(site().settings, {"hello"});
    const route r = at("/app/hello.py");
    EXPECT_EQ(r.kind, route_kind::handler);
    const auto& c = r.at(phase::content);
    ASSERT_TRUE(c.set);
    ASSERT_EQ(c.handlers.size(), 1u);
    EXPECT_EQ(c.handlers[0].module, "hello");
    EXPECT_EQ(c.handlers[0].callable, "handler");
    EXPECT_EQ(c.from.type, block_ref::kind::site);
    EXPECT_EQ(c.module_dir, "/srv/www");
}

TEST_F(merge_test, handler_runs_without_a_file) {
    auto& d = add_dir(site(), "/srv/www/app");
    set_handler(d.settings, {"hello::app"});
    const route r = at("/app/not/there");
    EXPECT_EQ(r.kind, route_kind::handler);
    EXPECT_EQ(r.filename, "/srv/www/app/not");
    EXPECT_EQ(r.path_info, "/there");
    EXPECT_EQ(r.at(phase::content).handlers[0].callable, "app");
    EXPECT_EQ(r.at(phase::content).module_dir, "/srv/www/app");
    // A directory named without '/' goes to the handler, not a redirect.
    const route dir = at("/app");
    EXPECT_EQ(dir.kind, route_kind::handler);
    EXPECT_EQ(dir.redirect_location, "");
    EXPECT_EQ(http_status(dir.kind), 200);
}

TEST_F(merge_test, last_block_setting_a_phase_wins_whole_list) {
    set_handler(site().settings, {"a", "b"});
    auto& d = add_dir(site(), "/srv/www/app");
    set_handler(d.settings, {"c::run"});
    const route r = at("/app/hello.py");
    const auto& c = r.at(phase::content);
    ASSERT_EQ(c.handlers.size(), 1u);
    EXPECT_EQ(c.handlers[0].module, "c");
    EXPECT_EQ(c.from.type, block_ref::kind::directory);
    EXPECT_EQ(c.from.path, "/srv/www/app");
    const route top = at("/index.html");
    ASSERT_EQ(top.at(phase::content).handlers.size(), 2u);
    EXPECT_EQ(top.at(phase::content).handlers[1].module, "b");
}

TEST_F(merge_test, every_phase_and_its_default_callable) {
    for (const phase p : conf::all_phases) {
        set_handler(site().settings, {"mod"}, p);
    }
    const route r = at("/index.html");
    for (const phase p : conf::all_phases) {
        const auto& pr = r.at(p);
        ASSERT_TRUE(pr.set) << conf::phase_key(p);
        ASSERT_EQ(pr.handlers.size(), 1u);
        EXPECT_EQ(pr.handlers[0].module, "mod");
        EXPECT_EQ(pr.handlers[0].callable, conf::phase_default_callable(p));
    }
    EXPECT_EQ(r.at(phase::access).handlers[0].callable, "accesshandler");
    EXPECT_EQ(r.at(phase::authen).handlers[0].callable, "authenhandler");
    EXPECT_EQ(r.at(phase::authz).handlers[0].callable, "authzhandler");
    EXPECT_EQ(r.at(phase::fixup).handlers[0].callable, "fixuphandler");
    EXPECT_EQ(r.at(phase::log).handlers[0].callable, "loghandler");
    EXPECT_EQ(r.at(phase::cleanup).handlers[0].callable, "cleanuphandler");
}

TEST_F(merge_test, phases_come_from_different_blocks) {
    set_handler(site().settings, {"auth::check"}, phase::authen);
    auto& d = add_dir(site(), "/srv/www/app");
    set_handler(d.settings, {"hello"});
    set_handler(d.settings, {"fix"}, phase::fixup);
    auto& l = add_loc(site(), "/app");
    set_handler(l.settings, {"logger"}, phase::log);
    const route r = at("/app/hello.py");
    EXPECT_EQ(r.at(phase::authen).from.type, block_ref::kind::site);
    EXPECT_EQ(r.at(phase::authen).handlers[0].callable, "check");
    EXPECT_EQ(r.at(phase::content).from.type, block_ref::kind::directory);
    EXPECT_EQ(r.at(phase::fixup).from.type, block_ref::kind::directory);
    EXPECT_EQ(r.at(phase::log).from.type, block_ref::kind::location);
    EXPECT_EQ(r.at(phase::log).module_dir, "/srv/www");
    EXPECT_FALSE(r.at(phase::access).set);
    EXPECT_FALSE(r.at(phase::cleanup).set);
    // The log location has no content handler: the filesystem still maps.
    EXPECT_EQ(r.filename, "/srv/www/app/hello.py");
    EXPECT_EQ(r.mount, "");
}

TEST_F(merge_test, other_phases_keep_static_kind) {
    set_handler(site().settings, {"auth"}, phase::authen);
    set_handler(site().settings, {"acc"}, phase::access);
    const route r = at("/index.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_TRUE(r.at(phase::authen).set);
    EXPECT_TRUE(r.at(phase::access).set);
    EXPECT_EQ(r.at(phase::access).interpreter, "www.example.com");
    EXPECT_EQ(at("/app").kind, route_kind::directory_redirect);
    EXPECT_EQ(at("/nope").kind, route_kind::not_found);
}

TEST_F(merge_test, extension_filter) {
    auto& d = add_dir(site(), "/srv/www/app");
    set_handler(d.settings, {"hello | .py .pyc", "pages::show | .html"});
    const route py = at("/app/hello.py");
    ASSERT_EQ(py.at(phase::content).handlers.size(), 1u);
    EXPECT_EQ(py.at(phase::content).handlers[0].module, "hello");
    EXPECT_EQ(py.kind, route_kind::handler);
    const route html = at("/app/page.html");
    ASSERT_EQ(html.at(phase::content).handlers.size(), 1u);
    EXPECT_EQ(html.at(phase::content).handlers[0].module, "pages");
    EXPECT_EQ(html.at(phase::content).handlers[0].callable, "show");
    // Nothing left: the phase is unset and the directory is served statically.
    const route none = at("/app/");
    EXPECT_FALSE(none.at(phase::content).set);
    EXPECT_EQ(none.kind, route_kind::forbidden);
    EXPECT_EQ(at("/app").kind, route_kind::directory_redirect);
}

TEST_F(merge_test, extension_filter_mixes_with_unfiltered_entries) {
    set_handler(site().settings, {"always", "only_py|.py", "a b | .html"});
    const route html = at("/index.html");
    const auto& h = html.at(phase::content).handlers;
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].module, "always");
    EXPECT_EQ(h[1].module, "a");
    EXPECT_EQ(h[2].module, "b");
    const route py = at("/app/hello.py");
    ASSERT_EQ(py.at(phase::content).handlers.size(), 2u);
    EXPECT_EQ(py.at(phase::content).handlers[1].module, "only_py");
}

TEST_F(merge_test, extension_filter_sees_the_index_file) {
    site().index = {"index.py"};
    fs_.file("/srv/www/app/index.py");
    set_handler(site().settings, {"pub | .py"});
    const route r = at("/app/");
    EXPECT_EQ(r.filename, "/srv/www/app/index.py");
    EXPECT_EQ(r.kind, route_kind::handler);
}

TEST_F(merge_test, handler_then_wsgi_later_wins) {
    set_handler(site().settings, {"hello"});
    auto& d = add_dir(site(), "/srv/www/app");
    d.settings.wsgi = "myapp:application";
    const route r = at("/app/hello.py");
    const auto& c = r.at(phase::content);
    EXPECT_TRUE(c.set);
    EXPECT_EQ(c.wsgi, "myapp:application");
    EXPECT_TRUE(c.handlers.empty());
    EXPECT_EQ(c.from.type, block_ref::kind::directory);
    EXPECT_EQ(r.kind, route_kind::handler);
}

TEST_F(merge_test, wsgi_then_handler_later_wins) {
    site().settings.wsgi = "myapp:application";
    auto& d = add_dir(site(), "/srv/www/app");
    set_handler(d.settings, {"hello"});
    const route r = at("/app/hello.py");
    const auto& c = r.at(phase::content);
    EXPECT_EQ(c.wsgi, "");
    ASSERT_EQ(c.handlers.size(), 1u);
    EXPECT_EQ(at("/index.html").at(phase::content).wsgi, "myapp:application");
}

TEST_F(merge_test, location_with_handler_skips_the_filesystem) {
    auto& d = add_dir(site(), "/srv/www/api");
    d.settings.options["from_dir"] = "1";
    set_handler(d.settings, {"dirhandler"}, phase::fixup);
    auto& l = add_loc(site(), "/api");
    set_handler(l.settings, {"api::serve"});
    const route r = at("/api/users/7/?x=1");
    EXPECT_EQ(r.kind, route_kind::handler);
    EXPECT_EQ(r.uri, "/api/users/7/");
    EXPECT_EQ(r.filename, "/srv/www/api/users/7");
    EXPECT_EQ(r.path_info, "");
    EXPECT_EQ(r.mount, "/api");
    EXPECT_EQ(r.args, "x=1");
    // No directory walk: the <Directory> block does not apply.
    EXPECT_EQ(r.options.count("from_dir"), 0u);
    EXPECT_FALSE(r.at(phase::fixup).set);
    EXPECT_EQ(paths(r), (std::vector<std::string>{"site:", "loc:/api"}));
    EXPECT_EQ(r.at(phase::content).module_dir, "/srv/www");
    EXPECT_EQ(r.at(phase::content).from.type, block_ref::kind::location);
}

TEST_F(merge_test, location_with_wsgi_mount) {
    auto& l = add_loc(site(), "/app");
    l.settings.wsgi = "flaskapp:app";
    const route r = at("/app");
    EXPECT_EQ(r.kind, route_kind::handler);
    EXPECT_EQ(r.mount, "/app");
    EXPECT_EQ(r.filename, "/srv/www/app");
    EXPECT_EQ(r.redirect_location, "");
    const route h = at("/app/hello.py/extra");
    EXPECT_EQ(h.filename, "/srv/www/app/hello.py/extra");  // not mapped
    EXPECT_EQ(h.path_info, "");
}

TEST_F(merge_test, root_location_mount_is_empty) {
    auto& l = add_loc(site(), "/");
    l.settings.wsgi = "app:application";
    const route r = at("/");
    EXPECT_EQ(r.kind, route_kind::handler);
    EXPECT_EQ(r.mount, "");
    EXPECT_EQ(r.filename, "/srv/www");
    const route x = at("/x/y/");
    EXPECT_EQ(x.filename, "/srv/www/x/y");
    EXPECT_EQ(x.mount, "");
}

TEST_F(merge_test, longest_content_location_mounts) {
    add_loc(site(), "/a").settings.wsgi = "outer:app";
    add_loc(site(), "/a/b").settings.wsgi = "inner:app";
    const route r = at("/a/b/c");
    EXPECT_EQ(r.mount, "/a/b");
    EXPECT_EQ(r.at(phase::content).wsgi, "inner:app");
    EXPECT_EQ(at("/a/x").mount, "/a");
}

TEST_F(merge_test, location_without_content_handler_does_not_mount) {
    auto& l = add_loc(site(), "/app");
    l.settings.debug = true;
    const route r = at("/app/hello.py");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(r.mount, "");
    EXPECT_TRUE(r.debug);
}

TEST_F(merge_test, location_whose_filter_drops_everything_falls_back_to_files) {
    auto& l = add_loc(site(), "/app");
    set_handler(l.settings, {"h | .py"});
    const route html = at("/app/page.html");
    EXPECT_EQ(html.kind, route_kind::static_file);
    EXPECT_EQ(html.filename, "/srv/www/app/page.html");
    EXPECT_EQ(html.mount, "");
    const route py = at("/app/hello.py");
    EXPECT_EQ(py.kind, route_kind::handler);
    EXPECT_EQ(py.mount, "/app");
}

TEST_F(merge_test, bad_request_still_carries_site_settings) {
    site().settings.debug = true;
    const route r = at("/%zz");
    EXPECT_EQ(r.kind, route_kind::bad_request);
    EXPECT_TRUE(r.debug);
    EXPECT_EQ(r.matched.size(), 1u);
}

TEST_F(merge_test, output_and_input_filters_merge_like_a_phase) {
    site().settings.output_filters = std::vector<std::string>{"gz"};
    auto& app = add_dir(site(), "/srv/www/app");
    app.settings.output_filters = std::vector<std::string>{"up::shout", "br"};
    app.settings.input_filters = std::vector<std::string>{"rot"};
    const route r = at("/app/hello.py");
    ASSERT_TRUE(r.output_filter.set);
    ASSERT_EQ(r.output_filter.handlers.size(), 2u);
    EXPECT_EQ(r.output_filter.handlers[0].module, "up");
    EXPECT_EQ(r.output_filter.handlers[0].callable, "shout");
    EXPECT_EQ(r.output_filter.handlers[1].callable, "outputfilter");
    EXPECT_EQ(r.output_filter.from.path, "/srv/www/app");
    EXPECT_EQ(r.input_filter.handlers[0].callable, "inputfilter");
    EXPECT_EQ(r.output_filter.interpreter, "www.example.com");
    const route top = at("/index.html");
    ASSERT_TRUE(top.output_filter.set);
    EXPECT_EQ(top.output_filter.handlers[0].module, "gz");
    EXPECT_FALSE(top.input_filter.set);
}

TEST_F(merge_test, a_filename_chosen_by_a_trans_handler_picks_its_blocks) {
    auto& app = add_dir(site(), "/srv/www/app");
    set_handler(app.settings, {"apph"}, phase::content);
    const route r = resolve_filename(cfg_, site(), "/virtual/x", "q=1", "/srv/www/app/page.html", "/more", fs_);
    EXPECT_EQ(r.kind, route_kind::handler);
    EXPECT_EQ(r.filename, "/srv/www/app/page.html");
    EXPECT_EQ(r.path_info, "/more");
    EXPECT_EQ(r.uri, "/virtual/x");
    EXPECT_EQ(r.args, "q=1");
    EXPECT_EQ(r.at(phase::content).handlers[0].module, "apph");
    const route file = resolve_filename(cfg_, site(), "/v", "", "/srv/www/index.html", "", fs_);
    EXPECT_EQ(file.kind, route_kind::static_file);
    const route missing = resolve_filename(cfg_, site(), "/v", "", "/srv/www/nothing", "", fs_);
    EXPECT_EQ(missing.kind, route_kind::not_found);
}

TEST_F(merge_test, a_rewritten_uri_is_mapped_again) {
    const route r = resolve_uri(cfg_, site(), "/app/hello.py", "", fs_);
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(r.filename, "/srv/www/app/hello.py");
    const route bad = resolve_uri(cfg_, site(), "/../etc/passwd", "", fs_);
    EXPECT_EQ(bad.kind, route_kind::bad_request);
}

}  // namespace
}  // namespace subhttpd::hosts

// `subhttpd route` output: the human text and the JSON object.
#include <gtest/gtest.h>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

using conf::phase;
using testing::add_dir;
using testing::add_loc;
using testing::fake_fs;
using testing::make_site;
using testing::set_handler;

// gmock is not part of the build: a substring check that prints the haystack.
::testing::AssertionResult has(const std::string& text, std::string_view needle) {
    if (text.find(needle) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "missing: " << needle << "\nin:\n" << text;
}

class explain_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = make_site("www.example.com", "/srv/htdocs");
        s.file = "sites.d/a.toml";
        s.where = {"sites.d/a.toml", 1, 1};
        s.settings.where = s.where;
        s.settings.options = {{"db", "sqlite:///x"}};
        auto& d = add_dir(s, "/srv/htdocs/app", 12);
        d.settings.where.file = "sites.d/a.toml";
        set_handler(d.settings, {"hello"});
        d.settings.interp_per_directory = true;
        d.settings.options = {{"mode", "dev"}};
        d.settings.offload = true;
        auto& l = add_loc(s, "/api", 30);
        l.settings.where.file = "sites.d/a.toml";
        l.settings.wsgi = "myapp.wsgi:application";
        l.settings.interp_per_directive = true;
        cfg_.sites = {s};
        cfg_.limits.handler_timeout = std::chrono::milliseconds(2500);
        fs_.file("/srv/htdocs/app/hello.py").file("/srv/htdocs/static.css");
    }
    conf::config cfg_;
    fake_fs fs_;
};

TEST_F(explain_test, handler_route_text) {
    const request_line req{"www.example.com:8080", "GET", "/app/hello.py/extra?a=1"};
    const route r = resolve(cfg_, req, fs_);
    const std::string text = explain(r, req);
    EXPECT_TRUE(has(text, "site: www.example.com (sites.d/a.toml:1:1)\n"));
    EXPECT_TRUE(has(text, "uri: /app/hello.py/extra   args: a=1\n"));
    EXPECT_TRUE(has(text, "filename: /srv/htdocs/app/hello.py\n"));
    EXPECT_TRUE(has(text, "path_info: /extra\n"));
    EXPECT_TRUE(has(text, "kind: handler"));
    EXPECT_TRUE(has(text, "blocks: site www.example.com (sites.d/a.toml:1:1); "
                                "directory /srv/htdocs/app (sites.d/a.toml:12:1)\n"));
    EXPECT_TRUE(has(text, "handler (PythonHandler): hello::handler  "
                                "[from directory /srv/htdocs/app (sites.d/a.toml:12:1)]\n"));
    EXPECT_TRUE(has(text, "interpreter: /srv/htdocs/app/  (rule: interp_per_directory)\n"));
    EXPECT_TRUE(has(text, "options: db=sqlite:///x mode=dev\n"));
    EXPECT_TRUE(has(text, "offload: yes"));
    EXPECT_TRUE(has(text, "handler_timeout: 2500ms"));
    EXPECT_FALSE(has(text, ("access_handler")));
}

TEST_F(explain_test, wsgi_location_text) {
    const request_line req{"www.example.com", "POST", "/api/v1"};
    const route r = resolve(cfg_, req, fs_);
    const std::string text = explain(r, req);
    EXPECT_TRUE(has(text, "request: POST /api/v1"));
    EXPECT_TRUE(has(text, "mount: /api\n"));
    EXPECT_TRUE(has(text, "handler (wsgi): myapp.wsgi:application  [from location /api (sites.d/a.toml:30:1)]"));
    EXPECT_TRUE(has(text, "interpreter: /api/  (rule: interp_per_directive)"));
}

TEST_F(explain_test, redirect_and_static_text) {
    fs_.dir("/srv/htdocs/docs");
    const request_line req{"www.example.com", "GET", "/docs?x=1"};
    const std::string text = explain(resolve(cfg_, req, fs_), req);
    EXPECT_TRUE(has(text, "kind: directory_redirect (301)"));
    EXPECT_TRUE(has(text, "redirect: /docs/?x=1\n"));
    const request_line css{"www.example.com", "GET", "/static.css"};
    EXPECT_TRUE(has(explain(resolve(cfg_, css, fs_), css), "kind: static_file (200)"));
}

TEST_F(explain_test, no_site_text) {
    conf::config empty;
    const request_line req{"x", "GET", "/"};
    const std::string text = explain(resolve(empty, req, fs_), req);
    EXPECT_TRUE(has(text, "kind: no_site"));
}

TEST_F(explain_test, control_characters_are_escaped_in_text) {
    const request_line req{"www.example.com", "GET", "/a%1bb"};
    const std::string text = explain(resolve(cfg_, req, fs_), req);
    EXPECT_TRUE(has(text, "uri: /a\\x1Bb"));
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST_F(explain_test, json_handler_route) {
    const request_line req{"www.example.com", "GET", "/app/hello.py/extra?a=1"};
    const std::string json = explain_json(resolve(cfg_, req, fs_), req);
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.back(), '}');
    EXPECT_TRUE(has(json, "\"site\": \"www.example.com\""));
    EXPECT_TRUE(has(json, "\"uri\": \"/app/hello.py/extra\""));
    EXPECT_TRUE(has(json, "\"args\": \"a=1\""));
    EXPECT_TRUE(has(json, "\"filename\": \"/srv/htdocs/app/hello.py\""));
    EXPECT_TRUE(has(json, "\"path_info\": \"/extra\""));
    EXPECT_TRUE(has(json, "\"kind\": \"handler\""));
    EXPECT_TRUE(has(json, "\"status\": 200"));
    EXPECT_TRUE(has(json, "\"blocks\": [{\"type\": \"site\", \"path\": \"\", \"where\": \"sites.d/a.toml:1:1\""));
    EXPECT_TRUE(has(json, "\"phases\": {\"handler\": {\"handlers\": [\"hello::handler\"], \"wsgi\": \"\", "
                                "\"block\": \"directory /srv/htdocs/app (sites.d/a.toml:12:1)\", "
                                "\"module_dir\": \"/srv/htdocs/app\", "
                                "\"interpreter\": \"/srv/htdocs/app/\", \"rule\": \"interp_per_directory\"}}"));
    EXPECT_TRUE(has(json, "\"options\": {\"db\": \"sqlite:///x\", \"mode\": \"dev\"}"));
    EXPECT_TRUE(has(json, "\"offload\": true"));
    EXPECT_TRUE(has(json, "\"debug\": false"));
    EXPECT_TRUE(has(json, "\"autoreload\": true"));
    EXPECT_TRUE(has(json, "\"handler_timeout_ms\": 2500"));
    EXPECT_TRUE(has(json, "\"mount\": \"\""));
    EXPECT_TRUE(has(json, "\"redirect\": \"\""));
}

TEST_F(explain_test, json_status_per_kind) {
    fs_.dir("/srv/htdocs/docs");
    auto status_of = [&](std::string_view target) {
        const request_line req{"www.example.com", "GET", target};
        const std::string json = explain_json(resolve(cfg_, req, fs_), req);
        const auto at = json.find("\"status\": ");
        return json.substr(at + 10, 3);
    };
    EXPECT_EQ(status_of("/static.css"), "200");
    EXPECT_EQ(status_of("/docs"), "301");
    EXPECT_EQ(status_of("/docs/"), "403");
    EXPECT_EQ(status_of("/nope"), "404");
    EXPECT_EQ(status_of("/%zz"), "400");
}

TEST_F(explain_test, json_wsgi_phase) {
    const request_line req{"www.example.com", "GET", "/api/x"};
    const std::string json = explain_json(resolve(cfg_, req, fs_), req);
    EXPECT_TRUE(has(json, "\"handler\": {\"handlers\": [], \"wsgi\": \"myapp.wsgi:application\""));
    EXPECT_TRUE(has(json, "\"rule\": \"interp_per_directive\""));
    EXPECT_TRUE(has(json, "\"mount\": \"/api\""));
}

TEST_F(explain_test, json_escaping) {
    // A quote, a backslash, a control byte and an invalid UTF-8 byte.
    const request_line req{"www.example.com", "GET", "/q%22b%5cc%01d%ffe%c3%a9?x=\"y\""};
    const std::string json = explain_json(resolve(cfg_, req, fs_), req);
    EXPECT_TRUE(has(json, "\"uri\": \"/q\\\"b\\\\c\\u0001d\\ufffde\xc3\xa9\""));
    EXPECT_TRUE(has(json, "\"args\": \"x=\\\"y\\\"\""));
    for (const char c : json) {
        EXPECT_GE(static_cast<unsigned char>(c), 0x20u);
    }
}

TEST(explain_names, rule_and_kind_names) {
    EXPECT_EQ(rule_name(interp_rule::interpreter), "interpreter");
    EXPECT_EQ(rule_name(interp_rule::per_directory), "interp_per_directory");
    EXPECT_EQ(rule_name(interp_rule::per_directive), "interp_per_directive");
    EXPECT_EQ(rule_name(interp_rule::per_directive_site), "interp_per_directive_site");
    EXPECT_EQ(rule_name(interp_rule::server_name), "server_name");
    EXPECT_EQ(kind_name(route_kind::static_file), "static_file");
    EXPECT_EQ(kind_name(route_kind::directory_redirect), "directory_redirect");
    EXPECT_EQ(http_status(route_kind::handler), 200);
}

TEST(explain_names, describe_blocks) {
    block_ref d{block_ref::kind::directory, "/srv/site/app", {"sites.d/a.toml", 12, 1}};
    EXPECT_EQ(describe(d), "directory /srv/site/app (sites.d/a.toml:12:1)");
    block_ref l{block_ref::kind::location, "/api", {}};
    EXPECT_EQ(describe(l), "location /api");
    block_ref s{block_ref::kind::site, "", {"x.toml", 1, 1}};
    EXPECT_EQ(describe(s), "site (x.toml:1:1)");
}

}  // namespace
}  // namespace subhttpd::hosts

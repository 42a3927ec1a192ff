// Host header -> site: ports, case, trailing dots, aliases, wildcards, default.
#include <gtest/gtest.h>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

using testing::make_site;

class site_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto a = make_site("www.example.com", "/srv/a");
        a.aliases = {"example.com", "*.example.org"};
        auto b = make_site("other.test", "/srv/b");
        b.aliases = {"*.deep.example.org"};
        auto c = make_site("fallback.test", "/srv/c");
        c.is_default = true;
        auto v6 = make_site("::1", "/srv/v6");
        cfg_.sites = {a, b, c, v6};
    }
    std::string site_of(std::string_view host) const {
        const conf::site* s = find_site(cfg_, host);
        return s ? s->server_name : "<null>";
    }
    conf::config cfg_;
};

TEST_F(site_test, exact_server_name) { EXPECT_EQ(site_of("www.example.com"), "www.example.com"); }

TEST_F(site_test, port_is_stripped) {
    EXPECT_EQ(site_of("www.example.com:8080"), "www.example.com");
    EXPECT_EQ(site_of("other.test:80"), "other.test");
}

TEST_F(site_test, case_insensitive) {
    EXPECT_EQ(site_of("WWW.Example.COM"), "www.example.com");
    EXPECT_EQ(site_of("Other.TEST:443"), "other.test");
}

TEST_F(site_test, trailing_dot_ignored) {
    EXPECT_EQ(site_of("www.example.com."), "www.example.com");
    EXPECT_EQ(site_of("other.test.:8080"), "other.test");
}

TEST_F(site_test, alias_exact) { EXPECT_EQ(site_of("example.com"), "www.example.com"); }

TEST_F(site_test, wildcard_alias_matches_subdomains_only) {
    EXPECT_EQ(site_of("foo.example.org"), "www.example.com");
    EXPECT_EQ(site_of("a.b.example.org:81"), "www.example.com");
    // The bare domain is not a sub-domain: it falls to the default site.
    EXPECT_EQ(site_of("example.org"), "fallback.test");
    EXPECT_EQ(site_of("badexample.org"), "fallback.test");
}

TEST_F(site_test, most_specific_wildcard_wins) {
    EXPECT_EQ(site_of("x.deep.example.org"), "other.test");
    EXPECT_EQ(site_of("deep.example.org"), "www.example.com");
}

TEST_F(site_test, ipv6_literal_with_port) {
    EXPECT_EQ(site_of("[::1]:8080"), "::1");
    EXPECT_EQ(site_of("[::1]"), "::1");
}

TEST_F(site_test, unknown_host_gets_default) {
    EXPECT_EQ(site_of("nobody.invalid"), "fallback.test");
    EXPECT_EQ(site_of(""), "fallback.test");
    EXPECT_EQ(site_of("127.0.0.1:8080"), "fallback.test");
}

TEST_F(site_test, without_default_the_first_site) {
    cfg_.sites[2].is_default = false;
    EXPECT_EQ(site_of("nobody.invalid"), "www.example.com");
}

TEST(site_none, no_sites_is_no_site) {
    conf::config cfg;
    EXPECT_EQ(find_site(cfg, "x"), nullptr);
    testing::fake_fs fs;
    const route r = resolve(cfg, {"x", "GET", "/"}, fs);
    EXPECT_EQ(r.kind, route_kind::no_site);
    EXPECT_EQ(r.site, nullptr);
    EXPECT_EQ(http_status(r.kind), 404);
}

TEST_F(site_test, resolve_uses_host_header) {
    testing::fake_fs fs;
    fs.file("/srv/b/index.html");
    const route r = resolve(cfg_, {"other.test:8080", "GET", "/index.html"}, fs);
    ASSERT_NE(r.site, nullptr);
    EXPECT_EQ(r.site->server_name, "other.test");
    EXPECT_EQ(r.filename, "/srv/b/index.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

TEST_F(site_test, absolute_form_target_names_the_host) {
    testing::fake_fs fs;
    fs.file("/srv/b/x.html");
    const route r = resolve(cfg_, {"www.example.com", "GET", "http://other.test:8080/x.html?q=1"}, fs);
    EXPECT_EQ(r.site->server_name, "other.test");
    EXPECT_EQ(r.uri, "/x.html");
    EXPECT_EQ(r.args, "q=1");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

}  // namespace
}  // namespace subhttpd::hosts

// URL -> uri (decoding, normalisation, escape attempts) and uri -> filename +
// path_info (the directory walk, index files, redirects, symlinks out).
#include <gtest/gtest.h>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

using testing::fake_fs;
using testing::get;
using testing::make_site;

std::string norm(std::string_view raw) {
    std::string out;
    return normalise_path(raw, out) ? out : "<bad>";
}

TEST(normalise, plain_paths) {
    EXPECT_EQ(norm("/"), "/");
    EXPECT_EQ(norm("/a/b"), "/a/b");
    EXPECT_EQ(norm("/a/b/"), "/a/b/");
}

TEST(normalise, duplicate_slashes_collapse) {
    EXPECT_EQ(norm("//a///b"), "/a/b");
    EXPECT_EQ(norm("/a//"), "/a/");
    EXPECT_EQ(norm("//"), "/");
}

TEST(normalise, dot_segments) {
    EXPECT_EQ(norm("/a/./b"), "/a/b");
    EXPECT_EQ(norm("/a/b/../c"), "/a/c");
    EXPECT_EQ(norm("/a/b/.."), "/a/");
    EXPECT_EQ(norm("/a/."), "/a/");
    EXPECT_EQ(norm("/a/.."), "/");
    EXPECT_EQ(norm("/./"), "/");
    EXPECT_EQ(norm("/a/...b/..."), "/a/...b/...");  // not dot segments
}

TEST(normalise, escaping_the_root_is_rejected) {
    EXPECT_EQ(norm("/.."), "<bad>");
    EXPECT_EQ(norm("/../etc/passwd"), "<bad>");
    EXPECT_EQ(norm("/a/../../etc"), "<bad>");
    EXPECT_EQ(norm("/%2e%2e/etc"), "<bad>");
    EXPECT_EQ(norm("/%2E%2E/etc"), "<bad>");
    EXPECT_EQ(norm("/a/%2e%2e/%2e%2e/x"), "<bad>");
    EXPECT_EQ(norm("/.%2e/x"), "<bad>");
}

TEST(normalise, encoded_dots_are_dots) {
    EXPECT_EQ(norm("/a/%2e%2e/b"), "/b");
    EXPECT_EQ(norm("/a/%2e/b"), "/a/b");
}

TEST(normalise, encoded_slash_is_a_separator_after_decoding) {
    EXPECT_EQ(norm("/a%2fb"), "/a/b");
    EXPECT_EQ(norm("/a%2F%2Fb%2f"), "/a/b/");
    EXPECT_EQ(norm("/a/..%2f..%2fetc"), "<bad>");
    EXPECT_EQ(norm("/%2f%2e%2e%2fetc"), "<bad>");
    EXPECT_EQ(norm("/x/..%2fy"), "/y");
}

TEST(normalise, backslash_is_an_ordinary_character) {
    EXPECT_EQ(norm("/a\\..\\b"), "/a\\..\\b");
    EXPECT_EQ(norm("/..\\etc"), "/..\\etc");
    EXPECT_EQ(norm("/a/%5c..%5c"), "/a/\\..\\");
}

TEST(normalise, percent_decoding) {
    EXPECT_EQ(norm("/hello%20world"), "/hello world");
    EXPECT_EQ(norm("/%41%62"), "/Ab");
    EXPECT_EQ(norm("/%3f"), "/?");
}

TEST(normalise, bad_escapes_rejected) {
    EXPECT_EQ(norm("/%"), "<bad>");
    EXPECT_EQ(norm("/%2"), "<bad>");
    EXPECT_EQ(norm("/%zz"), "<bad>");
    EXPECT_EQ(norm("/a%g1"), "<bad>");
    EXPECT_EQ(norm("/%%41"), "<bad>");
}

TEST(normalise, nul_rejected) {
    EXPECT_EQ(norm("/a%00b"), "<bad>");
    EXPECT_EQ(norm(std::string_view("/a\0b", 4)), "<bad>");
}

TEST(normalise, must_start_with_slash) {
    EXPECT_EQ(norm(""), "<bad>");
    EXPECT_EQ(norm("a/b"), "<bad>");
    EXPECT_EQ(norm("*"), "<bad>");
}

class path_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = make_site("www.example.com", "/srv/www");
        s.index = {"index.html", "index.py"};
        cfg_.sites = {s};
        fs_.file("/srv/www/hello.html")
            .file("/srv/www/app/hello.py")
            .file("/srv/www/app/index.py")
            .file("/srv/www/both/index.html")
            .file("/srv/www/both/index.py")
            .dir("/srv/www/empty")
            .dir("/srv/www/sub/deeper")
            .file("/srv/www/with space/a b.html");
    }
    route at(std::string_view target) const { return get(cfg_, target, fs_); }
    conf::config cfg_;
    fake_fs fs_;
};

TEST_F(path_test, query_split_off) {
    const route r = at("/hello.html?a=1&b=%20");
    EXPECT_EQ(r.uri, "/hello.html");
    EXPECT_EQ(r.args, "a=1&b=%20");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(at("/hello.html?").args, "");
    EXPECT_EQ(at("/hello.html").args, "");
}

TEST_F(path_test, static_file) {
    const route r = at("/hello.html");
    EXPECT_EQ(r.filename, "/srv/www/hello.html");
    EXPECT_EQ(r.path_info, "");
    EXPECT_EQ(r.kind, route_kind::static_file);
    EXPECT_EQ(http_status(r.kind), 200);
}

TEST_F(path_test, decoded_names) {
    const route r = at("/with%20space/a%20b.html");
    EXPECT_EQ(r.uri, "/with space/a b.html");
    EXPECT_EQ(r.filename, "/srv/www/with space/a b.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

TEST_F(path_test, file_with_path_info) {
    const route r = at("/app/hello.py/extra/more");
    EXPECT_EQ(r.filename, "/srv/www/app/hello.py");
    EXPECT_EQ(r.path_info, "/extra/more");
    // Without a handler a file with path_info is not served.
    EXPECT_EQ(r.kind, route_kind::not_found);
}

TEST_F(path_test, file_with_trailing_slash_has_slash_path_info) {
    const route r = at("/app/hello.py/");
    EXPECT_EQ(r.filename, "/srv/www/app/hello.py");
    EXPECT_EQ(r.path_info, "/");
    const route r2 = at("/app/hello.py/x/");
    EXPECT_EQ(r2.path_info, "/x/");
}

TEST_F(path_test, first_missing_component_ends_the_filename) {
    // Apache's walk: the first segment that does not exist still belongs to the
    // filename (mod_python's publisher relies on it); the rest is path_info.
    const route r = at("/sub/nope/x");
    EXPECT_EQ(r.filename, "/srv/www/sub/nope");
    EXPECT_EQ(r.path_info, "/x");
    EXPECT_EQ(r.kind, route_kind::not_found);
    const route r2 = at("/nothing.html");
    EXPECT_EQ(r2.filename, "/srv/www/nothing.html");
    EXPECT_EQ(r2.path_info, "");
    EXPECT_EQ(r2.kind, route_kind::not_found);
    EXPECT_EQ(http_status(r2.kind), 404);
}

TEST_F(path_test, directory_with_and_without_slash) {
    const route with = at("/sub/deeper/");
    EXPECT_EQ(with.filename, "/srv/www/sub/deeper");
    EXPECT_EQ(with.path_info, "");
    const route without = at("/sub/deeper");
    EXPECT_EQ(without.filename, "/srv/www/sub/deeper");
    EXPECT_EQ(without.path_info, "");
}

TEST_F(path_test, directory_redirect) {
    const route r = at("/sub");
    EXPECT_EQ(r.kind, route_kind::directory_redirect);
    EXPECT_EQ(r.redirect_location, "/sub/");
    EXPECT_EQ(http_status(r.kind), 301);
    const route q = at("/sub?x=1&y=2");
    EXPECT_EQ(q.redirect_location, "/sub/?x=1&y=2");
    const route sp = at("/with%20space");
    EXPECT_EQ(sp.redirect_location, "/with%20space/");
}

// Found by tests/fuzz/fuzz_route: the raw query went into the Location header
// unescaped, so a CR, LF or other control byte could split or break the header.
TEST_F(path_test, directory_redirect_escapes_the_query) {
    EXPECT_EQ(at("/sub?a\r\nSet-Cookie: x=1").redirect_location, "/sub/?a%0D%0ASet-Cookie:%20x=1");
    EXPECT_EQ(at("/sub?q=%41#frag\x7f\xc3\xa9").redirect_location, "/sub/?q=%41%23frag%7F%C3%A9");
}

TEST_F(path_test, directory_without_index_is_forbidden) {
    const route r = at("/empty/");
    EXPECT_EQ(r.filename, "/srv/www/empty");
    EXPECT_EQ(r.kind, route_kind::forbidden);
    EXPECT_EQ(http_status(r.kind), 403);
}

TEST_F(path_test, index_files_in_order) {
    EXPECT_EQ(at("/both/").filename, "/srv/www/both/index.html");
    EXPECT_EQ(at("/both/").kind, route_kind::static_file);
    EXPECT_EQ(at("/app/").filename, "/srv/www/app/index.py");
    cfg_.sites[0].index = {"index.py", "index.html"};
    EXPECT_EQ(at("/both/").filename, "/srv/www/both/index.py");
}

TEST_F(path_test, index_only_with_trailing_slash) {
    const route r = at("/both");
    EXPECT_EQ(r.filename, "/srv/www/both");
    EXPECT_EQ(r.kind, route_kind::directory_redirect);
}

TEST_F(path_test, index_must_be_a_file) {
    fs_.dir("/srv/www/d/index.html");
    const route r = at("/d/");
    EXPECT_EQ(r.filename, "/srv/www/d");
    EXPECT_EQ(r.kind, route_kind::forbidden);
}

TEST_F(path_test, root) {
    fs_.file("/srv/www/index.html");
    const route r = at("/");
    EXPECT_EQ(r.uri, "/");
    EXPECT_EQ(r.filename, "/srv/www/index.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

TEST_F(path_test, bad_requests) {
    for (const char* t : {"/%zz", "/a%00", "/../x", "/%2e%2e/etc/passwd", "*", "relative", "/a/..%2f..%2f"}) {
        const route r = at(t);
        EXPECT_EQ(r.kind, route_kind::bad_request) << t;
        EXPECT_EQ(r.filename, "") << t;
        EXPECT_EQ(http_status(r.kind), 400) << t;
        ASSERT_NE(r.site, nullptr);
    }
}

TEST_F(path_test, dots_inside_the_root_resolve) {
    const route r = at("/sub/../hello.html");
    EXPECT_EQ(r.uri, "/hello.html");
    EXPECT_EQ(r.filename, "/srv/www/hello.html");
    const route e = at("/sub/%2e%2e/app/hello.py");
    EXPECT_EQ(e.filename, "/srv/www/app/hello.py");
}

TEST_F(path_test, encoded_slash_maps_like_a_slash) {
    const route r = at("/app%2fhello.py");
    EXPECT_EQ(r.uri, "/app/hello.py");
    EXPECT_EQ(r.filename, "/srv/www/app/hello.py");
}

TEST_F(path_test, backslash_never_separates) {
    fs_.file("/srv/www/a\\b");
    const route r = at("/a%5cb");
    EXPECT_EQ(r.filename, "/srv/www/a\\b");
    const route esc = at("/..%5c..%5cetc%5cpasswd");
    EXPECT_EQ(esc.uri, "/..\\..\\etc\\passwd");
    EXPECT_EQ(esc.filename, "/srv/www/..\\..\\etc\\passwd");
    EXPECT_EQ(esc.path_info, "");
    EXPECT_EQ(esc.kind, route_kind::not_found);
}

TEST_F(path_test, symlink_out_of_root_is_forbidden) {
    fs_.file("/etc/passwd").link("/srv/www/etc", "/etc").link("/srv/www/pw", "/etc/passwd");
    const route r = at("/etc/passwd");
    EXPECT_EQ(r.kind, route_kind::forbidden);
    const route d = at("/etc/");
    EXPECT_EQ(d.kind, route_kind::forbidden);
    const route f = at("/pw");
    EXPECT_EQ(f.kind, route_kind::forbidden);
    const route m = at("/etc/nothing");  // the walk stops inside the link
    EXPECT_EQ(m.kind, route_kind::forbidden);
}

TEST_F(path_test, symlink_inside_root_is_fine) {
    fs_.link("/srv/www/alias.html", "/srv/www/hello.html");
    const route r = at("/alias.html");
    EXPECT_EQ(r.filename, "/srv/www/alias.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

TEST_F(path_test, symlinked_document_root) {
    auto& s = cfg_.sites[0];
    s.document_root = "/srv/current";
    fs_.dir("/srv/releases/7").file("/srv/releases/7/x.html").link("/srv/current", "/srv/releases/7");
    const route r = at("/x.html");
    EXPECT_EQ(r.filename, "/srv/current/x.html");
    EXPECT_EQ(r.kind, route_kind::static_file);
}

TEST_F(path_test, handler_escape_is_still_forbidden) {
    fs_.file("/etc/passwd").link("/srv/www/etc", "/etc");
    testing::set_handler(cfg_.sites[0].settings, {"h"});
    testing::set_handler(cfg_.sites[0].settings, {"acc"}, conf::phase::access);
    const route r = at("/etc/passwd");
    EXPECT_EQ(r.kind, route_kind::forbidden);
    for (const auto& pr : r.phases) {
        EXPECT_FALSE(pr.set);  // nothing runs on a file outside the root
    }
    EXPECT_EQ(at("/hello.html").kind, route_kind::handler);
}

TEST_F(path_test, missing_document_root) {
    cfg_.sites[0].document_root = "/srv/gone";
    const route r = at("/x");
    EXPECT_EQ(r.kind, route_kind::not_found);
}

}  // namespace
}  // namespace subhttpd::hosts

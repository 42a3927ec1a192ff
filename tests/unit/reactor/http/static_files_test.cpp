// static_files: MIME types, the error answers, and serve_default over a real
// file: 200 with validators, 304, 412, 206 (one and several ranges), 416, 405,
// directories and missing files.
#include "reactor/http/static_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../../fake_exchange.h"

namespace subhttpd::reactor {
namespace {

using subhttpd::testing::fake_exchange;

TEST(mime_type, common_types_charset_for_text) {
    EXPECT_EQ(mime_type("/srv/a/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("INDEX.HTM"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("data.json"), "application/json; charset=utf-8");
    EXPECT_EQ(mime_type("logo.PNG"), "image/png");
    EXPECT_EQ(mime_type("font.woff2"), "font/woff2");
}

TEST(mime_type, no_or_unknown_extension_is_octet_stream) {
    EXPECT_EQ(mime_type("README"), "application/octet-stream");
    EXPECT_EQ(mime_type("/srv/dir.d/README"), "application/octet-stream");  // the dot is in a folder
    EXPECT_EQ(mime_type("x.no-such-extension-here"), "application/octet-stream");
    EXPECT_EQ(mime_type("trailing."), "application/octet-stream");
}

TEST(send_error, an_error_has_an_html_body_and_keeps_extra_headers) {
    fake_exchange ex;
    ex.write("partial", 7);
    send_error(ex, 404, {{"X-Extra", "1"}});
    EXPECT_TRUE(ex.finished_);
    EXPECT_EQ(ex.status, 404);
    EXPECT_EQ(ex.reason, "Not Found");
    EXPECT_EQ(ex.header("X-Extra"), "1");
    EXPECT_EQ(ex.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(ex.out.find("partial"), std::string::npos);  // what was written before is dropped
    EXPECT_NE(ex.out.find("404"), std::string::npos);
}

TEST(send_error, a_redirect_has_no_body) {
    fake_exchange ex;
    send_error(ex, 301, {{"Location", "/dir/"}});
    EXPECT_EQ(ex.status, 301);
    EXPECT_EQ(ex.out, "");
    EXPECT_EQ(ex.header("Location"), "/dir/");
    EXPECT_FALSE(ex.has_header("Content-Type"));
}

class serve_default_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "static_files.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        file_ = root_ + "/a.txt";
        std::ofstream(file_) << "0123456789";
        std::filesystem::create_directory(root_ + "/dir");
        r_.kind = hosts::route_kind::static_file;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    int serve(const std::string& filename, const std::string& path_info = "") {
        return serve_default(ex_, r_, filename, path_info);
    }
    std::string root_, file_;
    hosts::route r_;
    fake_exchange ex_;
};

TEST_F(serve_default_test, whole_file_with_validators) {
    EXPECT_EQ(serve(file_), 200);
    EXPECT_EQ(ex_.status, 200);
    ASSERT_EQ(ex_.files.size(), 1u);
    EXPECT_EQ(ex_.files[0].offset, 0u);
    EXPECT_EQ(ex_.files[0].length, 10u);
    EXPECT_EQ(ex_.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_FALSE(ex_.header("ETag").empty());
    EXPECT_EQ(ex_.header("Last-Modified").size(), 29u);
    EXPECT_EQ(ex_.header("Accept-Ranges"), "bytes");
}

TEST_F(serve_default_test, an_empty_file_sends_no_slice) {
    std::ofstream(root_ + "/empty.txt").close();
    EXPECT_EQ(serve(root_ + "/empty.txt"), 200);
    EXPECT_TRUE(ex_.files.empty());
}

TEST_F(serve_default_test, matching_etag_is_not_modified) {
    ASSERT_EQ(serve(file_), 200);
    std::string etag = ex_.header("ETag");
    fake_exchange again;
    again.headers_ = {{"If-None-Match", etag}};
    EXPECT_EQ(serve_default(again, r_, file_, ""), 304);
    EXPECT_EQ(again.out, "");
    EXPECT_EQ(again.header("ETag"), etag);
    fake_exchange other;
    other.headers_ = {{"if-none-match", "\"something-else\""}};
    EXPECT_EQ(serve_default(other, r_, file_, ""), 200);
}

TEST_F(serve_default_test, failed_if_match_is_412) {
    ex_.headers_ = {{"If-Match", "\"nope\""}};
    EXPECT_EQ(serve(file_), 412);
    EXPECT_EQ(ex_.status, 412);
    EXPECT_TRUE(ex_.files.empty());
}

TEST_F(serve_default_test, one_range) {
    ex_.headers_ = {{"Range", "bytes=2-4"}};
    EXPECT_EQ(serve(file_), 206);
    ASSERT_EQ(ex_.files.size(), 1u);
    EXPECT_EQ(ex_.files[0].offset, 2u);
    EXPECT_EQ(ex_.files[0].length, 3u);
    EXPECT_EQ(ex_.header("Content-Range"), "bytes 2-4/10");
    EXPECT_FALSE(ex_.has_header("Accept-Ranges"));
}

TEST_F(serve_default_test, several_ranges_are_multipart_in_order) {
    ex_.headers_ = {{"Range", "bytes=0-0,-2"}};
    EXPECT_EQ(serve(file_), 206);
    ASSERT_EQ(ex_.files.size(), 2u);
    EXPECT_EQ(ex_.files[0].offset, 0u);
    EXPECT_EQ(ex_.files[1].offset, 8u);
    std::string ct = ex_.header("Content-Type");
    ASSERT_EQ(ct.rfind("multipart/byteranges; boundary=", 0), 0u) << ct;
    std::string boundary = ct.substr(ct.find('=') + 1);
    EXPECT_NE(ex_.out.find("--" + boundary + "\r\n"), std::string::npos);
    EXPECT_NE(ex_.out.find("Content-Range: bytes 8-9/10"), std::string::npos);
    EXPECT_NE(ex_.out.find("--" + boundary + "--"), std::string::npos);
    EXPECT_LT(ex_.out.find("bytes 0-0/10"), ex_.out.find("bytes 8-9/10"));
}

TEST_F(serve_default_test, unsatisfiable_range_is_416) {
    ex_.headers_ = {{"Range", "bytes=50-60"}};
    EXPECT_EQ(serve(file_), 416);
    EXPECT_EQ(ex_.header("Content-Range"), "bytes */10");
}

TEST_F(serve_default_test, ranges_are_ignored_behind_output_filters) {
    ex_.rewrites = true;
    ex_.headers_ = {{"Range", "bytes=2-4"}};
    EXPECT_EQ(serve(file_), 200);
    ASSERT_EQ(ex_.files.size(), 1u);
    EXPECT_EQ(ex_.files[0].length, 10u);
    EXPECT_FALSE(ex_.has_header("Accept-Ranges"));
}

TEST_F(serve_default_test, only_get_and_head) {
    ex_.method_ = "POST";
    EXPECT_EQ(serve(file_), 405);
    EXPECT_EQ(ex_.header("Allow"), "GET, HEAD");
    fake_exchange head;
    head.method_ = "HEAD";
    EXPECT_EQ(serve_default(head, r_, file_, ""), 200);
}

TEST_F(serve_default_test, missing_directory_and_path_info) {
    EXPECT_EQ(serve(root_ + "/missing.txt"), 404);
    fake_exchange a;
    EXPECT_EQ(serve_default(a, r_, root_ + "/dir", ""), 403);
    fake_exchange b;
    EXPECT_EQ(serve_default(b, r_, file_, "/extra"), 404);
    fake_exchange c;
    EXPECT_EQ(serve_default(c, r_, file_ + "/below", ""), 404);  // ENOTDIR
}

TEST_F(serve_default_test, route_kinds_answer_without_a_file) {
    struct {
        hosts::route_kind kind;
        int status;
    } cases[] = {{hosts::route_kind::forbidden, 403},
                 {hosts::route_kind::bad_request, 400},
                 {hosts::route_kind::not_found, 404},
                 {hosts::route_kind::no_site, 404}};
    for (const auto& c : cases) {
        fake_exchange ex;
        r_.kind = c.kind;
        EXPECT_EQ(serve_default(ex, r_, file_, ""), c.status);
        EXPECT_EQ(ex.status, c.status);
        EXPECT_TRUE(ex.files.empty());
    }
    fake_exchange ex;
    r_.kind = hosts::route_kind::directory_redirect;
    r_.redirect_location = "http://www.example.com/dir/";
    EXPECT_EQ(serve_default(ex, r_, root_ + "/dir", ""), 301);
    EXPECT_EQ(ex.header("Location"), "http://www.example.com/dir/");
}

TEST_F(serve_default_test, a_file_that_cannot_be_sent_is_403) {
    ex_.file_ok = false;
    EXPECT_EQ(serve(file_), 403);
    EXPECT_EQ(ex_.status, 403);
}

TEST_F(serve_default_test, serve_file_sends_kept_bytes_instead_of_the_file) {
    const std::string kept = "0123456789";
    file_facts f = facts_of(file_, 10, 1000);
    EXPECT_EQ(f.type, "text/plain; charset=utf-8");
    EXPECT_EQ(f.last_modified, "Thu, 01 Jan 1970 00:16:40 GMT");
    EXPECT_EQ(serve_file(ex_, file_, f, &kept), 200);
    EXPECT_TRUE(ex_.files.empty());  // written from memory, no file slice
    EXPECT_EQ(ex_.out, kept);
    EXPECT_EQ(ex_.header("ETag"), f.etag);
    fake_exchange ranged;
    ranged.headers_ = {{"Range", "bytes=3-5"}};
    EXPECT_EQ(serve_file(ranged, file_, f, &kept), 206);
    EXPECT_EQ(ranged.out, "345");
    fake_exchange cond;
    cond.headers_ = {{"If-None-Match", f.etag}};
    EXPECT_EQ(serve_file(cond, file_, f, &kept), 304);
    EXPECT_EQ(cond.out, "");
}

}  // namespace
}  // namespace subhttpd::reactor

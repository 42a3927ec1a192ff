// redirect_link: the view of a request (its tables as last exported, headers_in
// as a handler left it) and the read-only snapshot set as req.prev / req.next.
#include "interp/redirect_link.h"

#include <gtest/gtest.h>

#include "request_fixture.h"

namespace subhttpd::interp {
namespace {

using redirect_link = testing::request_test;

TEST_F(redirect_link, view_of_copies_the_request_as_it_stands) {
    ctx_.status = 302;
    ctx_.content_type = "text/html";
    ctx_.user = "alice";
    ctx_.notes = {{"from", "first"}};
    ctx_.headers_out = {{"X-Out", "1"}};
    request_view v = view_of(ctx_, ex_, "site-a");
    EXPECT_EQ(v.interpreter, "site-a");
    EXPECT_EQ(v.method, "POST");
    EXPECT_EQ(v.protocol, "HTTP/1.1");
    EXPECT_EQ(v.uri, "/app/hello.py");
    EXPECT_EQ(v.args, "a=1&b=2");
    EXPECT_EQ(v.the_request, "POST /app/hello.py/extra?a=1&b=2 HTTP/1.1");
    EXPECT_EQ(v.filename, "/srv/www/app/hello.py");
    EXPECT_EQ(v.path_info, "/extra");
    EXPECT_EQ(v.status, 302);
    EXPECT_EQ(v.content_type, "text/html");
    EXPECT_EQ(v.user, "alice");
    EXPECT_EQ(v.notes, ctx_.notes);
    EXPECT_EQ(v.headers_out, ctx_.headers_out);
    EXPECT_EQ(v.headers_in, ex_.headers_);  // the request's own, unless a handler changed it
    ctx_.headers_in = {{"X-Changed", "yes"}};
    ctx_.headers_in_carried = true;
    EXPECT_EQ(view_of(ctx_, ex_, "site-a").headers_in, ctx_.headers_in);
}

TEST_F(redirect_link, the_snapshot_shows_the_view_read_only) {
    request_view v;
    v.interpreter = "site-a";
    v.method = "GET";
    v.uri = "/first";
    v.status = 404;
    v.notes = {{"k", "v"}};
    v.headers_in = {{"Accept", "text/html"}};
    link_snapshot(req_.get(), "prev", v);
    EXPECT_EQ(PyErr_Occurred(), nullptr);
    EXPECT_EQ(val("req.prev.uri"), "'/first'");
    EXPECT_EQ(val("req.prev.method"), "'GET'");
    EXPECT_EQ(val("req.prev.status"), "404");
    EXPECT_EQ(val("req.prev.interpreter"), "'site-a'");
    EXPECT_EQ(val("req.prev.args"), "None");  // no query string: None, as in mod_python
    EXPECT_EQ(val("req.prev.notes['k']"), "'v'");
    EXPECT_EQ(val("req.prev.headers_in['accept']"), "'text/html'");
    EXPECT_EQ(val("req.prev.prev"), "None");
    EXPECT_EQ(val("req.prev.main"), "None");
    EXPECT_EQ(run("req.prev.uri = '/x'"), "AttributeError: a request snapshot from another interpreter is read-only");
    EXPECT_EQ(val("repr(req.prev)"), "\"<request snapshot GET /first from interpreter 'site-a'>\"");
}

TEST_F(redirect_link, snapshot_tables_are_copies) {
    request_view v;
    v.notes = {{"k", "v"}};
    link_snapshot(req_.get(), "next", v);
    EXPECT_EQ(run("req.next.notes['k'] = 'changed'"), "");
    EXPECT_EQ(v.notes[0].second, "v");
    // A new link gives a fresh snapshot.
    link_snapshot(req_.get(), "next", v);
    EXPECT_EQ(val("req.next.notes['k']"), "'v'");
}

TEST_F(redirect_link, text_that_is_not_utf8_still_links) {
    request_view v;
    v.uri = "/caf\xe9";  // a raw byte: surrogate-escaped, not an error
    v.args = "q=\xff";
    link_snapshot(req_.get(), "prev", v);
    EXPECT_EQ(PyErr_Occurred(), nullptr);
    EXPECT_EQ(val("req.prev.uri"), "'/caf\\udce9'");
}

TEST_F(redirect_link, a_failure_is_logged_and_leaves_no_error) {
    request_view v;
    v.uri = "/x";
    ASSERT_EQ(run("class Frozen:\n    __slots__ = ()\nfrozen = Frozen()"), "");
    py::ref frozen = testing::eval("frozen");
    ASSERT_TRUE(frozen);
    link_snapshot(frozen.get(), "prev", v);  // cannot set the attribute
    EXPECT_EQ(PyErr_Occurred(), nullptr);
    EXPECT_EQ(val("hasattr(frozen, 'prev')"), "False");
}

}  // namespace
}  // namespace subhttpd::interp

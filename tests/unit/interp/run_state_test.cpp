// run_state (one pass of a request through its phases), tested through
// interp/dispatch.h as the reactor drives it: mod_python's return codes, error
// answers with err_headers_out only, PythonDebug pages, access control before
// content, SERVER_RETURN, internal redirects, handlers added at run time,
// cleanups.
#include <gtest/gtest.h>

#include "dispatch_fixture.h"

namespace subhttpd::interp {
namespace {

using run_state_test = testing::dispatch_test;
using testing::reg;

TEST_F(run_state_test, an_http_status_is_an_error_answer_with_err_headers_only) {
    outcome o = request("/app/page.txt?notfound");
    EXPECT_EQ(o.status, 404);
    EXPECT_EQ(sent_->status, 404);
    EXPECT_EQ(sent_->header("X-Err"), "kept");
    EXPECT_FALSE(sent_->has_header("X-Out"));  // as Apache: only err_headers_out on errors
}

TEST_F(run_state_test, an_exception_is_a_500_without_the_traceback) {
    outcome o = request("/app/page.txt?raise");
    EXPECT_EQ(o.status, 500);
    EXPECT_EQ(sent_->status, 500);
    EXPECT_EQ(sent_->out.find("boom from the handler"), std::string::npos);  // debug is off here
}

TEST_F(run_state_test, with_debug_the_500_page_shows_the_error) {
    outcome o = request("/app/debug?raise");
    EXPECT_EQ(o.status, 500);
    EXPECT_NE(sent_->out.find("ValueError: boom from the handler"), std::string::npos) << sent_->out;
    EXPECT_NE(sent_->out.find("MOD_PYTHON ERROR"), std::string::npos) << sent_->out;  // no Accept: text/html
}

TEST_F(run_state_test, the_access_phase_stops_the_request_before_content) {
    outcome o = request("/app/page.txt?deny");
    EXPECT_EQ(o.status, 403);
    EXPECT_EQ(sent_->status, 403);
    EXPECT_EQ(sent_->out.find("hello"), std::string::npos);
}

TEST_F(run_state_test, server_return_sets_the_status) {
    outcome o = request("/app/page.txt?server_return");
    EXPECT_EQ(o.status, 403);
}

TEST_F(run_state_test, an_internal_redirect_runs_the_new_uri_here) {
    outcome o = request("/app/page.txt?redirect");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(sent_->out, "hello /app/other.txt from=redirect www.example.com");
}

TEST_F(run_state_test, cleanups_run_after_the_answer) {
    request("/app/page.txt?cleanup");
    EXPECT_EQ(sent_->status, 200);
    scope s(*reg().find("www.example.com"));
    py::ref v = testing::eval("__import__('builtins').cleaned");
    ASSERT_TRUE(v) << py::take_error_text();
    py::ref r = py::ref::steal(PyObject_Repr(v.get()));
    std::string text;
    py::to_string(r.get(), text);
    EXPECT_EQ(text, "['done']");
}

TEST_F(run_state_test, a_handler_added_at_run_time_runs_in_its_phase) {
    request("/app/page.txt?add_log");
    EXPECT_EQ(sent_->status, 200);
    scope s(*reg().find("www.example.com"));
    py::ref v = testing::eval("__import__('builtins').logged");
    ASSERT_TRUE(v) << py::take_error_text();
    py::ref r = py::ref::steal(PyObject_Repr(v.get()));
    std::string text;
    py::to_string(r.get(), text);
    EXPECT_EQ(text, "('PythonLogHandler', 200)");
}

TEST_F(run_state_test, req_status_set_by_an_ok_handler_is_sent) {
    outcome o = request("/app/page.txt?created");
    EXPECT_EQ(o.status, 201);
    EXPECT_EQ(sent_->status, 201);
    EXPECT_NE(sent_->out.find("hello"), std::string::npos);
}

TEST_F(run_state_test, a_return_value_that_is_not_a_status_is_an_error) {
    outcome o = request("/app/page.txt?bad_return");
    EXPECT_EQ(o.status, 500);
}

TEST_F(run_state_test, done_ends_the_content_phase_with_what_was_written) {
    outcome o = request("/app/page.txt?done");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(sent_->out, "done early");
}

TEST_F(run_state_test, head_gets_the_headers_of_get) {
    outcome o = request("/app/page.txt", "HEAD");
    EXPECT_EQ(o.status, 200);
    EXPECT_NE(sent_->header("Content-Type").find("text/plain"), std::string::npos);
    EXPECT_EQ(sent_->header("X-H"), "1");
}

}  // namespace
}  // namespace subhttpd::interp

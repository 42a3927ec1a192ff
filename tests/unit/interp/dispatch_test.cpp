// The dispatcher through its public header: a request answered by a handler,
// DECLINED to the fallback, the outcome the reactor logs, PythonImport.
#include "interp/dispatch.h"

#include <gtest/gtest.h>

#include "dispatch_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::dispatch_test;
using testing::reg;

TEST_F(dispatch_test, ok_sends_what_the_handler_wrote) {
    outcome o = request("/app/page.txt?x=1");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(o.interpreter, "www.example.com");
    EXPECT_FALSE(o.offloaded);
    EXPECT_TRUE(sent_->finished_);
    EXPECT_EQ(sent_->status, 200);
    EXPECT_EQ(sent_->out, "hello /app/page.txt x=1 www.example.com");
    EXPECT_EQ(sent_->header("X-H"), "1");
    EXPECT_NE(sent_->header("Content-Type").find("text/plain"), std::string::npos);
}

TEST_F(dispatch_test, declined_falls_back_to_the_default_handler) {
    outcome o = request("/app/page.txt?declined");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(sent_->out, "fallback");
    EXPECT_EQ(fallback_file_, root_ + "/htdocs/app/page.txt");
}

TEST_F(dispatch_test, the_outcome_carries_req_user) {
    outcome o = request("/app/page.txt?user");
    EXPECT_EQ(o.user, "alice");
}

TEST_F(dispatch_test, requests_outside_the_handler_block_are_not_dispatched_here) {
    // A route without a content handler: the dispatcher answers through the fallback.
    outcome o = request("/startup.py");
    EXPECT_EQ(sent_->out, "fallback");
    EXPECT_EQ(o.interpreter, "");
}

TEST_F(dispatch_test, run_import_runs_a_module_and_a_callable) {
    const conf::site& site = cfg_->sites[0];
    EXPECT_EQ(disp_->run_import("www.example.com", site, "startup::hook"), "");
    scope s(*reg().find("www.example.com"));
    py::ref a = testing::eval("__import__('builtins').started and __import__('builtins').hooked");
    EXPECT_EQ(a.get(), Py_True) << py::take_error_text();
}

TEST_F(dispatch_test, run_import_reports_what_failed) {
    const conf::site& site = cfg_->sites[0];
    std::string err = disp_->run_import("www.example.com", site, "no_such_startup_module");
    EXPECT_NE(err.find("no_such_startup_module"), std::string::npos) << err;
    err = disp_->run_import("www.example.com", site, "startup::no_such_callable");
    EXPECT_NE(err.find("no_such_callable"), std::string::npos) << err;
}

}  // namespace
}  // namespace subhttpd::interp

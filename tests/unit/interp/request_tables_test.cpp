// req's tables: headers_in as Apache shows it (repeats joined, Cookie with
// "; "), tables made on first use, exported back into the request (Content-Type
// in headers_out becomes req.content_type), Latin-1 response headers, and bad
// tables reported rather than crashing.
#include <gtest/gtest.h>

#include "request_fixture.h"

namespace subhttpd::interp {
namespace {

using request_tables = testing::request_test;

std::string find(const header_list& h, const std::string& k) {
    for (const auto& [name, v] : h) {
        if (name == k) {
            return v;
        }
    }
    return "<absent>";
}

TEST_F(request_tables, headers_in_joins_repeated_fields) {
    EXPECT_EQ(val("req.headers_in['x-multi']"), "'one, two'");
    EXPECT_EQ(val("req.headers_in['X-MULTI']"), "'one, two'");
    EXPECT_EQ(val("req.headers_in['Cookie']"), "'a=1; b=2'");
    EXPECT_EQ(val("req.headers_in['Accept']"), "'text/plain'");
    EXPECT_EQ(val("len(req.headers_in)"), "4");
    EXPECT_EQ(val("req.headers_in.get('missing')"), "None");
}

TEST_F(request_tables, the_same_table_object_each_time) {
    EXPECT_TRUE(ctx_.tables_exported);
    EXPECT_EQ(val("req.headers_in is req.headers_in"), "True");
    EXPECT_TRUE(ctx_.tables_exported);  // headers_in alone leaves nothing to export
    EXPECT_EQ(val("req.notes is req.notes"), "True");
    EXPECT_FALSE(ctx_.tables_exported);  // a handler may change notes now
    EXPECT_EQ(val("req.headers_out is req.headers_out"), "True");
}

TEST_F(request_tables, tables_start_from_the_request_state) {
    ctx_.headers_out = {{"X-Before", "1"}};
    ctx_.notes = {{"note", "carried"}};
    EXPECT_EQ(val("req.headers_out['X-Before']"), "'1'");
    EXPECT_EQ(val("req.notes['note']"), "'carried'");
}

TEST_F(request_tables, export_copies_every_table_back) {
    ASSERT_EQ(run("req.headers_out['X-A'] = '1'\n"
                  "req.headers_out.add('Set-Cookie', 'a=1')\n"
                  "req.headers_out.add('Set-Cookie', 'b=2')\n"
                  "req.err_headers_out['X-Err'] = 'e'\n"
                  "req.notes['n'] = 'v'\n"
                  "req.subprocess_env['HTTPS'] = 'on'\n"),
              "");
    export_tables(req_.get(), &ctx_);
    EXPECT_TRUE(ctx_.tables_exported);
    EXPECT_EQ(find(ctx_.headers_out, "X-A"), "1");
    int cookies = 0;
    for (const auto& [k, v] : ctx_.headers_out) {
        cookies += k == "Set-Cookie" ? 1 : 0;
    }
    EXPECT_EQ(cookies, 2);  // repeated response headers stay separate
    EXPECT_EQ(find(ctx_.err_headers_out, "X-Err"), "e");
    EXPECT_EQ(find(ctx_.notes, "n"), "v");
    EXPECT_EQ(find(ctx_.subprocess_env, "HTTPS"), "on");
}

TEST_F(request_tables, content_type_in_headers_out_becomes_req_content_type) {
    ASSERT_EQ(run("req.headers_out['content-type'] = 'image/png'"), "");
    export_tables(req_.get(), &ctx_);
    EXPECT_EQ(ctx_.content_type, "image/png");
    EXPECT_EQ(find(ctx_.headers_out, "content-type"), "<absent>");  // never sent twice
}

TEST_F(request_tables, an_assigned_content_type_wins_over_the_header) {
    ASSERT_EQ(run("req.content_type = 'text/plain'\nreq.headers_out['Content-Type'] = 'image/png'"), "");
    export_tables(req_.get(), &ctx_);
    EXPECT_EQ(ctx_.content_type, "text/plain");
    EXPECT_EQ(find(ctx_.headers_out, "Content-Type"), "<absent>");
}

TEST_F(request_tables, a_changed_headers_in_is_carried_to_later_phases) {
    ASSERT_EQ(run("req.headers_in['X-Added'] = 'by handler'"), "");
    export_tables(req_.get(), &ctx_);
    EXPECT_TRUE(ctx_.headers_in_carried);
    EXPECT_EQ(find(ctx_.headers_in, "X-Added"), "by handler");
    EXPECT_EQ(find(ctx_.headers_in, "X-Multi"), "one, two");
    // A new req (another interpreter, a later phase) starts from the carried version.
    detach_request(req_.get(), &ctx_);
    py::ref next = py::ref::steal(new_request(in_->module(), &ctx_));
    ASSERT_TRUE(next);
    ASSERT_EQ(PyDict_SetItemString(testing::main_dict(), "req2", next.get()), 0);
    EXPECT_EQ(val("req2.headers_in['X-Added']"), "'by handler'");
    detach_request(next.get(), &ctx_);
}

TEST_F(request_tables, response_headers_are_latin1) {
    ASSERT_EQ(run("req.headers_out['X-Name'] = 'caf\\u00e9'"), "");
    export_tables(req_.get(), &ctx_);
    EXPECT_EQ(find(ctx_.headers_out, "X-Name"), "caf\xe9");  // one byte, as on the wire
    ctx_.headers_out = {{"X-Raw", "\xe9t\xe9"}};
    py::ref fresh = py::ref::steal(new_request(in_->module(), &ctx_));
    ASSERT_EQ(PyDict_SetItemString(testing::main_dict(), "req3", fresh.get()), 0);
    EXPECT_EQ(val("req3.headers_out['X-Raw'] == '\\xe9t\\xe9'"), "True");
}

TEST_F(request_tables, a_value_outside_latin1_is_reported_not_sent) {
    // The table refuses it at once (or export reports it): never a crash, never mojibake.
    std::string e = run("req.headers_out['X-Bad'] = '\\u20ac'");
    export_tables(req_.get(), &ctx_);
    EXPECT_EQ(find(ctx_.headers_out, "X-Bad"), "<absent>") << e;
    EXPECT_EQ(PyErr_Occurred(), nullptr);
}

TEST_F(request_tables, tables_can_be_replaced_only_by_tables) {
    EXPECT_EQ(run("req.notes = {'a': 'b'}"), "TypeError: a table is required");
    EXPECT_EQ(run("from mod_python import apache\nt = apache.table()\nt['k'] = 'v'\nreq.notes = t"), "");
    export_tables(req_.get(), &ctx_);
    EXPECT_EQ(find(ctx_.notes, "k"), "v");
}

TEST_F(request_tables, detach_exports_then_refuses) {
    ASSERT_EQ(run("req.notes['last'] = 'word'"), "");
    detach_request(req_.get(), &ctx_);
    EXPECT_EQ(find(ctx_.notes, "last"), "word");
    detach_request(req_.get(), &ctx_);  // twice: harmless
    EXPECT_EQ(run("req.uri"), "RuntimeError: the request is finished; this req object can no longer be used");
    EXPECT_EQ(run("req.headers_out"), "RuntimeError: the request is finished; this req object can no longer be used");
}

}  // namespace
}  // namespace subhttpd::interp

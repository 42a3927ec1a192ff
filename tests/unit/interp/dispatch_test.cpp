// The dispatcher through its public header: a config loaded from TOML, routes
// from hosts/, mod_python handlers on disk, a recording exchange. Covers the
// phase semantics run_state implements: return codes, DECLINED to the
// fallback, errors (plain and with PythonDebug), access control before
// content, SERVER_RETURN, error headers, internal redirects, cleanups, imports.
#include "interp/dispatch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "../fake_exchange.h"
#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

namespace fs = std::filesystem;
using subhttpd::testing::fake_exchange;
using testing::reg;

// Copies what it was sent into `into` as it finishes (the dispatcher owns and
// frees the exchange itself).
class recording_exchange final : public fake_exchange {
public:
    explicit recording_exchange(std::shared_ptr<fake_exchange> into) : into_(std::move(into)) {}
    ~recording_exchange() override { copy(); }
    void finish(int st, std::string_view why, const header_list& h) override {
        fake_exchange::finish(st, why, h);
        copy();
    }
    void abort() override {
        fake_exchange::abort();
        copy();
    }

private:
    void copy() {
        into_->out = out;
        into_->status = status;
        into_->reason = reason;
        into_->response_headers = response_headers;
        into_->finished_ = finished_;
        into_->aborted = aborted;
        into_->streaming_ = streaming_;
    }
    std::shared_ptr<fake_exchange> into_;
};

class loop_executor_stub final : public executor {
public:
    bool submit(std::function<void()>) override { return false; }  // no pool: nothing is offloaded here
    void post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
    std::uint64_t schedule(std::uint64_t, std::function<void()>) override { return ++timers; }
    void cancel(std::uint64_t) override {}
    bool on_pool_thread() const override { return false; }
    void run() {
        for (int i = 0; i < 1000 && !posted.empty(); ++i) {
            auto fn = std::move(posted.front());
            posted.pop_front();
            fn();
        }
    }
    std::deque<std::function<void()>> posted;
    std::uint64_t timers = 0;
};

const char* handler_source = R"(from mod_python import apache

def handler(req):
    q = req.args or ''
    if q == 'notfound':
        req.err_headers_out['X-Err'] = 'kept'
        req.headers_out['X-Out'] = 'dropped'
        return apache.HTTP_NOT_FOUND
    if q == 'declined':
        return apache.DECLINED
    if q == 'raise':
        raise ValueError('boom from the handler')
    if q == 'server_return':
        raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
    if q == 'redirect':
        req.internal_redirect('/app/other.txt?from=redirect')
        return apache.OK
    if q == 'cleanup':
        import builtins
        req.register_cleanup(lambda data: builtins.__dict__.setdefault('cleaned', []).append(data), 'done')
    if q == 'user':
        req.user = 'alice'
    req.content_type = 'text/plain'
    req.headers_out['X-H'] = '1'
    req.write('hello %s %s %s' % (req.uri, req.args, req.interpreter))
    return apache.OK

def guard(req):
    if req.args == 'deny':
        return apache.HTTP_FORBIDDEN
    return apache.OK
)";

class dispatch_test : public ::testing::Test {
protected:
    void SetUp() override {
        reg();  // CPython up before the dispatcher's watchdog thread
        std::string tmpl = (fs::temp_directory_path() / "dispatch_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = fs::canonical(tmpl).string();
        fs::create_directories(root_ + "/htdocs/app");
        std::ofstream(root_ + "/htdocs/app/h.py") << handler_source;
        std::ofstream(root_ + "/htdocs/app/page.txt") << "page";
        std::ofstream(root_ + "/htdocs/app/other.txt") << "other";
        std::ofstream(root_ + "/htdocs/startup.py") << "import builtins\nbuiltins.started = True\n"
                                                       "def hook():\n    builtins.hooked = True\n";
        std::ofstream(root_ + "/server.toml") << "[[site]]\n"
                                                 "server_name = \"www.example.com\"\n"
                                                 "document_root = \"htdocs\"\n"
                                                 "[[site.directory]]\n"
                                                 "path = \"app\"\n"
                                                 "handler = \"h\"\n"
                                                 "access_handler = \"h::guard\"\n"
                                                 "[[site.location]]\n"
                                                 "path = \"/app/debug\"\n"
                                                 "debug = true\n";
        conf::load_result r = conf::load(root_ + "/server.toml");
        ASSERT_TRUE(r.ok()) << conf::to_string(r.errors[0]);
        cfg_ = r.cfg;
        disp_ = std::make_unique<dispatcher>(
            reg(),
            [this](exchange& ex, const hosts::route&, const std::string& filename, const std::string&) {
                fallback_file_ = filename;
                std::string body = "fallback";
                ex.write(body.data(), body.size());
                ex.finish(200, "OK", {});
                return 200;
            },
            exec_);
    }
    void TearDown() override {
        disp_.reset();
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    // Runs one request to the end; the answer is in `sent_`.
    outcome request(const std::string& target, const std::string& method = "GET") {
        auto route = std::make_shared<const hosts::route>(
            hosts::resolve(*cfg_, {"www.example.com", method, target}));
        sent_ = std::make_shared<fake_exchange>();
        auto ex = std::make_unique<recording_exchange>(sent_);
        ex->method_ = method;
        ex->target_ = target;
        outcome got;
        bool done = false;
        disp_->start(cfg_, 1, route, std::move(ex), [&](const outcome& o) {
            got = o;
            done = true;
        });
        exec_.run();
        EXPECT_TRUE(done) << target;
        EXPECT_EQ(disp_->in_flight(), 0u);
        return got;
    }

    std::string root_;
    std::shared_ptr<const conf::config> cfg_;
    loop_executor_stub exec_;
    std::unique_ptr<dispatcher> disp_;
    std::shared_ptr<fake_exchange> sent_;
    std::string fallback_file_;
};

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

TEST_F(dispatch_test, an_http_status_is_an_error_answer_with_err_headers_only) {
    outcome o = request("/app/page.txt?notfound");
    EXPECT_EQ(o.status, 404);
    EXPECT_EQ(sent_->status, 404);
    EXPECT_EQ(sent_->header("X-Err"), "kept");
    EXPECT_FALSE(sent_->has_header("X-Out"));  // as Apache: only err_headers_out on errors
}

TEST_F(dispatch_test, declined_falls_back_to_the_default_handler) {
    outcome o = request("/app/page.txt?declined");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(sent_->out, "fallback");
    EXPECT_EQ(fallback_file_, root_ + "/htdocs/app/page.txt");
}

TEST_F(dispatch_test, an_exception_is_a_500_without_the_traceback) {
    outcome o = request("/app/page.txt?raise");
    EXPECT_EQ(o.status, 500);
    EXPECT_EQ(sent_->status, 500);
    EXPECT_EQ(sent_->out.find("boom from the handler"), std::string::npos);  // debug is off here
}

TEST_F(dispatch_test, with_debug_the_500_page_shows_the_error) {
    outcome o = request("/app/debug?raise");
    EXPECT_EQ(o.status, 500);
    EXPECT_NE(sent_->out.find("ValueError: boom from the handler"), std::string::npos) << sent_->out;
    EXPECT_NE(sent_->out.find("MOD_PYTHON ERROR"), std::string::npos) << sent_->out;  // no Accept: text/html
}

TEST_F(dispatch_test, the_access_phase_stops_the_request_before_content) {
    outcome o = request("/app/page.txt?deny");
    EXPECT_EQ(o.status, 403);
    EXPECT_EQ(sent_->status, 403);
    EXPECT_EQ(sent_->out.find("hello"), std::string::npos);
}

TEST_F(dispatch_test, server_return_sets_the_status) {
    outcome o = request("/app/page.txt?server_return");
    EXPECT_EQ(o.status, 403);
}

TEST_F(dispatch_test, an_internal_redirect_runs_the_new_uri_here) {
    outcome o = request("/app/page.txt?redirect");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(sent_->out, "hello /app/other.txt from=redirect www.example.com");
}

TEST_F(dispatch_test, cleanups_run_after_the_answer) {
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

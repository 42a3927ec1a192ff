#pragma once
// The dispatcher over a config loaded from TOML, routes from hosts/, mod_python
// handlers on disk and a recording exchange; request() runs one request to
// its end. Shared by dispatch_test.cpp and run_state_test.cpp, which test the
// phase machinery only through interp/dispatch.h.
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "../fake_exchange.h"
#include "interp/dispatch.h"
#include "python_fixture.h"

namespace subhttpd::interp::testing {

namespace fs = std::filesystem;
using subhttpd::testing::fake_exchange;

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

inline constexpr const char* handler_source = R"(from mod_python import apache

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
    if q == 'add_log':
        req.add_handler('PythonLogHandler', 'h::logit')
    if q == 'created':
        req.status = 201
    if q == 'bad_return':
        return 'not a status'
    if q == 'done':
        req.write('done early')
        return apache.DONE
    req.content_type = 'text/plain'
    req.headers_out['X-H'] = '1'
    req.write('hello %s %s %s' % (req.uri, req.args, req.interpreter))
    return apache.OK

def logit(req):
    import builtins
    builtins.logged = (req.phase, req.status)
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

}  // namespace subhttpd::interp::testing

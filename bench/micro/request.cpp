// Request object construction: what a mod_python handler's `req` costs before
// the handler runs (make + detach), reading its members, and building
// headers_in on first use. Uses the real registry and native module.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "interp/module.h"
#include "interp/py_util.h"
#include "interp/registry.h"

namespace si = subhttpd::interp;

namespace {

class fake_exchange final : public si::exchange {
public:
    fake_exchange() {
        headers_ = {{"Host", "bench.test"}, {"User-Agent", "wrk"}, {"Accept", "*/*"},
                    {"Accept-Encoding", "gzip"}, {"Connection", "keep-alive"}, {"Cookie", "a=1; b=2"}};
        peer_.remote_ip = "127.0.0.1";
        peer_.local_ip = "127.0.0.1";
    }
    std::string_view method() const override { return "GET"; }
    std::string_view target() const override { return "/app/hello?x=1"; }
    std::string_view protocol() const override { return "HTTP/1.1"; }
    std::string_view host() const override { return "bench.test"; }
    const si::header_list& request_headers() const override { return headers_; }
    const si::peer_info& peer() const override { return peer_; }
    std::size_t body_remaining() const override { return 0; }
    std::size_t read_body(char*, std::size_t) override { return 0; }
    std::size_t read_body_line(std::string& out, std::size_t) override { out.clear(); return 0; }
    void write(const char*, std::size_t n) override { written_ += n; }
    std::size_t bytes_written() const override { return written_; }
    void discard_output() override { written_ = 0; }
    bool streaming() const override { return false; }
    void start_stream(int, std::string_view, const si::header_list&) override {}
    void finish(int, std::string_view, const si::header_list&) override {}
    bool finished() const override { return false; }
    int status_sent() const override { return 0; }
    bool send_file(const std::string&, std::uint64_t, std::uint64_t) override { return true; }

private:
    si::header_list headers_;
    si::peer_info peer_;
    std::size_t written_ = 0;
    void when_drained(std::function<void()> fn) override { fn(); }
    void abort() override {}
};

struct fixture {
    si::registry reg;
    si::interpreter* in = nullptr;
    subhttpd::conf::config cfg;
    subhttpd::hosts::route route;
    fake_exchange ex;

    fixture() {
        si::runtime_settings s;
        s.python_exe = SUBHTTPD_PYTHON_EXE;
        s.python_dir = SUBHTTPD_PYTHON_DIR;
        if (!reg.start(s).empty()) {
            std::abort();
        }
        std::string err;
        in = reg.get("bench.test", &err);
        route.uri = "/app/hello";
        route.filename = "/srv/app/hello";
        route.args = "x=1";
    }

    void fill(si::request_ctx& ctx) {
        ctx.ex = &ex;
        ctx.cfg = &cfg;
        ctx.route = &route;
        ctx.uri = route.uri;
        ctx.filename = route.filename;
        ctx.args = route.args;
        ctx.main_name = in->name();
    }
};

fixture& fx() {
    static fixture* f = new fixture;  // CPython lives as long as the process
    return *f;
}

void bm_request_make_and_detach(benchmark::State& state) {
    fixture& f = fx();
    si::scope s(*f.in);
    for (auto _ : state) {
        si::request_ctx ctx;
        f.fill(ctx);
        PyObject* req = si::new_request(f.in->module(), &ctx);
        si::detach_request(req, &ctx);
        Py_DECREF(req);
    }
}
BENCHMARK(bm_request_make_and_detach);

void bm_request_read_members(benchmark::State& state) {
    fixture& f = fx();
    si::scope s(*f.in);
    si::request_ctx ctx;
    f.fill(ctx);
    PyObject* req = si::new_request(f.in->module(), &ctx);
    PyObject* names[] = {PyUnicode_InternFromString("method"), PyUnicode_InternFromString("uri"),
                         PyUnicode_InternFromString("args"), PyUnicode_InternFromString("interpreter")};
    for (auto _ : state) {
        for (PyObject* n : names) {
            PyObject* v = PyObject_GetAttr(req, n);
            benchmark::DoNotOptimize(v);
            Py_DECREF(v);
        }
    }
    state.SetItemsProcessed(state.iterations() * 4);
    si::detach_request(req, &ctx);
    Py_DECREF(req);
}
BENCHMARK(bm_request_read_members);

void bm_request_headers_in_first_use(benchmark::State& state) {
    fixture& f = fx();
    si::scope s(*f.in);
    PyObject* name = PyUnicode_InternFromString("headers_in");
    for (auto _ : state) {
        si::request_ctx ctx;
        f.fill(ctx);
        PyObject* req = si::new_request(f.in->module(), &ctx);
        PyObject* t = PyObject_GetAttr(req, name);
        benchmark::DoNotOptimize(t);
        Py_XDECREF(t);
        si::detach_request(req, &ctx);
        Py_DECREF(req);
    }
}
BENCHMARK(bm_request_headers_in_first_use);

}  // namespace

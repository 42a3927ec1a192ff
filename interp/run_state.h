#pragma once
// run_state: one pass of a request through its phases (mod_python's return-code
// semantics), the state a request job drives: the request_ctx, the interpreter
// scope, the filters, the error text and how the answer is built. Shared by
// dispatch.cpp (the request job) and run_state*.cpp; nothing else includes it.
// The thread that runs the job calls it (the loop, or a pool thread when offloaded).
#include <Python.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "interp/dispatch.h"
#include "interp/error_page.h"
#include "interp/filter_exchange.h"
#include "interp/module.h"
#include "interp/py_util.h"
#include "interp/watchdog.h"
#include "interp/wsgi.h"

namespace subhttpd::interp {

struct dispatcher::shared {
    registry& reg;
    default_handler fallback;
    executor& exec;
    std::size_t& in_flight;
    watchdog wd;
};

namespace dispatch_impl {

constexpr int code_ok = 0;
constexpr int code_declined = -1;
constexpr int code_done = -2;
constexpr int code_suspend = -1000;  // internal: the content handler awaits offload
constexpr int code_skip = -1001;     // internal: a handler_module entry whose function is missing
constexpr int max_redirects = 10;

inline bool is_http_status(int code) { return code >= 100 && code <= 999; }

// Puts a site's python_path on sys.path and its env into os.environ of the
// current interpreter (GIL held). False with a Python error set on failure.
bool apply_site(interpreter& in, const conf::site& s);

// One pass of a request through its phases: owns the ctx, the scope and the error text.
class run_state final : public deferred_output {
public:
    run_state(dispatcher::shared& sh, const conf::config& cfg, std::uint64_t gen, const hosts::route& r,
              exchange& ex, thread_states* ts)
        : sh_(sh), ts_(ts) {
        ctx_.ex = &ex;
        ctx_.reg = ts_ == nullptr ? &sh_.reg : nullptr;
        ctx_.cfg = &cfg;
        ctx_.route = &r;
        ctx_.generation = gen;
        ctx_.uri = r.uri;
        ctx_.filename = r.filename;
        ctx_.path_info = r.path_info;
        ctx_.args = r.args;
        ctx_.debug = r.debug;
        ctx_.handler_name = r.at(conf::phase::content).wsgi.empty() ? "mod_python" : "wsgi-script";
        // req.write(flush=1) / req.flush(): the headers and what is written so
        // far leave now, or very soon on the loop (see request_flush).
        ctx_.on_flush = [this] { request_flush(); };
        ctx_.on_internal_redirect = [this](const std::string& uri) { return run_redirect(uri); };
        ctx_.on_add_filter = [this](const registered_filter& f) {
            filter_state st;
            st.entry = f.entry;
            st.dir = f.dir;
            st.interpreter = f.interpreter;
            st.name = f.name;
            st.is_input = f.is_input;
            add_filter(std::move(st));
        };
        install_route_filters(r);
    }

    ~run_state() { release(); }

    // A flush sends the headers and what is written so far (with `hold`, it
    // fixes them and the exchange keeps the output: exchange::hold_stream).
    void start_streaming(bool hold = false);

    // req.write(flush=1) / req.flush(). Off the loop, with filters or inside an
    // internal redirect: start_streaming() now. On the loop, while the handler
    // call is watched, the head is fixed at once (as if sent: later header
    // changes are too late, a later error cuts the response) but the output is
    // held, so that a handler that returns at once is answered in one write
    // with a Content-Length. Held output leaves when the handler flushes again
    // after max_flush_delay, when low_water bytes wait, when the handler blocks
    // (the watchdog sends it at its next poll), or before the request yields
    // the loop.
    void request_flush();
    // Sends a deferred flush now (loop thread, GIL held); nothing when none waits.
    void send_deferred() override;
    static constexpr double max_flush_delay = 0.002;  // seconds

    request_ctx& ctx() { return ctx_; }
    const request_ctx& ctx() const { return ctx_; }

    // The phases before content, in Apache's order. An init handler set at site
    // level runs before postreadrequest, a block's before headerparser; the URL is
    // mapped again after trans when a handler changed it. An internal redirect
    // starts at trans. Returns code_ok when the content phase is next, else the
    // code that ends the request. Never suspends.
    int run_pre(bool redirected);

    bool init_at_site_level() const {
        const hosts::phase_route& pr = ctx_.route->at(conf::phase::init);
        return pr.set && pr.from.type == hosts::block_ref::kind::site;
    }

    // A trans handler that returned OK chose req.filename itself; otherwise a
    // req.uri changed by postreadrequest or trans is mapped again.
    void map_after_trans(bool translated, std::string& mapped_filename, std::string& mapped_path_info);

    // req.internal_redirect(uri), as Apache does it: the new request runs here,
    // within the call, on the same exchange; its req.prev is the caller's req and
    // the caller's req.next the new one. Output already written stays; the new
    // request's headers go out with it, and the caller may go on writing.
    // GIL held; false with a Python error set.
    bool run_redirect(const std::string& target);

    // start_streaming() once the tables are exported (not from inside req.write).
    void start_streaming_exported();

    // The filters the route's blocks set (output_filter / input_filter).
    void install_route_filters(const hosts::route& r);

    void add_filter(filter_state f);

    // One call of a filter, in its interpreter; the caller's interpreter after.
    void run_filter(filter_state& f, std::string_view data, bool eos, std::string& out);

    // A postreadrequest or trans handler moved the request: `r` is its new route.
    void reroute(const hosts::route& r);

    interpreter* last_interpreter() const { return last_in_; }
    const std::string& error_text() const { return error_text_; }
    std::string& error_text() { return error_text_; }

    // Runs one whole phase (no suspension); returns its final code.
    int run_phase(conf::phase p);

    // The i-th handler of phase `p`: the route's, then those req.add_handler added
    // (the list may grow while the phase runs). nullptr past the end.
    const hosts::handler_entry* entry_at(conf::phase p, std::size_t i, std::string& dir) const;

    // Enters the phase's interpreter and returns its req object (or NULL after logging).
    PyObject* begin_phase(conf::phase p);

    // Calls one handler. With `may_suspend`, an async handler whose coroutine
    // awaits offload leaves it in `coro` and returns code_suspend.
    int call_handler(const hosts::handler_entry& h, const std::string& dir, PyObject* req, bool may_suspend);

    // What req.hlist shows: the entry as written (the default callable left
    // out) and the block that set it.
    void note_running(const hosts::handler_entry& h, const std::string& dir);

    // Advances the suspended (or new) coroutine until it ends or awaits offload.
    int step_coroutine(bool may_suspend);

    // The offload a suspended coroutine awaits, run on a pool thread.
    void run_awaited_on_pool(thread_states& ts) {
        scope s(*last_in_, &ts);
        py::ref ran = py::ref::steal(PyObject_CallMethod(awaiting.get(), "run", nullptr));
        if (!ran) {
            log::write(log::level::error, "dispatch", last_in_->name(), "offload failed: " + py::take_error_text());
        }
    }

    void resume_scope() {
        if (last_in_ != nullptr) {
            enter_existing(*last_in_);
        }
    }
    void leave_scope() { scope_.reset(); }
    void drop_awaiting() { awaiting.reset(); }

    static bool continues(conf::phase p, int code);

    // The response the handler built (OK or DONE).
    void respond(exchange& ex);

    // An error status: Apache keeps err_headers_out (and Location for 3xx) only.
    void respond_error(exchange& ex, int status);

    void run_cleanups();

    void count_error() {
        if (last_in_ != nullptr) {
            ++last_in_->stats.errors;
        }
    }

    // Drops every Python reference this run holds, each in its own interpreter.
    void release();

    // The handler timeout for WSGI calls on the loop (none off the loop).
    wsgi_pacing pacing();

    py::ref coro;       // the content handler's coroutine, while it runs
    py::ref awaiting;   // the _Offload or _Drain it waits for
    bool awaiting_drain = false;
    wsgi_stream_ptr stream;  // an inline WSGI answer waiting for the socket
    hosts::handler_entry coro_handler;
    std::string coro_dir;

private:
    std::string reason_for(int status) const;

    void sync_tables() {
        if (ctx_.py_req && !ctx_.tables_exported) {
            enter_existing(*ctx_.py_req_interp);
            export_tables(ctx_.py_req.get(), &ctx_);
        }
    }

    static bool skip_header(const std::string& k) {
        return strcasecmp(k.c_str(), "Content-Length") == 0 || strcasecmp(k.c_str(), "Transfer-Encoding") == 0 ||
               strcasecmp(k.c_str(), "Connection") == 0;
    }

    void build_headers(header_list& out, bool error, int error_status = 0);

    interpreter* enter(const std::string& name);

    void enter_existing(interpreter& in) {
        if (!scope_) {
            scope_.emplace(in, ts_);
        } else {
            scope_->switch_to(in);
        }
    }

    // The req object for `in`: reused within one interpreter, made anew (tables
    // carried over) when the request moves to another.
    PyObject* request_in(interpreter& in);

    // The site's python_path and env, once per (interpreter, site, generation).
    void prepare_site(interpreter& in);

    // The handler's callable (new reference), from the interpreter's cache. With
    // autoreload the files it was loaded from are re-checked on every use.
    py::ref resolve(interpreter& in, const std::string& module_dir, const hosts::handler_entry& h);

    // handler_module: the module lacks this phase's function. (None, its files),
    // cached like a callable, so the module is not searched again until it changes.
    static PyObject* missing_function(interpreter& in, const std::string& module_dir, const hosts::handler_entry& h,
                                      bool autoreload);

    static void push_dir(interpreter& in, const std::string& dir);

    static void pop_dir(interpreter& in);

    int result_code(const hosts::handler_entry& h, const py::ref& result);

    // SERVER_RETURN(code) or SERVER_RETURN((code, status)).
    int server_return_code(PyObject* exc);

    // The debug page's report: structured when result_code took it, else the text alone.
    error_report debug_report() const;

    error_context debug_context(const exchange& ex) const;

    dispatcher::shared& sh_;
    thread_states* ts_;
    request_ctx ctx_;
    std::optional<hosts::route> rerouted_;  // after trans; ctx_.route points here then
    std::unique_ptr<filter_exchange> filters_;  // ctx_.ex while filters are installed
    int depth_ = 0;                         // internal redirects above this one
    py::ref prev_req_;                      // internal redirect: the caller's req
    interpreter* prev_in_ = nullptr;
    const request_ctx* prev_ctx_ = nullptr;  // the caller's, for a snapshot in another interpreter
    std::optional<scope> scope_;
    interpreter* last_in_ = nullptr;
    std::string error_text_;
    error_report report_;         // with debug on: error_text_ with frames and source
    std::string failed_handler_;  // "module::callable" of the handler that failed
    bool timed_out_ = false;
    bool output_watched_ = false;  // inside a handler call the watchdog watches
    bool flush_deferred_ = false;  // a flush waits (request_flush)
    double flush_since_ = 0;

    // Around one Python call of a handler on the loop: the handler timeout and
    // the deferred output.
    void watch_call(interpreter& in);
    bool unwatch_call();  // true when the handler timeout fired
};

}  // namespace dispatch_impl
}  // namespace subhttpd::interp

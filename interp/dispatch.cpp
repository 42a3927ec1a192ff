// Phase dispatch with mod_python 3.3+ semantics: a handler list runs left to
// right while each result lets its phase continue (Apache's RUN_ALL phases
// postreadrequest/headerparser/init/access/fixup/log: OK or DECLINED; RUN_FIRST
// phases trans/authen/authz/type: DECLINED; content/cleanup: OK).
#include "interp/dispatch.h"

#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "common/http_status.h"
#include "common/log.h"
#include "interp/error_page.h"
#include "interp/extension_hint.h"
#include "interp/fd_shortage.h"
#include "interp/filter_exchange.h"
#include "interp/module.h"
#include "interp/offload_exchange.h"
#include "interp/py_util.h"
#include "interp/redirect_link.h"
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

namespace {

constexpr int code_ok = 0;
constexpr int code_declined = -1;
constexpr int code_done = -2;
constexpr int code_suspend = -1000;  // internal: the content handler awaits offload
constexpr int code_skip = -1001;     // internal: a handler_module entry whose function is missing
constexpr int max_redirects = 10;

thread_local thread_states pool_states;  // a pool thread's own thread states

bool is_http_status(int code) { return code >= 100 && code <= 999; }

// Puts a site's python_path on sys.path and its env into os.environ of the
// current interpreter (GIL held). False with a Python error set on failure.
bool apply_site(interpreter& in, const conf::site& s) {
    py::ref paths = py::ref::steal(PyList_New(0));
    py::ref env = py::ref::steal(PyDict_New());
    if (!paths || !env) {
        return false;
    }
    for (const auto& p : s.python_path) {
        py::ref v = py::ref::steal(py::str(p));
        if (!v || PyList_Append(paths.get(), v.get()) < 0) {
            return false;
        }
    }
    for (const auto& [k, v] : s.env) {
        py::ref vs = py::ref::steal(py::str(v));
        if (!vs || PyDict_SetItemString(env.get(), k.c_str(), vs.get()) < 0) {
            return false;
        }
    }
    py::ref r = py::ref::steal(PyObject_CallMethod(in.runtime(), "_prepare_site", "OO", paths.get(), env.get()));
    return static_cast<bool>(r);
}

// One pass of a request through its phases: owns the ctx, the scope and the error text.
class run_state {
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
        // far leave now (inline: the socket takes what it can at once).
        ctx_.on_flush = [this] { start_streaming(); };
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

    // A flush sends the headers and what is written so far.
    void start_streaming() {
        exchange& ex = *ctx_.ex;
        if (ex.streaming() || ex.finished()) {
            return;
        }
        if (ctx_.py_req) {
            export_tables(ctx_.py_req.get(), &ctx_);  // the GIL is held: called from req.write
        }
        header_list headers;
        build_headers(headers, false);
        if (ctx_.content_length >= 0) {
            headers.emplace_back("Content-Length", std::to_string(ctx_.content_length));  // not chunked
        }
        ex.start_stream(ctx_.status, reason_for(ctx_.status), headers);
    }

    request_ctx& ctx() { return ctx_; }
    const request_ctx& ctx() const { return ctx_; }

    // The phases before content, in Apache's order. An init handler set at site
    // level runs before postreadrequest, a block's before headerparser; the URL is
    // mapped again after trans when a handler changed it. An internal redirect
    // starts at trans. Returns code_ok when the content phase is next, else the
    // code that ends the request. Never suspends.
    int run_pre(bool redirected) {
        using conf::phase;
        static constexpr phase pre[] = {phase::init,   phase::postreadrequest, phase::trans,
                                        phase::init,   phase::headerparser,    phase::access,
                                        phase::authen, phase::authz,           phase::type,
                                        phase::fixup};
        constexpr std::size_t early_init = 0, first_trans = 2, after_trans = 3;
        bool translated = false;
        std::string mapped_filename, mapped_path_info;
        for (std::size_t i = redirected ? first_trans : 0; i < std::size(pre); ++i) {
            phase p = pre[i];
            if (i == after_trans) {
                map_after_trans(translated, mapped_filename, mapped_path_info);
            }
            if (!ctx_.phase_active(p)) {
                continue;
            }
            if (p == phase::init && (i == early_init) != init_at_site_level()) {
                continue;
            }
            if (p == phase::trans) {
                // As in Apache, a trans handler starts with no filename and no
                // path_info: what it sets is all the mapping there is.
                mapped_filename = std::exchange(ctx_.filename, std::string());
                mapped_path_info = std::exchange(ctx_.path_info, std::string());
            }
            int code = run_phase(p);
            if (p == phase::trans) {
                translated = code == code_ok;
            }
            if (code != code_ok && code != code_declined) {
                return code;
            }
        }
        return code_ok;
    }

    bool init_at_site_level() const {
        const hosts::phase_route& pr = ctx_.route->at(conf::phase::init);
        return pr.set && pr.from.type == hosts::block_ref::kind::site;
    }

    // A trans handler that returned OK chose req.filename itself; otherwise a
    // req.uri changed by postreadrequest or trans is mapped again.
    void map_after_trans(bool translated, std::string& mapped_filename, std::string& mapped_path_info) {
        const hosts::route& r = *ctx_.route;
        if (!translated && ctx_.phase_active(conf::phase::trans)) {
            // every trans handler declined: the router's mapping stands
            ctx_.filename = std::move(mapped_filename);
            ctx_.path_info = std::move(mapped_path_info);
        }
        if (r.site == nullptr || (!translated && ctx_.uri == r.uri)) {
            return;
        }
        sync_tables();
        rerouted_ = translated ? hosts::resolve_filename(*ctx_.cfg, *r.site, ctx_.uri, ctx_.args, ctx_.filename,
                                                         ctx_.path_info)
                               : hosts::resolve_uri(*ctx_.cfg, *r.site, ctx_.uri, ctx_.args);
        reroute(*rerouted_);
    }

    // req.internal_redirect(uri), as Apache does it: the new request runs here,
    // within the call, on the same exchange; its req.prev is the caller's req and
    // the caller's req.next the new one. Output already written stays; the new
    // request's headers go out with it, and the caller may go on writing.
    // GIL held; false with a Python error set.
    bool run_redirect(const std::string& target) {
        if (depth_ >= max_redirects) {
            PyErr_Format(PyExc_RuntimeError, "internal_redirect: more than %d nested redirects", max_redirects);
            return false;
        }
        exchange& ex = *ctx_.ex;
        sync_tables();
        hosts::request_line line{ex.host(), ex.method(), target};
        const hosts::route r = hosts::resolve(*ctx_.cfg, line);
        int code = code_ok;
        std::optional<request_view> next_view;
        {
            run_state nested(sh_, *ctx_.cfg, ctx_.generation, r, ex, ts_);
            nested.depth_ = depth_ + 1;
            nested.prev_req_ = ctx_.py_req;
            nested.prev_in_ = ctx_.py_req_interp;
            nested.prev_ctx_ = &ctx_;
            nested.ctx_.status = 200;
            const bool python = std::any_of(r.phases.begin(), r.phases.end(), [](const auto& pr) { return pr.set; });
            if (python) {
                code = nested.run_pre(true);
            }
            const hosts::route& now = *nested.ctx_.route;
            const hosts::phase_route& content = now.at(conf::phase::content);
            if (code == code_ok && now.kind == hosts::route_kind::handler && content.set) {
                code = nested.run_phase(conf::phase::content);
                if (nested.last_in_ != nullptr) {
                    ++nested.last_in_->stats.requests;
                }
            } else if (code == code_ok) {
                code = code_declined;
            }
            if (ex.finished()) {
                // answered already (a static file, sendfile, an error)
            } else if (code == code_ok || code == code_done) {
                nested.sync_tables();
                nested.start_streaming_exported();
            } else if (code == code_declined) {
                sh_.fallback(*nested.ctx_.ex, now, nested.ctx_.filename, nested.ctx_.path_info);
            } else {
                nested.respond_error(ex, is_http_status(code) ? code : 500);
            }
            for (cleanup_entry& e : nested.ctx_.cleanups) {
                ctx_.cleanups.push_back(std::move(e));
            }
            nested.ctx_.cleanups.clear();
            if (nested.ctx_.py_req && ctx_.py_req && nested.ctx_.py_req_interp != ctx_.py_req_interp) {
                nested.sync_tables();
                next_view = view_of(nested.ctx_, ex, nested.ctx_.py_req_interp->name());
            }
        }  // the nested scope ends: back in the caller's interpreter
        if (next_view) {
            link_snapshot(ctx_.py_req.get(), "next", *next_view);  // it ran in another interpreter
        }
        return true;
    }

    // start_streaming() once the tables are exported (not from inside req.write).
    void start_streaming_exported() {
        exchange& ex = *ctx_.ex;
        if (ex.streaming() || ex.finished()) {
            return;
        }
        header_list headers;
        build_headers(headers, false);
        if (ctx_.content_length >= 0) {
            headers.emplace_back("Content-Length", std::to_string(ctx_.content_length));
        }
        ex.start_stream(ctx_.status, reason_for(ctx_.status), headers);
    }

    // The filters the route's blocks set (output_filter / input_filter).
    void install_route_filters(const hosts::route& r) {
        for (const hosts::phase_route* pr : {&r.output_filter, &r.input_filter}) {
            if (!pr->set) {
                continue;
            }
            for (const auto& h : pr->handlers) {
                filter_state st;
                st.entry = h;
                st.dir = pr->module_dir;
                st.interpreter = pr->interpreter;
                st.name = h.module + "::" + h.callable;
                st.is_input = pr == &r.input_filter;
                add_filter(std::move(st));
            }
        }
    }

    void add_filter(filter_state f) {
        if (!filters_) {
            filters_ = std::make_unique<filter_exchange>(
                *ctx_.ex, [this](filter_state& st, std::string_view in, bool eos, std::string& out) {
                    run_filter(st, in, eos, out);
                });
            ctx_.ex = filters_.get();
        }
        filters_->add(std::move(f));
    }

    // One call of a filter, in its interpreter; the caller's interpreter after.
    void run_filter(filter_state& f, std::string_view data, bool eos, std::string& out) {
        interpreter* back = scope_ ? &scope_->current() : nullptr;
        std::string err;
        interpreter* in = ts_ == nullptr ? sh_.reg.get(f.interpreter, &err) : sh_.reg.find(f.interpreter);
        if (in == nullptr) {
            log::write(log::level::error, "dispatch", f.interpreter,
                       "filter " + f.name + " disabled: " + (err.empty() ? "no interpreter" : err));
            f.disabled = true;
            out.append(data);
            return;
        }
        enter_existing(*in);
        const char* directive = f.is_input ? "PythonInputFilter" : "PythonOutputFilter";
        bool ok = false;
        if (!ctx_.py_req) {
            // a static answer: no phase made a req, so filter.req is made here
            ctx_.main_name = in->name();
            if (request_in(*in) == nullptr) {
                PyErr_Clear();
            }
        }
        if (py::ref fn = resolve(*in, f.dir, f.entry)) {
            py::ref bytes = py::ref::steal(PyBytes_FromStringAndSize(data.data(), static_cast<Py_ssize_t>(data.size())));
            PyObject* req = ctx_.py_req && ctx_.py_req_interp == in ? ctx_.py_req.get() : Py_None;
            std::string handler = f.entry.module + "::" + f.entry.callable;
            py::ref r;
            if (bytes) {
                r = py::ref::steal(PyObject_CallMethod(in->runtime(), "_run_filter", "OOsOOOss", fn.get(), req,
                                                       f.name.c_str(), f.is_input ? Py_True : Py_False,
                                                       bytes.get(), eos ? Py_True : Py_False, handler.c_str(),
                                                       f.dir.c_str()));
            }
            if (r && PyTuple_Check(r.get()) && PyTuple_GET_SIZE(r.get()) == 3 &&
                PyBytes_Check(PyTuple_GET_ITEM(r.get(), 0))) {
                PyObject* b = PyTuple_GET_ITEM(r.get(), 0);
                out.append(PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b)));
                f.closed = PyObject_IsTrue(PyTuple_GET_ITEM(r.get(), 1)) == 1;
                f.disabled = PyObject_IsTrue(PyTuple_GET_ITEM(r.get(), 2)) == 1;
                ok = true;
            } else if (r) {
                PyErr_SetString(PyExc_TypeError, "_run_filter returned an unexpected value");
            }
        }
        if (!ok) {
            // As mod_python: a failing filter is disabled; its data goes on untouched.
            log::write(log::level::error, "dispatch", in->name(),
                       std::string(directive) + " " + f.name + " failed for " + ctx_.uri +
                           " and is disabled:\n" + py::take_error_text());
            f.disabled = true;
            out.append(data);
        }
        if (back != nullptr) {
            enter_existing(*back);
        }
    }

    // A postreadrequest or trans handler moved the request: `r` is its new route.
    void reroute(const hosts::route& r) {
        ctx_.route = &r;
        ctx_.filename = r.filename;
        ctx_.path_info = r.path_info;
        ctx_.debug = r.debug;
        ctx_.handler_name = r.at(conf::phase::content).wsgi.empty() ? "mod_python" : "wsgi-script";
        if (!filters_) {
            install_route_filters(r);
        }
    }

    interpreter* last_interpreter() const { return last_in_; }
    const std::string& error_text() const { return error_text_; }
    std::string& error_text() { return error_text_; }

    // Runs one whole phase (no suspension); returns its final code.
    int run_phase(conf::phase p) {
        const hosts::phase_route& pr = ctx_.route->at(p);
        PyObject* req = begin_phase(p);
        if (req == nullptr) {
            return 500;
        }
        if (p == conf::phase::content && !pr.wsgi.empty()) {
            return run_wsgi(*last_in_, ctx_, pr, req, error_text_, pacing());
        }
        int code = code_ok;
        for (std::size_t i = 0;; ++i) {
            std::string dir;
            const hosts::handler_entry* h = entry_at(p, i, dir);
            if (h == nullptr) {
                break;
            }
            int c = call_handler(*h, dir, req, false);
            if (c == code_skip) {
                code = i == 0 ? code_declined : code;  // as mod_python: DECLINED only in place of the first
                continue;
            }
            code = c;
            if (!continues(p, code)) {
                break;
            }
        }
        return code;
    }

    // The i-th handler of phase `p`: the route's, then those req.add_handler added
    // (the list may grow while the phase runs). nullptr past the end.
    const hosts::handler_entry* entry_at(conf::phase p, std::size_t i, std::string& dir) const {
        const hosts::phase_route& pr = ctx_.route->at(p);
        std::size_t own = pr.set ? pr.handlers.size() : 0;
        if (i < own) {
            dir = pr.module_dir;
            return &pr.handlers[i];
        }
        std::size_t k = own;
        for (const auto& a : ctx_.added) {
            if (a.phase != p) {
                continue;
            }
            if (k++ == i) {
                dir = a.dir;
                return &a.entry;
            }
        }
        return nullptr;
    }

    // Enters the phase's interpreter and returns its req object (or NULL after logging).
    PyObject* begin_phase(conf::phase p) {
        const hosts::phase_route& pr = ctx_.route->at(p);
        std::string name = pr.interpreter;
        if (!pr.set) {
            for (const auto& a : ctx_.added) {
                if (a.phase == p) {
                    name = a.interpreter;
                    break;
                }
            }
        }
        interpreter* in = enter(name);
        if (in == nullptr) {
            return nullptr;
        }
        ctx_.phase = p;
        PyObject* req = request_in(*in);
        if (req == nullptr) {
            error_text_ = py::take_error_text();
            log::write(log::level::error, "dispatch", in->name(), "cannot make the request object: " + error_text_);
        }
        return req;
    }

    // Calls one handler. With `may_suspend`, an async handler whose coroutine
    // awaits offload leaves it in `coro` and returns code_suspend.
    int call_handler(const hosts::handler_entry& h, const std::string& dir, PyObject* req, bool may_suspend) {
        interpreter& in = *last_in_;
        note_running(h, dir);
        py::ref fn = resolve(in, dir, h);
        if (fn.get() == Py_None) {  // cached by a handler_module entry: the function is missing
            if (h.silent) {
                return code_skip;
            }
            PyErr_Format(PyExc_AttributeError, "module '%s' has no attribute '%s'", h.module.c_str(),
                         h.callable.c_str());
            fn = py::ref();
        }
        py::ref result;
        if (fn) {
            coro_dir = dir;
            push_dir(in, dir);
            bool watched = ts_ == nullptr;
            if (watched) {
                sh_.wd.arm(in, static_cast<std::uint64_t>(ctx_.route->handler_timeout.count()));
            }
            result = py::ref::steal(PyObject_CallOneArg(fn.get(), req));
            if (watched && sh_.wd.disarm() && !result) {
                timed_out_ = true;
            }
            pop_dir(in);
        }
        if (result && PyCoro_CheckExact(result.get())) {
            coro = std::move(result);
            coro_handler = h;
            return step_coroutine(may_suspend);
        }
        return result_code(h, result);
    }

    // What req.hlist shows: the entry as written (the default callable left
    // out) and the block that set it.
    void note_running(const hosts::handler_entry& h, const std::string& dir) {
        ctx_.running = h.module;
        if (h.callable != conf::phase_default_callable(ctx_.phase)) {
            ctx_.running += "::" + h.callable;
        }
        const hosts::phase_route& pr = ctx_.route->at(ctx_.phase);
        if (pr.set && dir == pr.module_dir) {
            ctx_.running_from = pr.from;
        } else {
            ctx_.running_from = hosts::block_ref{hosts::block_ref::kind::directory, dir, {}};
        }
    }

    // Advances the suspended (or new) coroutine until it ends or awaits offload.
    int step_coroutine(bool may_suspend) {
        interpreter& in = *last_in_;
        for (;;) {
            push_dir(in, coro_dir);
            bool watched = ts_ == nullptr;
            if (watched) {
                sh_.wd.arm(in, static_cast<std::uint64_t>(ctx_.route->handler_timeout.count()));
            }
            py::ref r = py::ref::steal(PyObject_CallMethod(in.runtime(), "_coro_step", "O", coro.get()));
            if (watched && sh_.wd.disarm() && !r) {
                timed_out_ = true;
            }
            pop_dir(in);
            if (!r) {
                coro.reset();
                return result_code(coro_handler, r);
            }
            PyObject* done = PyTuple_GET_ITEM(r.get(), 0);
            PyObject* value = PyTuple_GET_ITEM(r.get(), 1);
            awaiting_drain = PyTuple_GET_ITEM(r.get(), 2) == Py_True;
            if (done == Py_True) {
                coro.reset();
                return result_code(coro_handler, py::ref::borrow(value));
            }
            awaiting = py::ref::borrow(value);
            if (may_suspend) {
                return code_suspend;
            }
            // Already off the loop (or not allowed to suspend): run it right here.
            py::ref ran = py::ref::steal(PyObject_CallMethod(awaiting.get(), "run", nullptr));
            awaiting.reset();
            if (!ran) {
                return result_code(coro_handler, ran);
            }
        }
    }

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

    static bool continues(conf::phase p, int code) {
        switch (p) {
            case conf::phase::postreadrequest:
            case conf::phase::headerparser:
            case conf::phase::init:
            case conf::phase::access:
            case conf::phase::fixup:
            case conf::phase::log:
                return code == code_ok || code == code_declined;
            case conf::phase::trans:
            case conf::phase::authen:
            case conf::phase::authz:
            case conf::phase::type:
                return code == code_declined;
            case conf::phase::content:
            case conf::phase::cleanup:
                return code == code_ok;
        }
        return false;
    }

    // The response the handler built (OK or DONE).
    void respond(exchange& ex) {
        sync_tables();
        if (ex.finished()) {
            return;
        }
        header_list headers;
        build_headers(headers, false);
        if (ex.streaming()) {
            ex.finish(ctx_.status, "", headers);
            return;
        }
        ex.finish(ctx_.status, reason_for(ctx_.status), headers);
    }

    // An error status: Apache keeps err_headers_out (and Location for 3xx) only.
    void respond_error(exchange& ex, int status) {
        ctx_.status = status;  // what the log and cleanup phases see
        sync_tables();
        if (ex.finished()) {
            return;
        }
        if (ex.streaming()) {
            if (status == 500) {
                ex.abort();  // the handler failed after its headers went out: a cut response, not a whole one
            } else {
                ex.finish(status, "", {});  // too late to change the status: end the body
            }
            return;
        }
        ex.discard_output();
        header_list headers;
        build_headers(headers, true, status);
        std::string reason(http_reason(status));
        std::string body;
        if (status >= 300) {
            if (status == 500 && ctx_.debug && !error_text_.empty()) {
                error_page page =
                    render_error_page(debug_report(), debug_context(ex), accepts_html(ex.request_headers()));
                headers.emplace_back("Content-Type", page.content_type);
                body = std::move(page.body);
            } else {
                headers.emplace_back("Content-Type", "text/html; charset=utf-8");
                body = status_page_html(
                    status, status == 500 ? "The server could not complete your request. The error is in the server log."
                                          : "");
            }
        }
        if (!body.empty()) {
            ex.write(body.data(), body.size());
        }
        ex.finish(status, reason, headers);
    }

    void run_cleanups() {
        std::vector<cleanup_entry> list = std::move(ctx_.cleanups);
        ctx_.cleanups.clear();
        for (cleanup_entry& e : list) {
            enter_existing(*e.in);
            py::ref r = py::ref::steal(PyObject_CallOneArg(e.fn.get(), e.data ? e.data.get() : Py_None));
            if (!r) {
                log::write(log::level::error, "dispatch", e.in->name(), "cleanup failed: " + py::take_error_text());
            }
            e.fn.reset();
            e.data.reset();
        }
    }

    void count_error() {
        if (last_in_ != nullptr) {
            ++last_in_->stats.errors;
        }
    }

    // Drops every Python reference this run holds, each in its own interpreter.
    void release() {
        if (stream) {
            enter_existing(*last_in_);
            stream.reset();
        }
        if (coro || awaiting) {
            enter_existing(*last_in_);
            if (coro) {
                py::ref r = py::ref::steal(PyObject_CallMethod(coro.get(), "close", nullptr));
                if (!r) {
                    PyErr_Clear();
                }
            }
            coro.reset();
            awaiting.reset();
        }
        if (ctx_.py_req) {
            enter_existing(*ctx_.py_req_interp);
            detach_request(ctx_.py_req.get(), &ctx_);
            ctx_.py_req.reset();
            ctx_.py_req_interp = nullptr;
        }
        for (cleanup_entry& e : ctx_.cleanups) {
            enter_existing(*e.in);
            e.fn.reset();
            e.data.reset();
        }
        ctx_.cleanups.clear();
        scope_.reset();
    }

    // The handler timeout for WSGI calls on the loop (none off the loop).
    wsgi_pacing pacing() {
        wsgi_pacing p;
        if (ts_ == nullptr && last_in_ != nullptr) {
            p.wd = &sh_.wd;
            p.in = last_in_;
            p.ms = static_cast<std::uint64_t>(ctx_.route->handler_timeout.count());
        }
        return p;
    }

    py::ref coro;       // the content handler's coroutine, while it runs
    py::ref awaiting;   // the _Offload or _Drain it waits for
    bool awaiting_drain = false;
    wsgi_stream_ptr stream;  // an inline WSGI answer waiting for the socket
    hosts::handler_entry coro_handler;
    std::string coro_dir;

private:
    std::string reason_for(int status) const {
        if (!ctx_.status_line.empty()) {
            std::string_view s = ctx_.status_line;
            auto sp = s.find(' ');
            if (sp == 3 && std::isdigit(static_cast<unsigned char>(s[0]))) {
                return std::string(s.substr(sp + 1));
            }
            return std::string(s);
        }
        return std::string(http_reason(status));
    }

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

    void build_headers(header_list& out, bool error, int error_status = 0) {
        if (!error) {
            out.emplace_back("Content-Type",
                             ctx_.content_type.empty() ? "text/plain; charset=utf-8" : ctx_.content_type);
            for (const auto& kv : ctx_.headers_out) {
                if (!skip_header(kv.first)) {
                    out.push_back(kv);
                }
            }
        } else if ((error_status >= 300 && error_status < 400) || (ctx_.status >= 300 && ctx_.status < 400)) {
            for (const auto& kv : ctx_.headers_out) {
                if (strcasecmp(kv.first.c_str(), "Location") == 0) {
                    out.push_back(kv);
                }
            }
        }
        for (const auto& kv : ctx_.err_headers_out) {
            if (!skip_header(kv.first)) {
                out.push_back(kv);
            }
        }
        if (!ctx_.allowed_methods.empty()) {
            out.emplace_back("Allow", ctx_.allowed_methods);
        }
        if (ctx_.no_cache) {
            out.emplace_back("Cache-Control", "no-cache");
            out.emplace_back("Pragma", "no-cache");
            out.emplace_back("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
        }
    }

    interpreter* enter(const std::string& name) {
        std::string err;
        // Interpreters are made on the loop thread only; a pool job's were made
        // before it was queued.
        interpreter* in = ts_ == nullptr ? sh_.reg.get(name, &err) : sh_.reg.find(name);
        if (in == nullptr) {
            error_text_ = err.empty() ? "interpreter " + name + " does not exist" : err;
            return nullptr;
        }
        enter_existing(*in);
        ctx_.main_name = in->name();
        last_in_ = in;
        sh_.reg.watch_app(*in, *ctx_.route);  // autoreload = "app" only
        in->stats.last_used.store(static_cast<double>(time(nullptr)), std::memory_order_relaxed);
        return in;
    }

    void enter_existing(interpreter& in) {
        if (!scope_) {
            scope_.emplace(in, ts_);
        } else {
            scope_->switch_to(in);
        }
    }

    // The req object for `in`: reused within one interpreter, made anew (tables
    // carried over) when the request moves to another.
    PyObject* request_in(interpreter& in) {
        if (ctx_.py_req && ctx_.py_req_interp == &in) {
            return ctx_.py_req.get();
        }
        if (ctx_.py_req) {
            interpreter* old = ctx_.py_req_interp;
            scope_->switch_to(*old);
            detach_request(ctx_.py_req.get(), &ctx_);
            ctx_.py_req.reset();
            scope_->switch_to(in);
        }
        prepare_site(in);
        ctx_.py_req = py::ref::steal(new_request(in.module(), &ctx_));
        ctx_.py_req_interp = &in;
        if (ctx_.py_req && prev_req_ && prev_in_ == &in) {
            // req.prev / req.next link the objects themselves within one interpreter
            if (PyObject_SetAttrString(ctx_.py_req.get(), "prev", prev_req_.get()) < 0 ||
                PyObject_SetAttrString(prev_req_.get(), "next", ctx_.py_req.get()) < 0) {
                PyErr_Clear();
            }
        } else if (ctx_.py_req && prev_ctx_ != nullptr && prev_in_ != nullptr) {
            link_snapshot(ctx_.py_req.get(), "prev", view_of(*prev_ctx_, *ctx_.ex, prev_in_->name()));
        }
        return ctx_.py_req.get();
    }

    // The site's python_path and env, once per (interpreter, site, generation).
    void prepare_site(interpreter& in) {
        const conf::site* s = ctx_.route->site;
        if (s == nullptr || (s->python_path.empty() && s->env.empty())) {
            return;
        }
        auto it = in.prepared_sites.find(s->server_name);
        if (it != in.prepared_sites.end() && it->second == ctx_.generation) {
            return;
        }
        in.prepared_sites[s->server_name] = ctx_.generation;
        if (!apply_site(in, *s)) {
            log::write(log::level::error, "dispatch", in.name(), "site set-up failed: " + py::take_error_text());
        }
    }

    // The handler's callable (new reference), from the interpreter's cache. With
    // autoreload the files it was loaded from are re-checked on every use.
    py::ref resolve(interpreter& in, const std::string& module_dir, const hosts::handler_entry& h) {
        thread_local std::string key;  // reused: no allocation per request
        key.clear();
        key += module_dir;
        key += '\x1f';
        key += h.module;
        key += '\x1f';
        key += h.callable;
        const bool autoreload = ctx_.route->autoreload;
        return in.handlers.get(key, [&](cached_callable& slot) {
            py::ref got = py::ref::steal(PyObject_CallMethod(in.runtime(), "_resolve_with_files", "ssss",
                                                             h.module.c_str(), module_dir.c_str(),
                                                             h.callable.c_str(), autoreload ? "1" : ""));
            if (!got && h.silent && PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Clear();
                got = py::ref::steal(missing_function(in, module_dir, h, autoreload));
            }
            if (!got || !PyTuple_Check(got.get()) || PyTuple_GET_SIZE(got.get()) != 2) {
                if (got) {
                    PyErr_SetString(PyExc_TypeError, "_resolve_with_files must return (callable, files)");
                }
                return false;
            }
            slot.callable = py::ref::borrow(PyTuple_GET_ITEM(got.get(), 0));
            PyObject* files = PyTuple_GET_ITEM(got.get(), 1);
            if (autoreload && PyList_Check(files)) {
                for (Py_ssize_t i = 0; i < PyList_GET_SIZE(files); ++i) {
                    PyObject* item = PyList_GET_ITEM(files, i);
                    std::string path;
                    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 ||
                        !py::to_string(PyTuple_GET_ITEM(item, 0), path)) {
                        PyErr_Clear();
                        continue;
                    }
                    long long ns = PyLong_AsLongLong(PyTuple_GET_ITEM(item, 1));
                    if (ns == -1 && PyErr_Occurred()) {
                        PyErr_Clear();
                        ns = -1;  // no mtime: checked again next time
                    }
                    slot.files.emplace_back(std::move(path), ns);
                }
            }
            return true;
        });
    }

    // handler_module: the module lacks this phase's function. (None, its files),
    // cached like a callable, so the module is not searched again until it changes.
    static PyObject* missing_function(interpreter& in, const std::string& module_dir, const hosts::handler_entry& h,
                                      bool autoreload) {
        py::ref got = py::ref::steal(PyObject_CallMethod(in.runtime(), "_resolve_with_files", "ssss",
                                                         h.module.c_str(), module_dir.c_str(), "__name__",
                                                         autoreload ? "1" : ""));
        if (!got || !PyTuple_Check(got.get()) || PyTuple_GET_SIZE(got.get()) != 2) {
            return got.release();
        }
        return PyTuple_Pack(2, Py_None, PyTuple_GET_ITEM(got.get(), 1));
    }

    static void push_dir(interpreter& in, const std::string& dir) {
        py::ref& name = in.dir_names[dir];
        if (!name) {
            name = py::ref::steal(py::str(dir));
        }
        if (name && PyList_Append(in.current_dirs.get(), name.get()) == 0) {
            return;
        }
        PyErr_Clear();
    }

    static void pop_dir(interpreter& in) {
        PyObject* dirs = in.current_dirs.get();
        Py_ssize_t n = PyList_GET_SIZE(dirs);
        if (n > 0) {
            PyObject *t = nullptr, *v = nullptr, *tb = nullptr;
            PyErr_Fetch(&t, &v, &tb);  // keep the handler's exception
            PyList_SetSlice(dirs, n - 1, n, nullptr);
            PyErr_Restore(t, v, tb);
        }
    }

    int result_code(const hosts::handler_entry& h, const py::ref& result) {
        interpreter& in = *last_in_;
        if (result) {
            if (PyLong_Check(result.get())) {
                return static_cast<int>(PyLong_AsLong(result.get()));
            }
            failed_handler_ = h.module + "::" + h.callable;
            error_text_ = "handler " + h.module + "::" + h.callable + " returned an invalid return code: " +
                          std::string(Py_TYPE(result.get())->tp_name) + " (expected an int such as apache.OK)";
            log::write(log::level::error, "dispatch", in.name(), error_text_);
            return 500;
        }
        if (timed_out_) {
            timed_out_ = false;
            error_text_ = py::take_error_text();
            log::write(log::level::error, "dispatch", in.name(),
                       std::string(conf::phase_directive(ctx_.phase)) + " " + h.module + "::" + h.callable +
                           " ran past handler_timeout (" + std::to_string(ctx_.route->handler_timeout.count()) +
                           " ms) for " + ctx_.uri + " and was interrupted");
            return 504;
        }
        module_state* st = get_module_state(in.module());
        if (PyErr_ExceptionMatches(st->server_return)) {
            PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            py::ref t = py::ref::steal(type), v = py::ref::steal(value), b = py::ref::steal(tb);
            return server_return_code(v.get());
        }
        failed_handler_ = h.module + "::" + h.callable;
        bool fd_shortage = error_is_fd_shortage();
        const hosts::phase_route& from = ctx_.route->at(ctx_.phase);
        std::string hint = extension_refusal_hint(in, ctx_.reg, failed_handler_ + " (" + hosts::describe_in(*ctx_.route, from.from) + ")",
                                                  ctx_.reg != nullptr);
        if (ctx_.debug) {  // the error page wants frames and source, not only the text
            report_ = take_error_report(in.runtime());
            error_text_ = report_.text;
        } else {
            error_text_ = py::take_error_text();
        }
        if (!hint.empty()) {
            error_text_ += "\n" + hint + "\n";
            report_.text = error_text_;
        }
        log::write(log::level::error, "dispatch", in.name(),
                   std::string(conf::phase_directive(ctx_.phase)) + " " + h.module + "::" + h.callable +
                       " failed for " + ctx_.uri + (fd_shortage ? " (out of file descriptors: 503)" : "") +
                       ":\n" + error_text_);
        return fd_shortage ? 503 : 500;
    }

    // SERVER_RETURN(code) or SERVER_RETURN((code, status)).
    int server_return_code(PyObject* exc) {
        py::ref args = py::ref::steal(PyObject_GetAttrString(exc, "args"));
        if (!args || !PyTuple_Check(args.get()) || PyTuple_GET_SIZE(args.get()) == 0) {
            PyErr_Clear();
            return code_ok;
        }
        PyObject* a = PyTuple_GET_ITEM(args.get(), 0);
        if (PyTuple_Check(a) && PyTuple_GET_SIZE(a) == 2) {
            PyObject* st = PyTuple_GET_ITEM(a, 1);
            if (PyLong_Check(st)) {
                ctx_.status = static_cast<int>(PyLong_AsLong(st));
            }
            a = PyTuple_GET_ITEM(a, 0);
        }
        if (PyLong_Check(a)) {
            return static_cast<int>(PyLong_AsLong(a));
        }
        return 500;
    }

    // The debug page's report: structured when result_code took it, else the text alone.
    error_report debug_report() const {
        if (!report_.text.empty() && report_.text == error_text_) {
            return report_;
        }
        error_report r;
        r.text = error_text_;
        return r;
    }

    error_context debug_context(const exchange& ex) const {
        error_context c;
        c.method = ex.method();
        c.target = ex.target();
        c.protocol = ex.protocol();
        c.headers = ex.request_headers();
        const hosts::route& r = *ctx_.route;
        c.site = r.site != nullptr ? r.site->server_name : "";
        const hosts::phase_route& pr = r.at(ctx_.phase);
        c.block = pr.from.type == hosts::block_ref::kind::site
                      ? "site " + c.site + " (" + conf::to_string(pr.from.where) + ")"
                      : hosts::describe(pr.from);
        c.handler = !failed_handler_.empty() ? failed_handler_ : pr.wsgi;
        c.phase = conf::phase_directive(ctx_.phase);
        c.wsgi = failed_handler_.empty() && !pr.wsgi.empty();
        if (c.wsgi) {
            c.phase = "WSGI";
        }
        c.interpreter = ctx_.main_name;
        return c;
    }

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
};

// One request from start to its `done` call; runs on the loop, or on a pool
// thread when offloaded, and may pause on the loop while a coroutine awaits.
class request_job : public std::enable_shared_from_this<request_job> {
public:
    request_job(dispatcher::shared& sh, std::shared_ptr<const conf::config> cfg, std::uint64_t gen,
                std::shared_ptr<const hosts::route> r, std::unique_ptr<exchange> ex, finished_handler done)
        : sh_(sh), cfg_(std::move(cfg)), gen_(gen), route_(std::move(r)), real_(std::move(ex)),
          done_(std::move(done)) {
        ++sh_.in_flight;
    }

    ~request_job() {
        if (sink_) {
            sink_->real = nullptr;
        }
        --sh_.in_flight;
    }

    void start() {
        if (route_->offload) {
            start_offloaded();
            return;
        }
        ex_ = real_.get();
        step();
    }

private:
    enum class stage { pre, content, content_resume, stream_resume, post, finished };

    void start_offloaded() {
        // Interpreters are made on the loop thread, before the job leaves it.
        std::vector<const hosts::phase_route*> used;
        for (const auto& pr : route_->phases) {
            used.push_back(&pr);
        }
        used.push_back(&route_->output_filter);
        used.push_back(&route_->input_filter);
        for (const hosts::phase_route* p : used) {
            const hosts::phase_route& pr = *p;
            std::string err;
            if (pr.set && sh_.reg.get(pr.interpreter, &err) == nullptr) {
                log::write(log::level::error, "dispatch", pr.interpreter, err);
                finish_on_loop(500, true);
                return;
            }
        }
        sink_ = std::make_shared<response_sink>();
        sink_->real = real_.get();
        pool_ex_ = std::make_unique<offload_exchange>(*real_, sh_.exec, sink_);
        ex_ = pool_ex_.get();
        out_.offloaded = true;
        auto self = shared_from_this();
        if (!sh_.exec.submit([self] { self->step(); })) {
            sink_->abandoned = true;
            log::write(log::level::warn, "dispatch", "", "worker pool queue full: 503 for " + route_->uri);
            finish_on_loop(503, true);
            return;
        }
        if (route_->handler_timeout.count() > 0) {
            timer_ = sh_.exec.schedule(static_cast<std::uint64_t>(route_->handler_timeout.count()),
                                       [self] { self->on_offload_timeout(); });
        }
    }

    // Loop thread: the pool has not answered in time.
    void on_offload_timeout() {
        timer_ = 0;
        if (sink_->abandoned || real_->finished() || real_->streaming()) {
            return;
        }
        sink_->abandoned = true;
        log::write(log::level::error, "dispatch", route_->at(conf::phase::content).interpreter,
                   "offloaded handler for " + route_->uri + " ran past handler_timeout (" +
                       std::to_string(route_->handler_timeout.count()) +
                       " ms): answered 504; its worker is reused when it returns");
        answer_plain(504);
        timed_out_ = true;
    }

    void answer_plain(int status) {
        real_->discard_output();
        std::string reason(http_reason(status));
        std::string body = status_page_html(status);
        header_list h{{"Content-Type", "text/html; charset=utf-8"}};
        if (status == 503) {
            h.emplace_back("Retry-After", "1");
        }
        real_->write(body.data(), body.size());
        real_->finish(status, reason, h);
    }

    // Loop thread: answers `status` (when nothing was sent) and ends the job.
    void finish_on_loop(int status, bool answer) {
        if (answer && !real_->finished()) {
            answer_plain(status);
        }
        out_.status = status;
        complete();
    }

    void complete() {
        if (timed_out_) {
            out_.status = 504;
        }
        if (timer_ != 0) {
            sh_.exec.cancel(timer_);
            timer_ = 0;
        }
        finished_handler done = std::move(done_);
        if (done) {
            done(out_);
        }
    }

    thread_states* states() { return sh_.exec.on_pool_thread() ? &pool_states : nullptr; }

    // Runs until the request is finished or its content handler suspends.
    void step() {
        if (!rs_) {
            rs_.emplace(sh_, *cfg_, gen_, *current_route(), *ex_, states());
        }
        using conf::phase;
        for (;;) {
            const hosts::route& r = *current_route();
            switch (st_) {
                case stage::pre: {
                    int code = rs_->run_pre(false);
                    if (code == code_ok) {
                        st_ = stage::content;
                    } else {
                        answer(code);
                        st_ = stage::post;
                    }
                    break;
                }
                case stage::content: {
                    const hosts::phase_route& content = r.at(phase::content);
                    bool added = !content.set && rs_->ctx().phase_active(phase::content);
                    if (!added && (r.kind != hosts::route_kind::handler || !content.set ||
                                   (content.handlers.empty() && content.wsgi.empty()))) {
                        out_.status = fallback(r);
                        st_ = stage::post;
                        break;
                    }
                    PyObject* req = rs_->begin_phase(phase::content);
                    count_request();
                    if (req == nullptr) {
                        answer(500);
                        st_ = stage::post;
                        break;
                    }
                    if (!content.wsgi.empty()) {
                        bool on_loop = states() == nullptr;
                        int code = run_wsgi(*rs_->last_interpreter(), rs_->ctx(), content, req,
                                            rs_->error_text(), rs_->pacing(), on_loop ? &rs_->stream : nullptr);
                        if (code == wsgi_paused) {
                            wait_for_socket();
                            return;
                        }
                        content_done(code);
                        break;
                    }
                    int code = run_content_from(req, states() == nullptr);
                    if (code == code_suspend) {
                        suspend();
                        return;
                    }
                    content_done(code);
                    break;
                }
                case stage::content_resume: {
                    rs_->resume_scope();
                    int code = rs_->step_coroutine(true);
                    if (code == code_suspend) {
                        suspend();
                        return;
                    }
                    st_ = stage::content;
                    if (run_state::continues(phase::content, code)) {
                        ++handler_idx_;
                        code = run_content_from(rs_->ctx().py_req.get(), true, code);
                        if (code == code_suspend) {
                            suspend();
                            return;
                        }
                    }
                    content_done(code);
                    break;
                }
                case stage::stream_resume: {
                    rs_->resume_scope();
                    int code = resume_wsgi(*rs_->last_interpreter(), rs_->ctx(), r.at(phase::content),
                                           rs_->error_text(), rs_->pacing(), rs_->stream);
                    if (code == wsgi_paused) {
                        wait_for_socket();
                        return;
                    }
                    st_ = stage::content;
                    content_done(code);
                    break;
                }
                case stage::post: {
                    for (phase p : {phase::log, phase::cleanup}) {
                        if (rs_->ctx().phase_active(p)) {
                            rs_->run_phase(p);
                        }
                    }
                    rs_->run_cleanups();
                    out_.user = rs_->ctx().user;
                    if (out_.interpreter.empty() && rs_->last_interpreter() != nullptr) {
                        out_.interpreter = rs_->last_interpreter()->name();
                    }
                    rs_->release();
                    st_ = stage::finished;
                    break;
                }
                case stage::finished: {
                    rs_.reset();
                    if (states() != nullptr) {
                        // Leave the pool thread; the loop logs and frees.
                        auto self = shared_from_this();
                        sh_.exec.post([self] { self->complete(); });
                    } else {
                        complete();
                    }
                    return;
                }
            }
        }
    }

    // Runs the content handlers from handler_idx_ on; code_suspend when one awaits.
    int run_content_from(PyObject* req, bool may_suspend, int code = code_ok) {
        for (;; ++handler_idx_) {
            std::string dir;
            const hosts::handler_entry* h = rs_->entry_at(conf::phase::content, handler_idx_, dir);
            if (h == nullptr) {
                return code;
            }
            int c = rs_->call_handler(*h, dir, req, may_suspend);
            if (c == code_skip) {
                code = handler_idx_ == 0 ? code_declined : code;
                continue;
            }
            code = c;
            if (code == code_suspend || !run_state::continues(conf::phase::content, code)) {
                return code;
            }
        }
    }

    // The route the request runs under now (a trans handler may have changed it).
    const hosts::route* current_route() const { return rs_ ? rs_->ctx().route : route_.get(); }

    void count_request() {
        if (interpreter* in = rs_->last_interpreter()) {
            ++in->stats.requests;
            out_.interpreter = in->name();
            sh_.reg.served(*in);  // autoreload = "app": logs a fresh interpreter's first answer
        }
    }

    int fallback(const hosts::route& r) {
        rs_->leave_scope();  // static files need no Python (output filters enter their own)
        return sh_.fallback(*rs_->ctx().ex, r, rs_->ctx().filename, rs_->ctx().path_info);
    }

    // The content phase ended with `code`.
    void content_done(int code) {
        request_ctx& c = rs_->ctx();
        if (ex_->finished()) {
            out_.status = ex_->status_sent();
        } else if (code == code_ok || code == code_done) {
            rs_->respond(*rs_->ctx().ex);
            out_.status = c.status;
        } else if (code == code_declined) {
            out_.status = fallback(*current_route());
        } else {
            answer(code);
        }
        st_ = stage::post;
    }

    // A pre-phase or content phase ended the request with `code`.
    void answer(int code) {
        if (code == code_done) {
            rs_->respond(*rs_->ctx().ex);
            out_.status = rs_->ctx().status;
            return;
        }
        if (!is_http_status(code)) {
            code = 500;
        }
        if (code == 500) {
            rs_->count_error();
        }
        rs_->respond_error(*rs_->ctx().ex, code);
        out_.status = code;
    }

    // An inline WSGI answer streams: the next block is pulled when the socket
    // has room; the loop serves other connections meanwhile.
    void wait_for_socket() {
        st_ = stage::stream_resume;
        rs_->leave_scope();
        auto self = shared_from_this();
        ex_->when_drained([self] { self->step(); });
    }

    // The coroutine awaits an offload: run it on the pool, resume on the loop.
    // Awaiting req.drain(), it resumes when the socket has room.
    void suspend() {
        st_ = stage::content_resume;
        rs_->leave_scope();
        auto self = shared_from_this();
        if (rs_->awaiting_drain) {
            ex_->when_drained([self] {
                self->rs_->resume_scope();
                self->rs_->drop_awaiting();
                self->rs_->leave_scope();
                self->step();
            });
            return;
        }
        bool queued = sh_.exec.submit([self] {
            self->rs_->run_awaited_on_pool(pool_states);
            self->sh_.exec.post([self] {
                self->rs_->resume_scope();
                self->rs_->drop_awaiting();
                self->rs_->leave_scope();
                self->step();
            });
        });
        if (!queued) {
            // Queue full: the awaited call fails inside the coroutine.
            rs_->resume_scope();
            py::ref r = py::ref::steal(PyObject_CallMethod(rs_->awaiting.get(), "fail_busy", nullptr));
            if (!r) {
                PyErr_Clear();
            }
            rs_->drop_awaiting();
            rs_->leave_scope();
            step();
        }
    }

    dispatcher::shared& sh_;
    std::shared_ptr<const conf::config> cfg_;
    std::uint64_t gen_;
    std::shared_ptr<const hosts::route> route_;
    std::unique_ptr<exchange> real_;
    std::unique_ptr<offload_exchange> pool_ex_;
    std::shared_ptr<response_sink> sink_;
    exchange* ex_ = nullptr;
    finished_handler done_;
    std::optional<run_state> rs_;  // inside the job: one allocation per request
    stage st_ = stage::pre;
    std::size_t handler_idx_ = 0;
    std::uint64_t timer_ = 0;
    bool timed_out_ = false;  // loop thread only
    outcome out_;
};

}  // namespace

dispatcher::dispatcher(registry& reg, default_handler fallback, executor& exec)
    : shared_(new shared{reg, std::move(fallback), exec, in_flight_, {}}) {}

dispatcher::~dispatcher() = default;

void dispatcher::start(std::shared_ptr<const conf::config> cfg, std::uint64_t generation,
                       std::shared_ptr<const hosts::route> r,
                       std::unique_ptr<exchange> ex, finished_handler done) {
    auto job = std::make_shared<request_job>(*shared_, std::move(cfg), generation, std::move(r), std::move(ex),
                                             std::move(done));
    job->start();
}

std::string dispatcher::run_import(const std::string& interp_name, const conf::site& site, const std::string& entry) {
    std::string err;
    interpreter* in = shared_->reg.get(interp_name, &err);
    if (in == nullptr) {
        return err;
    }
    scope s(*in);
    std::string module = entry, callable;
    if (auto pos = entry.find("::"); pos != std::string::npos) {
        module = entry.substr(0, pos);
        callable = entry.substr(pos + 2);
    }
    // The site's paths and env first, so the import finds its modules.
    py::ref r;
    if (apply_site(*in, site)) {
        r = py::ref::borrow(Py_None);
    }
    if (r) {
        r = py::ref::steal(PyObject_CallMethod(in->runtime(), "_python_import", "sss", module.c_str(),
                                               callable.c_str(), site.document_root.c_str()));
    }
    if (!r) {
        return py::take_error_text();
    }
    return "";
}

}  // namespace subhttpd::interp

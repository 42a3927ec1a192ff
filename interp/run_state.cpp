// run_state: the phases, handler calls, coroutines and filters of one pass
// (see run_state.h); run_state_answer.cpp builds the answer.
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include "common/clock.h"
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
#include "interp/run_state.h"

namespace subhttpd::interp::dispatch_impl {

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

void run_state::start_streaming(bool hold) {
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
    if (hold) {
        ex.hold_stream(ctx_.status, reason_for(ctx_.status), std::move(headers));
    } else {
        ex.start_stream(ctx_.status, reason_for(ctx_.status), headers);
    }
}

void run_state::request_flush() {
    exchange& ex = *ctx_.ex;
    if (ex.finished()) {
        return;
    }
    if (!ex.streaming()) {
        if (!output_watched_ || filters_ || depth_ > 0 || ex.bytes_written() >= exchange::low_water) {
            start_streaming();
            return;
        }
        start_streaming(true);
        flush_deferred_ = true;
        flush_since_ = mono_now();
        sh_.wd.flush_wanted();
        return;
    }
    // Streaming: writes leave as they come, except while held.
    if (flush_deferred_ && (ex.unsent() >= exchange::low_water || mono_now() - flush_since_ >= max_flush_delay)) {
        send_deferred();
    }
}

void run_state::send_deferred() {
    if (!flush_deferred_) {
        return;
    }
    flush_deferred_ = false;
    ctx_.ex->flush();
}

void run_state::watch_call(interpreter& in) {
    if (ts_ != nullptr) {
        return;  // off the loop: no timeout, and flushes are sent at once
    }
    sh_.wd.arm(in, static_cast<std::uint64_t>(ctx_.route->handler_timeout.count()));
    if (depth_ == 0) {
        output_watched_ = true;
        sh_.wd.watch_output(in, *this);
        if (flush_deferred_) {
            sh_.wd.flush_wanted();
        }
    }
}

bool run_state::unwatch_call() {
    if (ts_ != nullptr) {
        return false;
    }
    if (depth_ == 0) {
        sh_.wd.unwatch_output();
        output_watched_ = false;
    }
    return sh_.wd.disarm();
}

int run_state::run_pre(bool redirected) {
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

void run_state::map_after_trans(bool translated, std::string& mapped_filename, std::string& mapped_path_info) {
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

bool run_state::run_redirect(const std::string& target) {
    if (depth_ >= max_redirects) {
        PyErr_Format(PyExc_RuntimeError, "internal_redirect: more than %d nested redirects", max_redirects);
        return false;
    }
    exchange& ex = *ctx_.ex;
    send_deferred();  // what the caller flushed leaves with the caller's headers, as before
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

void run_state::start_streaming_exported() {
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

void run_state::install_route_filters(const hosts::route& r) {
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

void run_state::add_filter(filter_state f) {
    if (!filters_) {
        filters_ = std::make_unique<filter_exchange>(
            *ctx_.ex, [this](filter_state& st, std::string_view in, bool eos, std::string& out) {
                run_filter(st, in, eos, out);
            });
        ctx_.ex = filters_.get();
    }
    filters_->add(std::move(f));
}

void run_state::run_filter(filter_state& f, std::string_view data, bool eos, std::string& out) {
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

void run_state::reroute(const hosts::route& r) {
    ctx_.route = &r;
    ctx_.filename = r.filename;
    ctx_.path_info = r.path_info;
    ctx_.debug = r.debug;
    ctx_.handler_name = r.at(conf::phase::content).wsgi.empty() ? "mod_python" : "wsgi-script";
    if (!filters_) {
        install_route_filters(r);
    }
}

int run_state::run_phase(conf::phase p) {
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

const hosts::handler_entry* run_state::entry_at(conf::phase p, std::size_t i, std::string& dir) const {
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

PyObject* run_state::begin_phase(conf::phase p) {
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

int run_state::call_handler(const hosts::handler_entry& h, const std::string& dir, PyObject* req, bool may_suspend) {
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
        watch_call(in);
        result = py::ref::steal(PyObject_CallOneArg(fn.get(), req));
        if (unwatch_call() && !result) {
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

void run_state::note_running(const hosts::handler_entry& h, const std::string& dir) {
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

int run_state::step_coroutine(bool may_suspend) {
    interpreter& in = *last_in_;
    for (;;) {
        push_dir(in, coro_dir);
        watch_call(in);
        py::ref r = py::ref::steal(PyObject_CallMethod(in.runtime(), "_coro_step", "O", coro.get()));
        if (unwatch_call() && !r) {
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
        send_deferred();
        py::ref ran = py::ref::steal(PyObject_CallMethod(awaiting.get(), "run", nullptr));
        awaiting.reset();
        if (!ran) {
            return result_code(coro_handler, ran);
        }
    }
}

bool run_state::continues(conf::phase p, int code) {
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

}  // namespace subhttpd::interp::dispatch_impl

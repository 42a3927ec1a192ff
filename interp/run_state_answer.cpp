// run_state: the answer -- headers, error pages, cleanups, the handler cache
// lookups and result codes (see run_state.h).
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
#include "interp/run_state.h"

namespace subhttpd::interp::dispatch_impl {

void run_state::respond(exchange& ex) {
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

void run_state::respond_error(exchange& ex, int status) {
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

void run_state::run_cleanups() {
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

void run_state::release() {
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

wsgi_pacing run_state::pacing() {
    wsgi_pacing p;
    if (ts_ == nullptr && last_in_ != nullptr) {
        p.wd = &sh_.wd;
        p.in = last_in_;
        p.ms = static_cast<std::uint64_t>(ctx_.route->handler_timeout.count());
    }
    return p;
}

std::string run_state::reason_for(int status) const {
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

void run_state::build_headers(header_list& out, bool error, int error_status) {
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

interpreter* run_state::enter(const std::string& name) {
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

PyObject* run_state::request_in(interpreter& in) {
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

void run_state::prepare_site(interpreter& in) {
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

py::ref run_state::resolve(interpreter& in, const std::string& module_dir, const hosts::handler_entry& h) {
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

PyObject* run_state::missing_function(interpreter& in, const std::string& module_dir, const hosts::handler_entry& h,
                                  bool autoreload) {
    py::ref got = py::ref::steal(PyObject_CallMethod(in.runtime(), "_resolve_with_files", "ssss",
                                                     h.module.c_str(), module_dir.c_str(), "__name__",
                                                     autoreload ? "1" : ""));
    if (!got || !PyTuple_Check(got.get()) || PyTuple_GET_SIZE(got.get()) != 2) {
        return got.release();
    }
    return PyTuple_Pack(2, Py_None, PyTuple_GET_ITEM(got.get(), 1));
}

void run_state::push_dir(interpreter& in, const std::string& dir) {
    py::ref& name = in.dir_names[dir];
    if (!name) {
        name = py::ref::steal(py::str(dir));
    }
    if (name && PyList_Append(in.current_dirs.get(), name.get()) == 0) {
        return;
    }
    PyErr_Clear();
}

void run_state::pop_dir(interpreter& in) {
    PyObject* dirs = in.current_dirs.get();
    Py_ssize_t n = PyList_GET_SIZE(dirs);
    if (n > 0) {
        PyObject *t = nullptr, *v = nullptr, *tb = nullptr;
        PyErr_Fetch(&t, &v, &tb);  // keep the handler's exception
        PyList_SetSlice(dirs, n - 1, n, nullptr);
        PyErr_Restore(t, v, tb);
    }
}

int run_state::result_code(const hosts::handler_entry& h, const py::ref& result) {
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

int run_state::server_return_code(PyObject* exc) {
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

error_report run_state::debug_report() const {
    if (!report_.text.empty() && report_.text == error_text_) {
        return report_;
    }
    error_report r;
    r.text = error_text_;
    return r;
}

error_context run_state::debug_context(const exchange& ex) const {
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

}  // namespace subhttpd::interp::dispatch_impl

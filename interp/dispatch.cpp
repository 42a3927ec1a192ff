// Phase dispatch with mod_python 3.3+ semantics: a handler list runs left to
// right while each result lets its phase continue (access/fixup/log: OK or
// DECLINED; authen/authz: DECLINED; content/cleanup: OK).
#include "interp/dispatch.h"

#include <strings.h>
#include <unistd.h>

#include <cctype>

#include <optional>

#include "common/http_status.h"
#include "common/log.h"
#include "interp/module.h"
#include "interp/py_util.h"
#include "interp/wsgi.h"

namespace subhttpd::interp {
namespace {

constexpr int code_ok = 0;
constexpr int code_declined = -1;
constexpr int code_done = -2;
constexpr int max_redirects = 10;

// One request's run: owns the ctx, the scope and the error text.
class run_state {
public:
    run_state(registry& reg, const conf::config& cfg, std::uint64_t gen, const hosts::route& r, exchange& ex)
        : reg_(reg) {
        ctx_.ex = &ex;
        ctx_.cfg = &cfg;
        ctx_.route = &r;
        ctx_.generation = gen;
        ctx_.uri = r.uri;
        ctx_.filename = r.filename;
        ctx_.path_info = r.path_info;
        ctx_.args = r.args;
        ctx_.debug = r.debug;
        ctx_.handler_name = r.at(conf::phase::content).wsgi.empty() ? "mod_python" : "wsgi-script";
    }

    ~run_state() { release(); }

    request_ctx& ctx() { return ctx_; }

    // Runs one phase; returns its final code (an HTTP status for errors).
    int run_phase(conf::phase p) {
        const hosts::phase_route& pr = ctx_.route->at(p);
        interpreter* in = enter(pr.interpreter);
        if (in == nullptr) {
            return 500;
        }
        ctx_.phase = p;
        PyObject* req = request_in(*in);
        if (req == nullptr) {
            error_text_ = py::take_error_text();
            log::write(log::level::error, "dispatch", in->name(), "cannot make the request object: " + error_text_);
            return 500;
        }
        if (p == conf::phase::content && !pr.wsgi.empty()) {
            return run_wsgi(*in, ctx_, pr, req, error_text_);
        }
        int code = code_ok;
        for (const hosts::handler_entry& h : pr.handlers) {
            code = call_handler(*in, pr, h, req);
            if (!continues(p, code)) {
                break;
            }
        }
        return code;
    }

    static bool continues(conf::phase p, int code) {
        switch (p) {
            case conf::phase::access:
            case conf::phase::fixup:
            case conf::phase::log:
                return code == code_ok || code == code_declined;
            case conf::phase::authen:
            case conf::phase::authz:
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
        header_list headers;
        build_headers(headers, false);
        int status = ctx_.status;
        std::string reason = reason_for(status);
        ex.finish(status, reason, headers);
    }

    // An error status: Apache keeps err_headers_out (and Location for 3xx) only.
    void respond_error(exchange& ex, int status) {
        sync_tables();
        ex.discard_output();
        header_list headers;
        build_headers(headers, true);
        std::string reason(http_reason(status));
        std::string body;
        if (status >= 400 || (status >= 300 && status < 400)) {
            if (status == 500 && ctx_.debug && !error_text_.empty()) {
                headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
                body = "MOD_PYTHON ERROR\n\nProcessId:      " + std::to_string(getpid()) +
                       "\nInterpreter:    '" + ctx_.main_name + "'\n\nPhase:          '" +
                       std::string(conf::phase_directive(ctx_.phase)) + "'\n\n" + error_text_;
            } else {
                headers.emplace_back("Content-Type", "text/html; charset=utf-8");
                body = "<!DOCTYPE html>\n<html><head><title>" + std::to_string(status) + " " + reason +
                       "</title></head>\n<body><h1>" + reason + "</h1>\n";
                if (status == 500) {
                    body += "<p>The server could not complete your request. The error is in the server log.</p>\n";
                }
                body += "</body></html>\n";
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
                log::write(log::level::error, "dispatch", e.in->name(),
                           "cleanup failed: " + py::take_error_text());
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

    interpreter* last_interpreter() const { return last_in_; }

    // Drops every Python reference this run holds, each in its own interpreter.
    void release() {
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

    const std::string& error_text() const { return error_text_; }

private:
    std::string reason_for(int status) const {
        if (!ctx_.status_line.empty()) {
            // "200 OK" or just a reason
            std::string_view s = ctx_.status_line;
            auto sp = s.find(' ');
            if (sp != std::string_view::npos && sp == 3 && std::isdigit(static_cast<unsigned char>(s[0]))) {
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

    void build_headers(header_list& out, bool error) {
        if (!error) {
            out.emplace_back("Content-Type",
                             ctx_.content_type.empty() ? "text/plain; charset=utf-8" : ctx_.content_type);
            for (const auto& kv : ctx_.headers_out) {
                if (!skip_header(kv.first)) {
                    out.push_back(kv);
                }
            }
        } else if (ctx_.status >= 300 && ctx_.status < 400) {
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
        interpreter* in = reg_.get(name, &err);
        if (in == nullptr) {
            error_text_ = err;
            return nullptr;
        }
        enter_existing(*in);
        ctx_.main_name = in->name();
        last_in_ = in;
        in->stats.last_used = py::unix_now();
        return in;
    }

    void enter_existing(interpreter& in) {
        if (!scope_) {
            scope_.emplace(reg_, in);
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
        py::ref paths = py::ref::steal(PyList_New(0));
        py::ref env = py::ref::steal(PyDict_New());
        if (!paths || !env) {
            PyErr_Clear();
            return;
        }
        for (const auto& p : s->python_path) {
            py::ref v = py::ref::steal(py::str(p));
            if (v) {
                PyList_Append(paths.get(), v.get());
            }
        }
        for (const auto& [k, v] : s->env) {
            py::ref vs = py::ref::steal(py::str(v));
            if (vs) {
                PyDict_SetItemString(env.get(), k.c_str(), vs.get());
            }
        }
        py::ref r = py::ref::steal(
            PyObject_CallMethod(in.runtime(), "_prepare_site", "OO", paths.get(), env.get()));
        if (!r) {
            log::write(log::level::error, "dispatch", in.name(), "site set-up failed: " + py::take_error_text());
        }
    }

    PyObject* resolve(interpreter& in, const hosts::phase_route& pr, const hosts::handler_entry& h) {
        std::string key;
        key.reserve(pr.module_dir.size() + h.module.size() + h.callable.size() + 2);
        key += pr.module_dir;
        key += '\x1f';
        key += h.module;
        key += '\x1f';
        key += h.callable;
        bool autoreload = ctx_.route->autoreload;
        double now = py::mono_now();
        auto it = in.callables.find(key);
        if (it != in.callables.end() && (now < it->second.next_check)) {
            return it->second.callable.get();
        }
        py::ref fn = py::ref::steal(PyObject_CallMethod(in.runtime(), "_resolve", "ssss", h.module.c_str(),
                                                        pr.module_dir.c_str(), h.callable.c_str(),
                                                        autoreload ? "1" : ""));
        if (!fn) {
            if (it != in.callables.end()) {
                in.callables.erase(it);
            }
            return nullptr;
        }
        cached_callable& slot = in.callables[key];
        slot.callable = fn;
        slot.next_check = autoreload ? now + 1.0 : 1e300;
        return slot.callable.get();
    }

    int call_handler(interpreter& in, const hosts::phase_route& pr, const hosts::handler_entry& h, PyObject* req) {
        PyObject* fn = resolve(in, pr, h);
        py::ref result;
        if (fn != nullptr) {
            PyObject* dirs = PyObject_GetAttrString(in.runtime(), "_current_dirs");
            py::ref dirs_ref = py::ref::steal(dirs);
            py::ref dir = py::ref::steal(py::str(pr.module_dir));
            if (dirs != nullptr && dir) {
                PyList_Append(dirs, dir.get());
            }
            result = py::ref::steal(PyObject_CallOneArg(fn, req));
            if (dirs != nullptr && PyList_GET_SIZE(dirs) > 0) {
                PyList_SetSlice(dirs, PyList_GET_SIZE(dirs) - 1, PyList_GET_SIZE(dirs), nullptr);
            }
        }
        if (result) {
            if (PyLong_Check(result.get())) {
                return static_cast<int>(PyLong_AsLong(result.get()));
            }
            if (PyCoro_CheckExact(result.get())) {
                return drive_coroutine(in, h, std::move(result));
            }
            error_text_ = "handler " + h.module + "::" + h.callable + " returned an invalid return code: " +
                          std::string(Py_TYPE(result.get())->tp_name) + " (expected an int such as apache.OK)";
            log::write(log::level::error, "dispatch", in.name(), error_text_);
            return 500;
        }
        return handle_exception(in, h);
    }

    // An async handler run on the loop without suspension points of its own:
    // every await must complete synchronously here (offload suspends; see pool).
    int drive_coroutine(interpreter& in, const hosts::handler_entry& h, py::ref coro) {
        py::ref r = py::ref::steal(PyObject_CallMethod(in.runtime(), "_run_coroutine", "O", coro.get()));
        if (!r) {
            return handle_exception(in, h);
        }
        if (PyLong_Check(r.get())) {
            return static_cast<int>(PyLong_AsLong(r.get()));
        }
        error_text_ = "handler " + h.module + "::" + h.callable + " returned an invalid return code";
        log::write(log::level::error, "dispatch", in.name(), error_text_);
        return 500;
    }

    int handle_exception(interpreter& in, const hosts::handler_entry& h) {
        module_state* st = get_module_state(in.module());
        if (PyErr_ExceptionMatches(st->server_return)) {
            PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            py::ref t = py::ref::steal(type), v = py::ref::steal(value), b = py::ref::steal(tb);
            return server_return_code(v.get());
        }
        error_text_ = py::take_error_text();
        log::write(log::level::error, "dispatch", in.name(),
                   std::string(conf::phase_directive(ctx_.phase)) + " " + h.module + "::" + h.callable +
                       " failed for " + ctx_.uri + ":\n" + error_text_);
        return 500;
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

    registry& reg_;
    request_ctx ctx_;
    std::optional<scope> scope_;
    interpreter* last_in_ = nullptr;
    std::string error_text_;
};

bool is_http_status(int code) { return code >= 100 && code <= 999; }

}  // namespace

outcome dispatcher::run(const conf::config& cfg, std::uint64_t generation, const hosts::route& first,
                        exchange& ex) {
    outcome out;
    const hosts::route* r = &first;
    hosts::route redirected;  // storage for internal redirects
    for (int depth = 0;; ++depth) {
        run_state rs(reg_, cfg, generation, *r, ex);
        bool responded = false;
        int code = code_ok;
        using conf::phase;
        for (phase p : {phase::access, phase::authen, phase::authz, phase::fixup}) {
            if (!r->at(p).set) {
                continue;
            }
            code = rs.run_phase(p);
            if (code == code_ok || code == code_declined) {
                continue;
            }
            if (code == code_done) {
                rs.respond(ex);
            } else {
                if (!is_http_status(code)) {
                    code = 500;
                }
                if (code == 500) {
                    rs.count_error();
                }
                rs.respond_error(ex, code);
            }
            responded = true;
            out.status = ex.finished() ? (code == code_done ? rs.ctx().status : code) : 500;
            break;
        }
        if (!responded) {
            const hosts::phase_route& content = r->at(phase::content);
            if (r->kind == hosts::route_kind::handler && content.set &&
                (!content.handlers.empty() || !content.wsgi.empty())) {
                code = rs.run_phase(phase::content);
                if (interpreter* in = rs.last_interpreter()) {
                    ++in->stats.requests;
                    out.interpreter = in->name();
                }
                if (!rs.ctx().internal_redirect.empty() && depth < max_redirects) {
                    std::string target = rs.ctx().internal_redirect;
                    rs.run_cleanups();
                    rs.release();
                    ex.discard_output();
                    hosts::request_line line{ex.host(), ex.method(), target};
                    redirected = hosts::resolve(cfg, line);
                    r = &redirected;
                    if (redirected.kind == hosts::route_kind::handler || redirected.kind ==
                                                                             hosts::route_kind::static_file) {
                        continue;
                    }
                    out.status = fallback_(ex, redirected, redirected.filename, redirected.path_info);
                    return out;
                }
                if (ex.finished()) {
                    out.status = ex.status_sent();
                } else if (code == code_ok || code == code_done) {
                    rs.respond(ex);
                    out.status = rs.ctx().status;
                } else if (code == code_declined) {
                    out.status = fallback_(ex, *r, rs.ctx().filename, rs.ctx().path_info);
                } else {
                    if (!is_http_status(code)) {
                        code = 500;
                    }
                    if (code == 500) {
                        rs.count_error();
                    }
                    rs.respond_error(ex, code);
                    out.status = code;
                }
            } else {
                out.status = fallback_(ex, *r, rs.ctx().filename, rs.ctx().path_info);
            }
        }
        for (phase p : {phase::log, phase::cleanup}) {
            if (r->at(p).set) {
                rs.run_phase(p);
            }
        }
        rs.run_cleanups();
        if (out.interpreter.empty() && rs.last_interpreter() != nullptr) {
            out.interpreter = rs.last_interpreter()->name();
        }
        return out;
    }
}

std::string dispatcher::run_import(const std::string& interp_name, const conf::site& site, const std::string& entry,
                                   std::uint64_t generation, const conf::config& cfg) {
    (void)generation;
    (void)cfg;
    std::string err;
    interpreter* in = reg_.get(interp_name, &err);
    if (in == nullptr) {
        return err;
    }
    scope s(reg_, *in);
    std::string module = entry, callable;
    if (auto pos = entry.find("::"); pos != std::string::npos) {
        module = entry.substr(0, pos);
        callable = entry.substr(pos + 2);
    }
    // The site's paths and env first, so the import finds its modules.
    py::ref paths = py::ref::steal(PyList_New(0));
    py::ref env = py::ref::steal(PyDict_New());
    for (const auto& p : site.python_path) {
        py::ref v = py::ref::steal(py::str(p));
        PyList_Append(paths.get(), v.get());
    }
    for (const auto& [k, v] : site.env) {
        py::ref vs = py::ref::steal(py::str(v));
        PyDict_SetItemString(env.get(), k.c_str(), vs.get());
    }
    py::ref r = py::ref::steal(PyObject_CallMethod(in->runtime(), "_prepare_site", "OO", paths.get(), env.get()));
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

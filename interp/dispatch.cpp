// Phase dispatch with mod_python 3.3+ semantics: a handler list runs left to
// right while each result lets its phase continue (Apache's RUN_ALL phases
// postreadrequest/headerparser/init/access/fixup/log: OK or DECLINED; RUN_FIRST
// phases trans/authen/authz/type: DECLINED; content/cleanup: OK). This file is
// the request job (inline, offloaded, suspended on a coroutine) and the
// dispatcher; one pass through the phases is run_state (run_state.h).
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
#include "interp/filter_exchange.h"
#include "interp/module.h"
#include "interp/offload_exchange.h"
#include "interp/py_util.h"
#include "interp/redirect_link.h"
#include "interp/watchdog.h"
#include "interp/run_state.h"
#include "interp/wsgi.h"

namespace subhttpd::interp {

using namespace dispatch_impl;

namespace {

thread_local thread_states pool_states;  // a pool thread's own thread states

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
        rs_->send_deferred();  // the loop serves others now: flushed output leaves first
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

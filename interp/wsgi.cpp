// The WSGI adapter (PEP 3333). The environ is built here from the exchange with
// keys and constant values cached per interpreter (wsgi_state, kept in the
// native module's state, never in globals). wsgi.input and start_response are
// small native heap types bound to one request and detached when it ends, so an
// app that keeps them gets an error instead of a dangling pointer. The app loader,
// wsgi.errors and wsgi.file_wrapper are plain Python in _subhttpd.py.
//
// Response: the body is buffered and finished with its Content-Length, unless the
// request runs off the loop (offload) with more than one block and no
// Content-Length: then it is streamed (chunked) from the first non-empty block.
// Nothing here assumes the loop thread; the exchange is the only way out.
//
// This file runs the app; the environ, wsgi.input and start_response are in
// wsgi_environ.cpp, wsgi_input.cpp and wsgi_start_response.cpp (wsgi_parts.h).
#include "interp/wsgi.h"
#include "interp/watchdog.h"
#include "interp/extension_hint.h"
#include "interp/fd_shortage.h"

#include "common/clock.h"
#include "common/log.h"
#include "interp/py_util.h"
#include "interp/wsgi_parts.h"

namespace subhttpd::interp {

using namespace wsgi_impl;

namespace {

// ---- the app ------------------------------------------------------------------------

// (callable, script file) for the route (new reference), from the
// interpreter's handler cache; re-resolved at most once a second when
// autoreload is on. NULL with an error set when it cannot be loaded.
py::ref resolve_app(interpreter& in, const request_ctx& ctx, const hosts::phase_route& pr) {
    std::string key;
    key.reserve(pr.module_dir.size() + pr.wsgi.size() + 6);
    key += "\x1ewsgi\x1f";
    key += pr.module_dir;
    key += '\x1f';
    key += pr.wsgi;
    const bool autoreload = ctx.route->autoreload;
    return in.handlers.get(key, [&](cached_callable& slot) {
        // Dev mode adjusts framework apps (Flask propagates errors, Django DEBUG);
        // the block option wsgi_debugger = "werkzeug" asks for Werkzeug's debugger.
        const bool dev = ctx.cfg != nullptr && ctx.cfg->server.dev;
        auto dbg = ctx.route->options.find("wsgi_debugger");
        const char* debugger = dbg == ctx.route->options.end() ? "" : dbg->second.c_str();
        const double now = mono_now();
        py::ref entry = py::ref::steal(PyObject_CallMethod(in.runtime(), "_resolve_wsgi", "ssOOs", pr.wsgi.c_str(),
                                                           pr.module_dir.c_str(), autoreload ? Py_True : Py_False,
                                                           dev ? Py_True : Py_False, debugger));
        if (!entry || !PyTuple_Check(entry.get()) || PyTuple_GET_SIZE(entry.get()) != 2) {
            if (entry) {
                PyErr_SetString(PyExc_TypeError, "_resolve_wsgi() must return (callable, filename)");
            }
            return false;
        }
        slot.callable = std::move(entry);
        slot.next_check = autoreload ? now + 1.0 : 1e300;
        return true;
    });
}

// The error set now as text with its traceback (cleared), logged once; when it
// is an extension refusing subinterpreters, a second line says what to do.
std::string take_app_error(wsgi_state* ws, interpreter& in, const request_ctx& ctx, const hosts::phase_route& pr,
                           const char* what) {
    std::string hint;
    if (ws != nullptr) {
        hint = extension_refusal_hint(in, ctx.reg, "the WSGI app " + pr.wsgi + " (" + hosts::describe_in(*ctx.route, pr.from) + ")",
                                      ctx.reg != nullptr);
    }
    std::string text = py::take_error_text();
    if (!hint.empty()) {
        text += "\n" + hint + "\n";
    }
    log::write(log::level::error, "wsgi", in.name(),
               std::string(what) + " (WSGI app " + pr.wsgi + ") for " + ctx.uri + ":\n" + text);
    return text;
}

// Ends the request's hold on the native objects it handed to the app.
struct detach_guard {
    input_object* input = nullptr;
    start_response_object* sr = nullptr;
    ~detach_guard() {
        if (input != nullptr) {
            input->ex = nullptr;
        }
        if (sr != nullptr) {
            sr->resp = nullptr;
        }
    }
};

// Sends a wsgi.file_wrapper's file with the exchange (sendfile). Returns 1 when
// sent, 0 when the file cannot be found (iterate instead), -1 with an error set.
int send_wrapped_file(wsgi_state& ws, wsgi_response& resp, PyObject* wrapper) {
    py::ref target = py::ref::steal(PyObject_CallOneArg(ws.file_target.get(), wrapper));
    if (!target) {
        return -1;
    }
    const char* path = nullptr;
    unsigned long long offset = 0, length = 0;
    if (target.get() == Py_None || !PyArg_ParseTuple(target.get(), "sKK", &path, &offset, &length)) {
        PyErr_Clear();
        return 0;
    }
    if (!resp.headers_set) {
        PyErr_SetString(PyExc_AssertionError, "the application returned a file without calling start_response()");
        return -1;
    }
    if (resp.content_length >= 0 && static_cast<unsigned long long>(resp.content_length) < length) {
        length = static_cast<unsigned long long>(resp.content_length);
    }
    resp.committed = true;
    if (length > 0 && !resp.ex->send_file(path, offset, length)) {
        return 0;
    }
    resp.sent += length;
    return 1;
}

// Writes one block of the result; false with a Python error set.
bool emit_block(wsgi_response& resp, PyObject* block, bool single) {
    if (PyBytes_Check(block)) {
        return resp.emit(PyBytes_AS_STRING(block), static_cast<std::size_t>(PyBytes_GET_SIZE(block)), single);
    }
    if (PyByteArray_Check(block)) {
        return resp.emit(PyByteArray_AS_STRING(block), static_cast<std::size_t>(PyByteArray_GET_SIZE(block)), single);
    }
    PyErr_Format(PyExc_TypeError, "the application must yield bytes, not %s", Py_TYPE(block)->tp_name);
    return false;
}

// Writes a list or tuple result (every block is there: buffered, with its
// length); false with a Python error set.
bool drain_sequence(wsgi_response& resp, PyObject* result) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(result);
    for (Py_ssize_t i = 0; i < n; ++i) {
        py::ref block = py::ref::borrow(PySequence_Fast_GET_ITEM(result, i));
        if (!emit_block(resp, block.get(), true)) {
            return false;
        }
        n = PySequence_Fast_GET_SIZE(result);
    }
    return true;
}

enum class pulled { finished, paused, failed };

// Pulls blocks from `it` into the response, each under the handler timeout.
// Once the response streams from the loop (`may_pause`), it pauses after each
// block so the loop serves other connections, and the job resumes it when the
// socket has room (below low water). failed: a Python error is set.
pulled pull(wsgi_response& resp, PyObject* it, const wsgi_pacing& pace, bool may_pause) {
    for (;;) {
        if (pace.wd != nullptr) {
            pace.wd->arm(*pace.in, pace.ms);
        }
        py::ref block = py::ref::steal(PyIter_Next(it));
        if (pace.wd != nullptr) {
            pace.wd->disarm();  // when it fired, its HandlerTimeout is the error raised
        }
        if (!block) {
            return PyErr_Occurred() ? pulled::failed : pulled::finished;
        }
        if (!emit_block(resp, block.get(), false)) {
            return pulled::failed;
        }
        if (resp.ex->gone()) {
            return pulled::finished;  // nobody to send the rest to
        }
        if (may_pause && resp.streaming) {
            return pulled::paused;
        }
    }
}

// `o.name` into `out` (unset when missing): 1 found, 0 missing, -1 error.
int optional_attr(PyObject* o, PyObject* name, py::ref& out) {
    PyObject* r = nullptr;
#if PY_VERSION_HEX >= 0x030D0000
    int rc = PyObject_GetOptionalAttr(o, name, &r);
#else
    int rc = _PyObject_LookupAttr(o, name, &r);
#endif
    out = py::ref::steal(r);
    return rc;
}

// result.close(), when it has one; false with a Python error set.
bool close_result(wsgi_state& ws, PyObject* result) {
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result) || PyBytes_CheckExact(result)) {
        return true;
    }
    py::ref close;
    if (optional_attr(result, ws.keys[k_close].get(), close) < 0) {
        return false;
    }
    if (!close) {
        return true;
    }
    py::ref r = py::ref::steal(PyObject_CallNoArgs(close.get()));
    return static_cast<bool>(r);
}

}  // namespace

// An inline response still being pulled: what run_wsgi's frame held, kept
// while the job waits for the socket. Dropped with the GIL held, in its
// interpreter.
struct wsgi_stream {
    py::ref input;
    py::ref sr;
    py::ref result;
    py::ref it;
    wsgi_response resp;
    std::string app;  // the route's wsgi text, for messages
    ~wsgi_stream() {
        if (input) {
            reinterpret_cast<input_object*>(input.get())->ex = nullptr;
        }
        if (sr) {
            reinterpret_cast<start_response_object*>(sr.get())->resp = nullptr;
        }
    }
};

void wsgi_stream_deleter::operator()(wsgi_stream* s) const { delete s; }

namespace {

// The iteration ended (ok) or failed: close() the result, end the response.
// Returns the content phase's code.
int end_result(wsgi_state& ws, interpreter& in, request_ctx& ctx, const hosts::phase_route& pr,
               wsgi_response& resp, PyObject* result, bool ok, std::string& error_text) {
    // close() is called whatever happened while iterating (PEP 3333); its
    // own error is reported unless the iteration's comes first.
    PyObject *t = nullptr, *v = nullptr, *tb = nullptr;
    PyErr_Fetch(&t, &v, &tb);
    bool closed = close_result(ws, result);
    if (!ok) {
        if (!closed) {
            log::write(log::level::error, "wsgi", in.name(),
                       "close() of " + pr.wsgi + " failed too:\n" + py::take_error_text());
        }
        PyErr_Restore(t, v, tb);
    } else {
        ok = closed;
    }
    if (ok && !resp.headers_set) {
        PyErr_SetString(PyExc_AssertionError, "the application returned without calling start_response()");
        ok = false;
    }
    if (!ok) {
        error_text = take_app_error(&ws, in, ctx, pr, "WSGI app failed");
        if (resp.streaming || resp.ex->streaming()) {
            // The headers are out: the client must see a broken response, not
            // a complete one (PEP 3333, RFC 9112 7.1: no last chunk).
            ctx.status = resp.status;
            resp.ex->abort();
            return -2;
        }
        ctx.ex->discard_output();
        return 500;
    }
    resp.finish();
    ctx.status = resp.status;
    return -2;  // DONE
}

}  // namespace

int run_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, PyObject*, std::string& error_text,
             const wsgi_pacing& pace, wsgi_stream_ptr* paused) {
    wsgi_state* ws = state_for(in);
    if (ws == nullptr) {
        error_text = take_app_error(nullptr, in, ctx, pr, "cannot set up WSGI");
        return 500;
    }
    py::ref entry = resolve_app(in, ctx, pr);
    if (!entry) {
        bool fd_shortage = error_is_fd_shortage();
        error_text = take_app_error(ws, in, ctx, pr, "cannot load the WSGI app");
        return fd_shortage ? 503 : 500;
    }
    py::ref app = py::ref::borrow(PyTuple_GET_ITEM(entry.get(), 0));
    py::ref script = py::ref::borrow(PyTuple_GET_ITEM(entry.get(), 1));

    wsgi_response resp;
    resp.ctx = &ctx;
    resp.ex = ctx.ex;
    resp.may_stream = ctx.ex->method() != "HEAD";

    auto* input_tp = reinterpret_cast<PyTypeObject*>(ws->input_type.get());
    py::ref input = py::ref::steal(input_tp->tp_alloc(input_tp, 0));
    auto* sr_tp = reinterpret_cast<PyTypeObject*>(ws->start_response_type.get());
    py::ref sr = py::ref::steal(sr_tp->tp_alloc(sr_tp, 0));
    if (!input || !sr) {
        error_text = take_app_error(ws, in, ctx, pr, "cannot set up WSGI");
        return 500;
    }
    detach_guard guard;  // after the refs: it runs before they are dropped
    guard.input = reinterpret_cast<input_object*>(input.get());
    guard.input->ex = ctx.ex;
    guard.input->remaining = ctx.ex->body_remaining();
    guard.sr = reinterpret_cast<start_response_object*>(sr.get());
    guard.sr->resp = &resp;

    py::ref env = py::ref::steal(build_environ(*ws, in, ctx, script.get(), input.get()));
    if (!env) {
        error_text = take_app_error(ws, in, ctx, pr, "cannot build the WSGI environ");
        return 500;
    }
    PyObject* call_args[] = {env.get(), sr.get()};
    if (pace.wd != nullptr) {
        pace.wd->arm(in, pace.ms);
    }
    py::ref result = py::ref::steal(PyObject_Vectorcall(app.get(), call_args, 2, nullptr));
    if (pace.wd != nullptr) {
        pace.wd->disarm();
    }
    env.reset();
    if (!result) {
        bool fd_shortage = error_is_fd_shortage();
        error_text = take_app_error(ws, in, ctx, pr, "WSGI app failed");
        ctx.ex->discard_output();
        return fd_shortage ? 503 : 500;
    }
    bool ok = true;
    PyObject* r = result.get();
    if (PyList_CheckExact(r) || PyTuple_CheckExact(r)) {
        ok = drain_sequence(resp, r);
        return end_result(*ws, in, ctx, pr, resp, r, ok, error_text);
    }
    if (Py_TYPE(r) == reinterpret_cast<PyTypeObject*>(ws->file_wrapper.get()) && !resp.committed) {
        int sent = send_wrapped_file(*ws, resp, r);
        if (sent != 0) {
            return end_result(*ws, in, ctx, pr, resp, r, sent > 0, error_text);
        }
    }
    py::ref it = py::ref::steal(PyObject_GetIter(r));
    if (!it) {
        return end_result(*ws, in, ctx, pr, resp, r, false, error_text);
    }
    pulled p = pull(resp, it.get(), pace, paused != nullptr);
    if (p != pulled::paused) {
        return end_result(*ws, in, ctx, pr, resp, r, p == pulled::finished, error_text);
    }
    // The socket is the limit now: keep the iteration for the job to resume.
    wsgi_stream_ptr st(new wsgi_stream);
    st->resp = std::move(resp);
    st->app = pr.wsgi;
    guard.input = nullptr;
    guard.sr->resp = &st->resp;
    guard.sr = nullptr;
    st->input = std::move(input);
    st->sr = std::move(sr);
    st->result = std::move(result);
    st->it = std::move(it);
    *paused = std::move(st);
    return wsgi_paused;
}

int resume_wsgi(interpreter& in, request_ctx& ctx, const hosts::phase_route& pr, std::string& error_text,
                const wsgi_pacing& pace, wsgi_stream_ptr& stream) {
    wsgi_state* ws = state_for(in);
    wsgi_stream& st = *stream;
    st.resp.ctx = &ctx;
    pulled p = ws == nullptr ? pulled::failed : pull(st.resp, st.it.get(), pace, true);
    if (p == pulled::paused) {
        return wsgi_paused;
    }
    if (ws == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "WSGI state lost");
        error_text = take_app_error(nullptr, in, ctx, pr, "WSGI app failed");
        st.resp.ex->abort();
        stream.reset();
        return -2;
    }
    int code = end_result(*ws, in, ctx, pr, st.resp, st.result.get(), p == pulled::finished, error_text);
    stream.reset();
    return code;
}

}  // namespace subhttpd::interp

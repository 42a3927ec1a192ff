#include "interp/watchdog.h"

#include <pythread.h>

#include <chrono>

#include "common/log.h"
#include "interp/py_util.h"

namespace subhttpd::interp {

watchdog::watchdog() : thread_([this] { main(); }) {}

watchdog::~watchdog() {
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void watchdog::arm(interpreter& in, std::uint64_t ms) {
    if (ms == 0) {
        return;
    }
    {
        std::lock_guard<std::mutex> g(mu_);
        ++generation_;
        armed_ = true;
        fired_ = false;
        deadline_ = py::mono_now() + static_cast<double>(ms) / 1000.0;
        in_ = &in;
        target_ = PyThread_get_thread_ident();
    }
    cv_.notify_all();
}

bool watchdog::disarm() {
    bool fired = false;
    {
        std::lock_guard<std::mutex> g(mu_);
        if (!armed_) {
            return false;
        }
        armed_ = false;
        fired = fired_;
    }
    if (fired) {
        // If the handler returned before the interrupt was delivered, it must not
        // hit the next piece of Python this thread runs.
        PyThreadState_SetAsyncExc(PyThread_get_thread_ident(), nullptr);
    }
    return fired;
}

void watchdog::main() {
    std::unique_lock<std::mutex> g(mu_);
    while (!stop_) {
        if (!armed_ || fired_) {
            cv_.wait(g);
            continue;
        }
        double now = py::mono_now();
        if (now < deadline_) {
            cv_.wait_for(g, std::chrono::duration<double>(deadline_ - now));
            continue;
        }
        std::uint64_t gen = generation_;
        interpreter* in = in_;
        unsigned long target = target_;
        g.unlock();
        // Take the GIL in the handler's interpreter; the loop thread gives it up
        // at its next switch interval (or is blocked outside Python).
        PyThreadState* ts = states_.get(*in);
        PyEval_RestoreThread(ts);
        {
            std::lock_guard<std::mutex> g2(mu_);
            // Holding the GIL, an armed watch with the same generation means the
            // loop thread is still inside that handler call.
            if (armed_ && generation_ == gen && !fired_) {
                py::ref exc = py::ref::steal(PyObject_GetAttrString(in->runtime(), "HandlerTimeout"));
                if (exc) {
                    PyThreadState_SetAsyncExc(target, exc.get());
                    fired_ = true;
                } else {
                    PyErr_Clear();
                }
            }
        }
        PyEval_SaveThread();
        g.lock();
    }
}

}  // namespace subhttpd::interp

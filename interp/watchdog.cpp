#include "interp/watchdog.h"

#include <pythread.h>

#include <chrono>

#include "common/clock.h"
#include "interp/py_util.h"

namespace subhttpd::interp {

watchdog::watchdog() : thread_([this] { main(); }) {}

watchdog::~watchdog() {
    stop_ = true;
    thread_.join();
}

void watchdog::arm(interpreter& in, std::uint64_t ms) {
    if (ms == 0) {
        return;
    }
    if (target_ == 0) {
        target_ = PyThread_get_thread_ident();
    }
    in_.store(&in, std::memory_order_relaxed);
    deadline_.store(mono_now() + static_cast<double>(ms) / 1000.0, std::memory_order_relaxed);
    armed_.store(++generation_, std::memory_order_release);
}

bool watchdog::disarm() {
    std::uint64_t gen = armed_.exchange(0, std::memory_order_acq_rel);
    if (gen == 0) {
        return false;
    }
    if (fired_.load(std::memory_order_acquire) != gen) {
        return false;
    }
    // If the handler returned before the interrupt was delivered, it must not hit
    // the next piece of Python this thread runs.
    PyThreadState_SetAsyncExc(PyThread_get_thread_ident(), nullptr);
    return true;
}

void watchdog::watch_output(interpreter& in, deferred_output& out) {
    out_in_.store(&in, std::memory_order_relaxed);
    out_.store(&out, std::memory_order_relaxed);
    out_armed_.store(++out_generation_, std::memory_order_release);
}

void watchdog::send_output() {
    std::uint64_t gen = out_armed_.load(std::memory_order_acquire);
    if (gen == 0 || !out_wanted_.load(std::memory_order_acquire)) {
        return;
    }
    interpreter* in = out_in_.load(std::memory_order_relaxed);
    deferred_output* out = out_.load(std::memory_order_relaxed);
    PyEval_RestoreThread(states_.get(*in));
    // Holding the GIL, the same generation means the loop thread is still inside
    // that handler call (unwatch_output runs with the GIL), so `out` is alive.
    if (out_armed_.load(std::memory_order_acquire) == gen && out_in_.load(std::memory_order_relaxed) == in &&
        out_.load(std::memory_order_relaxed) == out) {
        out_wanted_.store(false, std::memory_order_relaxed);
        out->send_deferred();
    }
    PyEval_SaveThread();
}

void watchdog::main() {
    unsigned long target = 0;
    while (!stop_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        send_output();
        std::uint64_t gen = armed_.load(std::memory_order_acquire);
        if (gen == 0 || fired_.load() == gen || mono_now() < deadline_.load(std::memory_order_relaxed)) {
            continue;
        }
        interpreter* in = in_.load(std::memory_order_relaxed);
        target = target_;
        // Take the GIL in the handler's interpreter; the loop thread gives it up
        // at its next switch interval (or is blocked outside Python).
        PyEval_RestoreThread(states_.get(*in));
        // Holding the GIL, a watch still armed with the same generation means the
        // loop thread is inside that handler call: disarm() runs with the GIL.
        if (armed_.load(std::memory_order_acquire) == gen) {
            py::ref exc = py::ref::steal(PyObject_GetAttrString(in->runtime(), "HandlerTimeout"));
            if (exc) {
                fired_.store(gen, std::memory_order_release);
                PyThreadState_SetAsyncExc(target, exc.get());
            } else {
                PyErr_Clear();
            }
        }
        PyEval_SaveThread();
    }
}

}  // namespace subhttpd::interp

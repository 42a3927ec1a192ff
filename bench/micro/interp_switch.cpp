// Micro-benchmarks of the CPython operations subhttpd's request path is built
// from, measured on bare CPython (no subhttpd code): swapping thread states
// between two subinterpreters, calling a handler function, and the cost in time
// and memory of creating a subinterpreter. They are the floor the server's own
// figures (run.sh) are compared with. Single thread; the GIL is held throughout.
#include <Python.h>
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

// Python is started once for the whole process and never finalised: the
// benchmarks run one after another on the main thread.
struct python_fixture {
    PyThreadState* main_ts = nullptr;
    PyThreadState* a = nullptr;
    PyThreadState* b = nullptr;
    PyObject* fn_a = nullptr;  // handler(req) compiled in interpreter a
    PyObject* fn_b = nullptr;

    python_fixture() {
        Py_InitializeEx(0);
        main_ts = PyThreadState_Get();
        a = new_interp_with_handler(&fn_a);
        b = new_interp_with_handler(&fn_b);
        PyThreadState_Swap(main_ts);
    }

    static PyThreadState* new_interp_with_handler(PyObject** fn) {
        PyThreadState* ts = Py_NewInterpreter();
        if (!ts) std::abort();
        PyObject* globals = PyDict_New();
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
        PyObject* r = PyRun_String("def handler(req):\n    return 0\n", Py_file_input, globals, globals);
        if (!r) {
            PyErr_Print();
            std::abort();
        }
        Py_DECREF(r);
        *fn = PyDict_GetItemString(globals, "handler");  // borrowed; globals lives on
        return ts;
    }
};

python_fixture& py() {
    static python_fixture f;
    return f;
}

long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return 0;
}

void bm_thread_state_swap(benchmark::State& state) {
    auto& f = py();
    for (auto _ : state) {
        PyThreadState_Swap(f.a);
        PyThreadState_Swap(f.b);
    }
    PyThreadState_Swap(f.main_ts);
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(bm_thread_state_swap);

void bm_call_handler(benchmark::State& state) {
    auto& f = py();
    PyThreadState_Swap(f.a);
    for (auto _ : state) {
        PyObject* r = PyObject_CallOneArg(f.fn_a, Py_None);
        benchmark::DoNotOptimize(r);
        Py_XDECREF(r);
    }
    PyThreadState_Swap(f.main_ts);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_call_handler);

// Two requests per iteration, each in another interpreter: the per-request
// Python overhead of subhttpd with many sites, before any request object.
void bm_switch_and_call(benchmark::State& state) {
    auto& f = py();
    for (auto _ : state) {
        PyThreadState_Swap(f.a);
        PyObject* r = PyObject_CallOneArg(f.fn_a, Py_None);
        Py_XDECREF(r);
        PyThreadState_Swap(f.b);
        r = PyObject_CallOneArg(f.fn_b, Py_None);
        Py_XDECREF(r);
    }
    PyThreadState_Swap(f.main_ts);
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(bm_switch_and_call);

// Creating a bare subinterpreter: time per interpreter, and the RSS it adds
// while it lives (counter rss_kb_per_interp).
void bm_new_interpreter(benchmark::State& state) {
    auto& f = py();
    const int batch = 10;
    double kb = 0;
    long batches = 0;
    for (auto _ : state) {
        std::vector<PyThreadState*> made;
        long before = rss_kb();
        for (int i = 0; i < batch; ++i) {
            PyThreadState* ts = Py_NewInterpreter();
            if (!ts) std::abort();
            made.push_back(ts);
        }
        kb += double(rss_kb() - before) / batch;
        ++batches;
        state.PauseTiming();
        for (PyThreadState* ts : made) {
            PyThreadState_Swap(ts);
            Py_EndInterpreter(ts);
        }
        PyThreadState_Swap(f.main_ts);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["rss_kb_per_interp"] = batches ? kb / batches : 0;
}
BENCHMARK(bm_new_interpreter)->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace

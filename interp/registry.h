#pragma once
// registry: name -> interpreter. "main_interpreter" is the process's first
// interpreter; every other name gets a subinterpreter made on first use and never
// destroyed while the process lives. Only autoreload = "app" replaces one: the
// name then gets a fresh interpreter (a new generation) and the old one is parked
// (never ended: in-flight requests finish on it, and ending a subinterpreter
// whose threads still run is unsafe in CPython 3.11). Each interpreter keeps one thread state for
// the loop thread (made with it); `scope` swaps it in while Python runs.
// Invariant: the loop thread holds the GIL only inside a `scope`.
// Owned by the reactor; only the loop thread calls registry and scope.
#include <Python.h>

#include <atomic>
#include <chrono>
#include <shared_mutex>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hosts/naming.h"
#include "hosts/route.h"
#include "interp/app_reload.h"
#include "interp/handler_cache.h"
#include "interp/py_ref.h"

namespace subhttpd::interp {

using hosts::main_interpreter_name;  // the name lives with the naming rules

struct interp_stats {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<double> last_used{0};  // unix time
    double created = 0;                // unix time
    double create_ms = 0;              // how long the interpreter took to make
};

class interpreter {
public:
    interpreter(std::string name, PyThreadState* loop_ts) : name_(std::move(name)), loop_ts_(loop_ts) {}
    const std::string& name() const { return name_; }
    PyThreadState* loop_tstate() const { return loop_ts_; }
    PyInterpreterState* state() const { return loop_ts_->interp; }
    PyObject* module() const { return module_.get(); }    // borrowed: `subhttpd` here
    PyObject* runtime() const { return runtime_.get(); }  // borrowed: `subhttpd_runtime` here

    interp_stats stats;
    handler_cache handlers;  // GIL held: mod_python handlers and WSGI apps
    std::map<std::string, std::uint64_t> prepared_sites;       // GIL held: site -> config generation
    py::ref current_dirs;  // _subhttpd._current_dirs: handler folders for import_module
    std::unordered_map<std::string, py::ref> dir_names;  // GIL held: folder -> str, made once
    std::uint64_t generation = 1;          // 2, 3, ... after autoreload = "app" replaced the name
    std::atomic<double> swapped_at{0};     // monotonic time of the change that made it; 0 once it served
    std::string trigger;                   // the file whose change made it

private:
    friend class registry;
    std::string name_;
    PyThreadState* loop_ts_;
    py::ref module_;
    py::ref runtime_;
};

// What the status page shows of one interpreter.
struct interp_info {
    std::string name;
    double created = 0;
    double create_ms = 0;
    double last_used = 0;
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    long modules = -1;  // handler modules loaded through the importer
    long sys_modules = -1;
    std::uint64_t generation = 1;
    bool retired = false;  // replaced by autoreload = "app" and parked
};

struct runtime_settings {
    std::string python_exe;          // the python3 whose prefix/stdlib are used
    std::string python_dir;          // interp/python: mod_python and subhttpd_runtime
    std::vector<std::string> path;   // [python].path, prepended in every interpreter
    int optimize = 0;
    std::vector<std::string> main_imports;  // imported into main_interpreter by start()
};

class registry {
public:
    registry() = default;
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;
    ~registry();

    // Initialises CPython and the main interpreter, and imports main_imports
    // there before any subinterpreter exists (a module that fails is logged,
    // not fatal). Returns "" or an error message.
    std::string start(const runtime_settings& settings);
    // Imports `module` into main_interpreter (loop thread, no scope active):
    // "" or the error text.
    std::string import_into_main(const std::string& module);
    bool started() const { return main_ != nullptr; }

    // The interpreter called `name`, made on first use. nullptr with `error` set
    // when it cannot be made. Loop thread, with or without a scope active.
    interpreter* get(const std::string& name, std::string* error);
    // An interpreter that exists already. Any thread.
    interpreter* find(const std::string& name) const;
    interpreter& main() { return *main_; }
    void for_each(const std::function<void(interpreter&)>& fn);
    std::size_t size() const { return by_name_.size(); }

    // Runs atexit callbacks in every interpreter; does not end them (ending a
    // subinterpreter can hang, and the process is about to exit anyway).
    void run_exit_hooks();

    // Every interpreter's figures. Loop thread, GIL not held.
    std::vector<interp_info> snapshot();

    // autoreload = "app": `in` serves `r`'s WSGI app; watch the app's folders so
    // that a change to one of its files gives the name a fresh interpreter on
    // the next get(). Does nothing unless r.autoreload_app. Any thread.
    void watch_app(interpreter& in, const hosts::route& r);
    // A request finished in `in`: the first one on a fresh interpreter is logged
    // with the time since the change. Any thread.
    void served(interpreter& in);
    // Interpreters replaced by autoreload = "app" and parked. Any thread.
    std::size_t retired() const;

private:
    std::string setup(interpreter& in);
    std::string app_change(interpreter& in);  // the file that makes `in` stale, or ""
    interpreter* create(const std::string& name, std::string* error);
    std::string run_site();
    runtime_settings settings_;
    std::vector<std::string> site_dirs_;  // what `site` added to sys.path in the main interpreter
    mutable std::shared_mutex mu_;  // by_name_: written by the loop, read by pool threads
    std::unordered_map<std::string, std::unique_ptr<interpreter>> by_name_;
    std::vector<std::unique_ptr<interpreter>> retired_;  // parked, never ended (mu_)
    std::unordered_map<std::string, std::uint64_t> generations_;  // loop thread
    app_reload apps_;
    interpreter* main_ = nullptr;
};

// A pool thread's own thread states, one per interpreter it has entered, made
// lazily with PyThreadState_New (never PyGILState for subinterpreters).
class thread_states {
public:
    PyThreadState* get(interpreter& in);

private:
    std::unordered_map<PyInterpreterState*, PyThreadState*> map_;
};

// Holds the GIL with this thread's state for `in` (the loop's own, or a pool
// thread's from `ts`); restores the previous state on exit. Nests.
class scope {
public:
    scope(interpreter& in, thread_states* ts = nullptr);
    ~scope();
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;
    void switch_to(interpreter& in);
    interpreter& current() const { return *cur_; }

private:
    PyThreadState* state_for(interpreter& in) const;
    interpreter* cur_;
    thread_states* ts_;
    PyThreadState* outer_ = nullptr;  // state to return to when nested
    bool took_gil_ = false;
};

// Does this thread hold the GIL through a scope?
bool gil_held_here();

}  // namespace subhttpd::interp

#include "interp/registry.h"

#include <algorithm>
#include <mutex>

#include "common/clock.h"
#include "common/log.h"
#include "interp/module.h"
#include "interp/py_util.h"

namespace subhttpd::interp {
using py::take_error_text;
using py::unix_now;

namespace {
thread_local bool gil_held_ = false;

// What the status page shows of an interpreter without entering it.
interp_info counters_of(const interpreter& in) {
    interp_info info;
    info.name = in.name();
    info.created = in.stats.created;
    info.create_ms = in.stats.create_ms;
    info.last_used = in.stats.last_used.load();
    info.requests = in.stats.requests.load();
    info.errors = in.stats.errors.load();
    info.generation = in.generation;
    return info;
}
}  // namespace

bool gil_held_here() { return gil_held_; }

registry::~registry() = default;

std::string registry::start(const runtime_settings& settings) {
    settings_ = settings;
    if (PyImport_AppendInittab("subhttpd", &PyInit_subhttpd) < 0) {
        return "cannot register the subhttpd module";
    }
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;  // the reactor owns signals
    config.parse_argv = 0;
    config.optimization_level = settings.optimize;
    config.buffered_stdio = 0;
    // `site` runs once, in the main interpreter (below); subinterpreters get the
    // folders it found without re-running every .pth file: faster and smaller.
    config.site_import = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, settings.python_exe.c_str());
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        return std::string("cannot initialise Python: ") + (st.err_msg ? st.err_msg : "unknown error");
    }
    auto in = std::make_unique<interpreter>(main_interpreter_name, PyThreadState_Get());
    gil_held_ = true;
    std::string site_err = run_site();
    if (!site_err.empty()) {
        PyEval_SaveThread();
        gil_held_ = false;
        return site_err;
    }
    double t0 = unix_now();
    std::string err = setup(*in);
    in->stats.created = unix_now();
    in->stats.create_ms = (in->stats.created - t0) * 1000;
    PyEval_SaveThread();
    gil_held_ = false;
    if (!err.empty()) {
        return err;
    }
    main_ = in.get();
    {
        std::unique_lock<std::shared_mutex> g(mu_);
        by_name_.emplace(main_interpreter_name, std::move(in));
    }
    for (const std::string& m : settings.main_imports) {
        std::string ierr = import_into_main(m);
        if (ierr.empty()) {
            log::write(log::level::info, "interp", main_interpreter_name, "main_imports: imported " + m);
        } else {
            log::write(log::level::error, "interp", main_interpreter_name, "main_imports: import " + m + " failed:\n" + ierr);
        }
    }
    return "";
}

std::string registry::import_into_main(const std::string& module) {
    if (main_ == nullptr) {
        return "Python is not started";
    }
    scope s(*main_);
    py::ref m = py::ref::steal(PyImport_ImportModule(module.c_str()));
    if (!m) {
        return take_error_text();
    }
    return "";
}

// Runs site.main() in the main interpreter and keeps the folders it added to
// sys.path (dist-packages, user site) for every subinterpreter.
std::string registry::run_site() {
    PyObject* path = PySys_GetObject("path");
    if (path == nullptr || !PyList_Check(path)) {
        return "sys.path is missing";
    }
    py::ref before = py::ref::steal(PySequence_List(path));
    py::ref site = py::ref::steal(PyImport_ImportModule("site"));
    py::ref r = site ? py::ref::steal(PyObject_CallMethod(site.get(), "main", nullptr)) : py::ref();
    if (!r) {
        return "cannot run site in the main interpreter: " + take_error_text();
    }
    path = PySys_GetObject("path");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(path); ++i) {
        PyObject* p = PyList_GET_ITEM(path, i);
        int known = PySequence_Contains(before.get(), p);
        std::string text;
        if (known == 0 && py::to_string(p, text)) {
            site_dirs_.push_back(text);
        }
        PyErr_Clear();
    }
    return "";
}

std::string registry::setup(interpreter& in) {
    // sys.path: [python].path first, then our own package folder.
    PyObject* path = PySys_GetObject("path");  // borrowed
    if (path == nullptr || !PyList_Check(path)) {
        return "sys.path is missing";
    }
    std::vector<std::string> front = settings_.path;
    front.push_back(settings_.python_dir);
    for (auto it = front.rbegin(); it != front.rend(); ++it) {
        py::ref s = py::ref::steal(PyUnicode_DecodeFSDefault(it->c_str()));
        if (!s || PyList_Insert(path, 0, s.get()) < 0) {
            return "cannot set sys.path: " + take_error_text();
        }
    }
    if (main_ != nullptr) {
        // A subinterpreter: the site folders the main interpreter found, in its order.
        for (const auto& d : site_dirs_) {
            py::ref s = py::ref::steal(PyUnicode_DecodeFSDefault(d.c_str()));
            if (s && PySequence_Contains(path, s.get()) == 0) {
                PyList_Append(path, s.get());
            }
            PyErr_Clear();
        }
    }
    in.runtime_ = py::ref::steal(PyImport_ImportModule("subhttpd_runtime"));
    if (!in.runtime_) {
        return "cannot import subhttpd_runtime in interpreter " + in.name() + ": " + take_error_text();
    }
    in.module_ = py::ref::steal(PyImport_ImportModule("subhttpd"));
    if (!in.module_) {
        return "cannot import subhttpd in interpreter " + in.name() + ": " + take_error_text();
    }
    set_interpreter_name(in.module_.get(), in.name());
    in.current_dirs = py::ref::steal(PyObject_GetAttrString(in.runtime_.get(), "_current_dirs"));
    if (!in.current_dirs || !PyList_Check(in.current_dirs.get())) {
        return "_subhttpd._current_dirs is missing in interpreter " + in.name();
    }
    py::ref r = py::ref::steal(PyObject_CallMethod(in.runtime_.get(), "_init_interpreter", "sO",
                                                   in.name().c_str(), in.module_.get()));
    if (!r) {
        return "cannot set up interpreter " + in.name() + ": " + take_error_text();
    }
    return "";
}

interpreter* registry::find(const std::string& name) const {
    std::shared_lock<std::shared_mutex> g(mu_);
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second.get();
}

interpreter* registry::get(const std::string& name, std::string* error) {
    interpreter* in = find(name);
    if (in == nullptr || in == main_ || !apps_.tracked(name)) {
        return in != nullptr ? in : create(name, error);
    }
    const std::string trigger = app_change(*in);
    if (trigger.empty()) {
        return in;
    }
    // Park the old interpreter (requests running in it keep their pointer) and
    // make the name anew; its first request is logged by served().
    const double t_swap = mono_now();
    std::size_t parked = 0;
    {
        std::unique_lock<std::shared_mutex> g(mu_);
        auto it = by_name_.find(name);
        retired_.push_back(std::move(it->second));
        by_name_.erase(it);
        parked = retired_.size();
    }
    apps_.clear(name);
    log::write(log::level::info, "reload", name,
               "app file changed: " + trigger + "; a fresh interpreter serves the next request (generation " +
                   std::to_string(in->generation + 1) + "; " + std::to_string(parked) + " parked)");
    interpreter* fresh = create(name, error);
    if (fresh != nullptr) {
        fresh->generation = in->generation + 1;
        fresh->trigger = trigger;
        fresh->swapped_at.store(t_swap);
    }
    return fresh;
}

std::string registry::app_change(interpreter& in) {
    std::vector<std::string> changed = apps_.take_changes(in.name());
    if (changed.empty()) {
        return "";
    }
    std::string trigger;
    {
        scope s(in);
        py::ref list = py::ref::steal(PyList_New(0));
        for (const auto& c : changed) {
            py::ref item = py::ref::steal(PyUnicode_DecodeFSDefault(c.c_str()));
            if (list && item) {
                PyList_Append(list.get(), item.get());
            }
        }
        py::ref r = list ? py::ref::steal(PyObject_CallMethod(in.runtime(), "_app_change", "O", list.get()))
                         : py::ref();
        if (!r) {
            log::write(log::level::error, "reload", in.name(), "cannot tell what changed: " + take_error_text());
            trigger = changed.front();
        } else if (r.get() != Py_None && !py::to_string(r.get(), trigger)) {
            PyErr_Clear();
            trigger = changed.front();
        }
    }
    if (!trigger.empty()) {
        for (const auto& c : changed) {
            drop_bytecode(c);
        }
    }
    return trigger;
}

void registry::watch_app(interpreter& in, const hosts::route& r) {
    if (!r.autoreload_app || r.site == nullptr || &in == main_) {
        return;
    }
    const hosts::phase_route& pr = r.at(conf::phase::content);
    if (pr.wsgi.empty() || pr.interpreter != in.name()) {
        return;
    }
    std::vector<std::string> roots;
    roots.reserve(r.site->python_path.size() + 3);
    roots.push_back(r.site->document_root);
    roots.insert(roots.end(), r.site->python_path.begin(), r.site->python_path.end());
    roots.push_back(pr.module_dir);
    if (!pr.wsgi.empty() && pr.wsgi.front() == '/') {
        roots.push_back(pr.wsgi.substr(0, std::max<std::size_t>(1, pr.wsgi.rfind('/'))));
    }
    apps_.note(in.name(), roots);
}

void registry::served(interpreter& in) {
    const double at = in.swapped_at.exchange(0);
    if (at <= 0) {
        return;
    }
    const double ms = (mono_now() - at) * 1000;
    log::write(log::level::info, "reload", in.name(),
               "fresh interpreter (generation " + std::to_string(in.generation) + ") answered its first request " +
                   std::to_string(static_cast<long>(ms)) + " ms after the change to " + in.trigger);
}

std::size_t registry::retired() const {
    std::shared_lock<std::shared_mutex> g(mu_);
    return retired_.size();
}

interpreter* registry::create(const std::string& name, std::string* error) {
    double t0 = unix_now();
    PyThreadState* outer = nullptr;
    if (gil_held_) {
        outer = PyThreadState_Get();
    } else {
        PyEval_RestoreThread(main_->loop_tstate());
    }
    PyThreadState* ts = nullptr;
#if PY_VERSION_HEX >= 0x030C0000
    PyInterpreterConfig cfg = {
        .use_main_obmalloc = 1,
        .allow_fork = 1,
        .allow_exec = 1,
        .allow_threads = 1,
        .allow_daemon_threads = 1,
        .check_multi_interp_extensions = 0,
        .gil = PyInterpreterConfig_SHARED_GIL,
    };
    PyStatus st = Py_NewInterpreterFromConfig(&ts, &cfg);
    if (PyStatus_Exception(st)) {
        ts = nullptr;
    }
#else
    ts = Py_NewInterpreter();
#endif
    std::string err;
    std::unique_ptr<interpreter> in;
    if (ts == nullptr) {
        err = "cannot create interpreter " + name;
        PyThreadState_Swap(outer ? outer : main_->loop_tstate());
    } else {
        in = std::make_unique<interpreter>(name, ts);
        bool was = gil_held_;
        gil_held_ = true;
        err = setup(*in);
        gil_held_ = was;
        PyThreadState_Swap(outer ? outer : main_->loop_tstate());
    }
    if (!outer) {
        PyEval_SaveThread();
    }
    if (!err.empty()) {
        // A half-made interpreter is kept out of the registry (and leaked: ending
        // it could hang); the next request tries again.
        log::write(log::level::error, "interp", name, err);
        if (error) {
            *error = err;
        }
        return nullptr;
    }
    in->stats.created = unix_now();
    in->stats.create_ms = (in->stats.created - t0) * 1000;
    log::write(log::level::info, "interp", name,
               "created in " + std::to_string(static_cast<int>(in->stats.create_ms * 1000) / 1000.0).substr(0, 6) + " ms");
    interpreter* raw = in.get();
    std::unique_lock<std::shared_mutex> g(mu_);
    by_name_.emplace(name, std::move(in));
    return raw;
}

void registry::for_each(const std::function<void(interpreter&)>& fn) {
    for (auto& [name, in] : by_name_) {
        fn(*in);
    }
}

void registry::run_exit_hooks() {
    if (!main_) {
        return;
    }
    for (auto& [name, in] : by_name_) {
        scope s(*in);
        py::ref r = py::ref::steal(PyObject_CallMethod(in->runtime(), "_run_exit_hooks", nullptr));
        if (!r) {
            log::write(log::level::error, "interp", name, take_error_text());
        }
    }
}

std::vector<interp_info> registry::snapshot() {
    std::vector<interp_info> out;
    std::vector<interpreter*> all;
    {
        std::shared_lock<std::shared_mutex> g(mu_);
        for (auto& [name, in] : by_name_) {
            all.push_back(in.get());
        }
    }
    for (interpreter* in : all) {
        interp_info info = counters_of(*in);
        scope s(*in);
        py::ref n = py::ref::steal(PyObject_CallMethod(in->runtime(), "_loaded_modules", nullptr));
        if (n) {
            info.modules = PyLong_AsLong(n.get());
        }
        PyObject* mods = PySys_GetObject("modules");
        if (mods != nullptr) {
            info.sys_modules = static_cast<long>(PyDict_Size(mods));
        }
        PyErr_Clear();
        out.push_back(std::move(info));
    }
    // Parked interpreters are counted, not entered: requests may still run in them.
    std::shared_lock<std::shared_mutex> g(mu_);
    for (const auto& in : retired_) {
        interp_info info = counters_of(*in);
        info.retired = true;
        out.push_back(std::move(info));
    }
    return out;
}

PyThreadState* thread_states::get(interpreter& in) {
    auto it = map_.find(in.state());
    if (it != map_.end()) {
        return it->second;
    }
    PyThreadState* ts = PyThreadState_New(in.state());
    map_.emplace(in.state(), ts);
    return ts;
}

PyThreadState* scope::state_for(interpreter& in) const { return ts_ ? ts_->get(in) : in.loop_tstate(); }

scope::scope(interpreter& in, thread_states* ts) : cur_(&in), ts_(ts) {
    if (gil_held_) {
        outer_ = PyThreadState_Swap(state_for(in));
    } else {
        PyEval_RestoreThread(state_for(in));
        gil_held_ = true;
        took_gil_ = true;
    }
}

void scope::switch_to(interpreter& in) {
    if (&in != cur_) {
        PyThreadState_Swap(state_for(in));
        cur_ = &in;
    }
}

scope::~scope() {
    if (took_gil_) {
        PyEval_SaveThread();
        gil_held_ = false;
    } else {
        PyThreadState_Swap(outer_);
    }
}

}  // namespace subhttpd::interp

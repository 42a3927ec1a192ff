// Interpreter registry and scopes against the real CPython: create on first
// use, switch, many interpreters, isolation, pool-thread states, exit hooks.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "interp/py_util.h"
#include "interp/registry.h"

namespace subhttpd::interp {
namespace {

registry& reg() {
    static registry* r = [] {
        auto* made = new registry;  // lives as long as the process, like the server's
        runtime_settings s;
        s.python_exe = SUBHTTPD_PYTHON_EXE;
        s.python_dir = SUBHTTPD_PYTHON_DIR;
        std::string err = made->start(s);
        if (!err.empty()) {
            ADD_FAILURE() << err;
        }
        return made;
    }();
    return *r;
}

// Runs `code` in `in` and returns str(eval(expr)) afterwards.
std::string run(interpreter& in, const std::string& code, const std::string& expr) {
    scope s(in);
    PyObject* main = PyImport_AddModule("__main__");
    PyObject* globals = PyModule_GetDict(main);
    if (!code.empty()) {
        py::ref r = py::ref::steal(PyRun_String(code.c_str(), Py_file_input, globals, globals));
        if (!r) {
            return "error: " + py::take_error_text();
        }
    }
    py::ref v = py::ref::steal(PyRun_String(expr.c_str(), Py_eval_input, globals, globals));
    if (!v) {
        return "error: " + py::take_error_text();
    }
    py::ref s2 = py::ref::steal(PyObject_Str(v.get()));
    std::string out;
    py::to_string(s2.get(), out);
    return out;
}

TEST(interp_lifecycle, main_interpreter_exists_after_start) {
    interpreter& m = reg().main();
    EXPECT_EQ(m.name(), "main_interpreter");
    EXPECT_EQ(reg().find("main_interpreter"), &m);
    EXPECT_EQ(run(m, "", "__import__('subhttpd').interpreter_name()"), "main_interpreter");
    EXPECT_FALSE(gil_held_here());
}

TEST(interp_lifecycle, created_on_first_use_and_reused) {
    std::string err;
    interpreter* a = reg().get("site-a", &err);
    ASSERT_NE(a, nullptr) << err;
    EXPECT_EQ(reg().get("site-a", &err), a);
    EXPECT_NE(a->state(), reg().main().state());
    EXPECT_EQ(run(*a, "", "__import__('subhttpd').interpreter_name()"), "site-a");
}

TEST(interp_lifecycle, globals_stay_in_their_interpreter) {
    std::string err;
    interpreter* a = reg().get("iso-a", &err);
    interpreter* b = reg().get("iso-b", &err);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(run(*a, "import sys\nsys.marker = 'a'", "sys.marker"), "a");
    EXPECT_EQ(run(*b, "import sys", "getattr(sys, 'marker', None)"), "None");
    EXPECT_EQ(run(*a, "", "sys.marker"), "a");
}

TEST(interp_lifecycle, nested_scopes_switch_and_restore) {
    std::string err;
    interpreter* a = reg().get("nest-a", &err);
    interpreter* b = reg().get("nest-b", &err);
    ASSERT_TRUE(a && b);
    {
        scope outer(*a);
        EXPECT_TRUE(gil_held_here());
        EXPECT_EQ(PyThreadState_Get(), a->loop_tstate());
        {
            scope inner(*b);
            EXPECT_EQ(PyThreadState_Get(), b->loop_tstate());
            inner.switch_to(*a);
            EXPECT_EQ(PyThreadState_Get(), a->loop_tstate());
            inner.switch_to(*b);
        }
        EXPECT_EQ(PyThreadState_Get(), a->loop_tstate());
    }
    EXPECT_FALSE(gil_held_here());
}

TEST(interp_lifecycle, an_interpreter_can_be_made_inside_a_scope) {
    std::string err;
    interpreter* a = reg().get("inside-a", &err);
    ASSERT_NE(a, nullptr);
    scope s(*a);
    interpreter* c = reg().get("made-inside", &err);
    ASSERT_NE(c, nullptr) << err;
    EXPECT_EQ(PyThreadState_Get(), a->loop_tstate());  // the caller's state is back
}

TEST(interp_lifecycle, many_interpreters) {
    std::string err;
    for (int i = 0; i < 40; ++i) {
        interpreter* in = reg().get("many-" + std::to_string(i), &err);
        ASSERT_NE(in, nullptr) << err;
        EXPECT_EQ(run(*in, "x = " + std::to_string(i), "x * 2"), std::to_string(i * 2));
    }
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(run(*reg().find("many-" + std::to_string(i)), "", "x"), std::to_string(i));
    }
    EXPECT_GE(reg().size(), 41u);
}

TEST(interp_lifecycle, pool_thread_uses_its_own_thread_state) {
    std::string err;
    interpreter* a = reg().get("pool-a", &err);
    ASSERT_NE(a, nullptr);
    run(*a, "import threading\nloop_ident = threading.get_ident()", "loop_ident");
    std::string from_thread;
    std::thread t([&] {
        thread_states ts;
        scope s(*a, &ts);
        EXPECT_NE(PyThreadState_Get(), a->loop_tstate());
        PyObject* globals = PyModule_GetDict(PyImport_AddModule("__main__"));
        py::ref v = py::ref::steal(
            PyRun_String("threading.get_ident() != loop_ident", Py_eval_input, globals, globals));
        from_thread = v && v.get() == Py_True ? "other" : "same";
    });
    t.join();
    EXPECT_EQ(from_thread, "other");
    EXPECT_EQ(run(*a, "", "loop_ident == threading.get_ident()"), "True");
}

TEST(interp_lifecycle, snapshot_and_exit_hooks) {
    std::string err;
    interpreter* a = reg().get("exit-a", &err);
    ASSERT_NE(a, nullptr);
    run(*a, "import atexit\nran = []\natexit.register(lambda: ran.append(1))", "len(ran)");
    bool found = false;
    for (const auto& info : reg().snapshot()) {
        found = found || info.name == "exit-a";
    }
    EXPECT_TRUE(found);
    reg().run_exit_hooks();
    EXPECT_EQ(run(*a, "", "len(ran)"), "1");
    reg().run_exit_hooks();  // once only
    EXPECT_EQ(run(*a, "", "len(ran)"), "1");
}

}  // namespace
}  // namespace subhttpd::interp

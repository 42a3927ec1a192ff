// Interpreter registry and scopes against the real CPython: create on first
// use, switch, many interpreters, isolation, pool-thread states, exit hooks,
// imports into the main interpreter, and autoreload = "app" replacing an
// interpreter whose loaded sources changed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "interp/py_util.h"
#include "interp/registry.h"
#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::reg;

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

TEST(interp_lifecycle, import_into_main) {
    EXPECT_EQ(reg().import_into_main("json"), "");
    EXPECT_EQ(run(reg().main(), "", "'json' in __import__('sys').modules"), "True");
    std::string err = reg().import_into_main("no_such_module_for_main");
    EXPECT_NE(err.find("ModuleNotFoundError"), std::string::npos) << err;
    EXPECT_NE(err.find("no_such_module_for_main"), std::string::npos) << err;
    EXPECT_FALSE(gil_held_here());
}

TEST(interp_lifecycle, a_name_that_cannot_be_an_interpreter_is_still_just_a_name) {
    // Names come from configs and routes: any text is a key, nothing is parsed.
    std::string err;
    interpreter* odd = reg().get("/srv/www/app/ with spaces & 'quotes'", &err);
    ASSERT_NE(odd, nullptr) << err;
    EXPECT_EQ(run(*odd, "", "__import__('subhttpd').interpreter_name()"), "/srv/www/app/ with spaces & 'quotes'");
}

// autoreload = "app": a changed source an interpreter has loaded gives the name
// a fresh interpreter on the next get(); the old one is parked, not ended.
class app_reload_registry : public ::testing::Test {
protected:
    void SetUp() override {
        reg();
        std::string tmpl = (std::filesystem::temp_directory_path() / "registry_app.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = std::filesystem::canonical(tmpl).string();
        std::ofstream(root_ + "/appmod.py") << "VALUE = 1\n";
        std::ofstream(root_ + "/notes.txt") << "x";
        site_.server_name = "app.test";
        site_.document_root = root_;
        route_.site = &site_;
        route_.autoreload_app = true;
        hosts::phase_route& pr = route_.phases[static_cast<std::size_t>(conf::phase::content)];
        pr.set = true;
        pr.wsgi = "appmod:application";
        pr.module_dir = root_;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    interpreter* serve(const std::string& name) {
        std::string err;
        interpreter* in = reg().get(name, &err);
        EXPECT_NE(in, nullptr) << err;
        route_.phases[static_cast<std::size_t>(conf::phase::content)].interpreter = name;
        reg().watch_app(*in, route_);
        return in;
    }
    std::string root_;
    conf::site site_;
    hosts::route route_;
};

TEST_F(app_reload_registry, a_changed_loaded_module_gives_a_fresh_interpreter) {
    interpreter* first = serve("app-a");
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(run(*first, "import sys\nsys.path.insert(0, " + std::string("'") + root_ + "')\nimport appmod",
                  "appmod.VALUE"),
              "1");
    std::size_t retired_before = reg().retired();
    std::string err;
    EXPECT_EQ(reg().get("app-a", &err), first);  // nothing changed yet
    std::ofstream(root_ + "/appmod.py") << "VALUE = 2\n";
    interpreter* fresh = reg().get("app-a", &err);
    ASSERT_NE(fresh, nullptr) << err;
    EXPECT_NE(fresh, first);
    EXPECT_EQ(fresh->generation, first->generation + 1);
    EXPECT_EQ(fresh->trigger, root_ + "/appmod.py");
    EXPECT_EQ(reg().retired(), retired_before + 1);
    EXPECT_EQ(reg().find("app-a"), fresh);
    EXPECT_EQ(run(*fresh, "", "'appmod' in __import__('sys').modules"), "False");  // a clean start
    // The parked one still works for requests that hold it.
    EXPECT_EQ(run(*first, "", "appmod.VALUE"), "1");
    bool listed_retired = false;
    for (const interp_info& i : reg().snapshot()) {
        listed_retired = listed_retired || (i.name == "app-a" && i.retired);
    }
    EXPECT_TRUE(listed_retired);
    reg().served(*fresh);  // its first request: logged once, then nothing pending
    EXPECT_EQ(fresh->swapped_at.load(), 0.0);
}

TEST_F(app_reload_registry, a_change_the_interpreter_does_not_depend_on_keeps_it) {
    interpreter* first = serve("app-b");
    ASSERT_NE(first, nullptr);
    std::ofstream(root_ + "/notes.txt") << "changed";
    std::ofstream(root_ + "/appmod.py") << "VALUE = 3\n";  // never imported here
    std::string err;
    EXPECT_EQ(reg().get("app-b", &err), first);
}

TEST_F(app_reload_registry, only_app_routes_are_watched) {
    route_.autoreload_app = false;
    interpreter* first = serve("app-c");
    ASSERT_NE(first, nullptr);
    run(*first, "import sys\nsys.path.insert(0, " + std::string("'") + root_ + "')\nimport appmod", "1");
    std::ofstream(root_ + "/appmod.py") << "VALUE = 4\n";
    std::string err;
    EXPECT_EQ(reg().get("app-c", &err), first);
    // The main interpreter is never replaced.
    route_.autoreload_app = true;
    reg().watch_app(reg().main(), route_);
    EXPECT_EQ(reg().get(std::string(main_interpreter_name), &err), &reg().main());
}

}  // namespace
}  // namespace subhttpd::interp

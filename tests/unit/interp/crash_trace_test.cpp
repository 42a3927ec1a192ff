// dump_python_stack: what the crash handler writes about the crashing thread's
// Python code, called here from inside Python through a native function (as a
// fault in C code called by a handler would be): most recent call first,
// non-ASCII names as "?", and the two cases without a stack.
#include "interp/crash_trace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::reg;

int dump_fd = -1;  // where the native function below writes

PyObject* dump_here(PyObject*, PyObject*) {
    dump_python_stack(dump_fd);
    Py_RETURN_NONE;
}

PyMethodDef dump_def = {"dump_here", dump_here, METH_NOARGS, nullptr};

class crash_trace_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(pipe(fds_), 0);
        dump_fd = fds_[1];
    }
    void TearDown() override {
        close(fds_[0]);
        if (fds_[1] >= 0) {
            close(fds_[1]);
        }
    }
    std::string output() {
        close(fds_[1]);
        fds_[1] = -1;
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = read(fds_[0], buf, sizeof buf)) > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    int fds_[2] = {-1, -1};
};

TEST_F(crash_trace_test, the_stack_most_recent_call_first) {
    {
        scope s(reg().main());
        py::ref fn = py::ref::steal(PyCFunction_New(&dump_def, nullptr));
        ASSERT_TRUE(fn);
        ASSERT_EQ(PyDict_SetItemString(testing::main_dict(), "dump_here", fn.get()), 0);
        py::ref code = py::ref::steal(Py_CompileString("def inner():\n"
                                                       "    dump_here()\n"
                                                       "def outer():\n"
                                                       "    inner()\n"
                                                       "outer()\n",
                                                       "/srv/app/handler.py", Py_file_input));
        ASSERT_TRUE(code);
        py::ref r = py::ref::steal(PyEval_EvalCode(code.get(), testing::main_dict(), testing::main_dict()));
        ASSERT_TRUE(r) << py::take_error_text();
    }
    std::string out = output();
    std::size_t inner = out.find("  File \"/srv/app/handler.py\", line 2 in inner\n");
    std::size_t outer = out.find("  File \"/srv/app/handler.py\", line 4 in outer\n");
    std::size_t module = out.find("  File \"/srv/app/handler.py\", line 5 in <module>\n");
    ASSERT_NE(inner, std::string::npos) << out;
    ASSERT_NE(outer, std::string::npos) << out;
    ASSERT_NE(module, std::string::npos) << out;
    EXPECT_LT(inner, outer);
    EXPECT_LT(outer, module);
}

TEST_F(crash_trace_test, non_ascii_names_are_not_converted) {
    {
        scope s(reg().main());
        py::ref fn = py::ref::steal(PyCFunction_New(&dump_def, nullptr));
        ASSERT_EQ(PyDict_SetItemString(testing::main_dict(), "dump_here", fn.get()), 0);
        py::ref code = py::ref::steal(Py_CompileString("def caf\xc3\xa9():\n    dump_here()\ncaf\xc3\xa9()\n",
                                                       "/srv/\xc3\xa9t\xc3\xa9.py", Py_file_input));
        ASSERT_TRUE(code);
        py::ref r = py::ref::steal(PyEval_EvalCode(code.get(), testing::main_dict(), testing::main_dict()));
        ASSERT_TRUE(r) << py::take_error_text();
    }
    EXPECT_NE(output().find("  File \"?\", line 2 in ?\n"), std::string::npos);
}

TEST_F(crash_trace_test, holding_the_gil_outside_any_python_code) {
    {
        scope s(reg().main());
        dump_python_stack(fds_[1]);
    }
    EXPECT_EQ(output(), "  <no Python frame>\n");
}

TEST_F(crash_trace_test, a_thread_without_the_gil) {
    reg();  // Python is up, but this thread holds no state now
    dump_python_stack(fds_[1]);
    EXPECT_EQ(output(), "  <no Python thread state: this thread does not hold the GIL>\n");
}

}  // namespace
}  // namespace subhttpd::interp

// watchdog: an armed watch interrupts a handler that keeps the loop thread
// past its time with HandlerTimeout, in the handler's own interpreter; an
// unarmed or ended watch never does. The busy loops are bounded by a long
// safety deadline, so no case depends on how fast the machine is.
#include "interp/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>

#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::reg;

class watchdog_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string err;
        in_ = reg().get("watchdog-site", &err);
        ASSERT_NE(in_, nullptr) << err;
        scope_.emplace(*in_);
    }
    void TearDown() override {
        PyErr_Clear();
        scope_.reset();
    }
    // Spins in Python until interrupted or 60 s pass; the name of what stopped it.
    std::string spin() {
        std::string err = testing::exec(
            "import time\n"
            "stopped = 'deadline'\n"
            "end = time.monotonic() + 60\n"
            "try:\n"
            "    while time.monotonic() < end:\n"
            "        pass\n"
            "except BaseException as e:\n"
            "    stopped = type(e).__name__\n");
        if (!err.empty()) {
            return "error: " + err;
        }
        py::ref v = testing::eval("stopped");
        std::string out;
        py::to_string(v.get(), out);
        return out;
    }
    interpreter* in_ = nullptr;
    std::optional<scope> scope_;
};

TEST_F(watchdog_test, an_overdue_handler_gets_handler_timeout) {
    watchdog wd;
    wd.arm(*in_, 30);
    EXPECT_EQ(spin(), "HandlerTimeout");
    EXPECT_TRUE(wd.disarm());
    EXPECT_EQ(testing::exec("x = sum(range(100000))"), "");  // nothing left pending
}

TEST_F(watchdog_test, every_arm_is_watched_afresh) {
    watchdog wd;
    for (int i = 0; i < 3; ++i) {
        wd.arm(*in_, 20);
        EXPECT_EQ(spin(), "HandlerTimeout") << i;
        EXPECT_TRUE(wd.disarm());
    }
}

TEST_F(watchdog_test, zero_means_never_and_disarm_without_arm_is_false) {
    watchdog wd;
    EXPECT_FALSE(wd.disarm());
    wd.arm(*in_, 0);
    EXPECT_EQ(testing::exec("x = sum(range(100000))"), "");
    EXPECT_FALSE(wd.disarm());
}

TEST_F(watchdog_test, a_handler_that_returns_in_time_is_left_alone) {
    watchdog wd;
    wd.arm(*in_, 600000);
    EXPECT_EQ(testing::exec("x = sum(range(100000))"), "");
    EXPECT_FALSE(wd.disarm());
    EXPECT_FALSE(wd.disarm());  // once
    EXPECT_EQ(testing::exec("y = x + 1"), "");
}

TEST_F(watchdog_test, the_timeout_is_the_runtimes_exception_class) {
    watchdog wd;
    wd.arm(*in_, 20);
    ASSERT_EQ(testing::exec("import subhttpd_runtime\n"
                            "import time\n"
                            "end = time.monotonic() + 60\n"
                            "ok = False\n"
                            "try:\n"
                            "    while time.monotonic() < end:\n"
                            "        pass\n"
                            "except subhttpd_runtime.HandlerTimeout:\n"
                            "    ok = True\n"),
              "");
    EXPECT_TRUE(wd.disarm());
    py::ref ok = testing::eval("ok");
    EXPECT_EQ(ok.get(), Py_True);
}

// The output watch: a flush the handler asked for is sent by the watchdog
// thread while the handler is still running (with the GIL, in its interpreter).
class recording_output final : public deferred_output {
public:
    void send_deferred() override {
        ++sent;
        in_python = _PyThreadState_UncheckedGet() != nullptr;
        PyObject* builtins = PyEval_GetBuiltins();  // borrowed
        PyDict_SetItemString(builtins, "deferred_sent", Py_True);
    }
    std::atomic<int> sent{0};
    std::atomic<bool> in_python{false};
};

TEST_F(watchdog_test, a_wanted_flush_is_sent_while_the_handler_runs) {
    watchdog wd;
    recording_output out;
    wd.watch_output(*in_, out);
    wd.flush_wanted();
    ASSERT_EQ(testing::exec("import time, builtins\n"
                            "end = time.monotonic() + 60\n"
                            "while not getattr(builtins, 'deferred_sent', False) and time.monotonic() < end:\n"
                            "    pass\n"
                            "seen = getattr(builtins, 'deferred_sent', False)\n"
                            "builtins.__dict__.pop('deferred_sent', None)\n"),
              "");
    wd.unwatch_output();
    py::ref seen = testing::eval("seen");
    EXPECT_EQ(seen.get(), Py_True);
    EXPECT_EQ(out.sent.load(), 1);
    EXPECT_TRUE(out.in_python.load());
}

TEST_F(watchdog_test, no_flush_wanted_nothing_sent) {
    watchdog wd;
    recording_output out;
    wd.watch_output(*in_, out);
    // Several of the watchdog's polls pass (it cannot be made to fail by a slow
    // machine: a missed poll only makes the check weaker).
    EXPECT_EQ(testing::exec("import time\nend = time.monotonic() + 0.2\nwhile time.monotonic() < end:\n    pass\n"), "");
    wd.unwatch_output();
    wd.flush_wanted();  // after unwatch: nobody to send for
    EXPECT_EQ(testing::exec("y = sum(range(100000))"), "");
    EXPECT_EQ(out.sent.load(), 0);
}

}  // namespace
}  // namespace subhttpd::interp

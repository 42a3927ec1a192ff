// watchdog: an armed watch interrupts a handler that keeps the loop thread
// past its time with HandlerTimeout, in the handler's own interpreter; an
// unarmed or ended watch never does. The busy loops are bounded by a long
// safety deadline, so no case depends on how fast the machine is.
#include "interp/watchdog.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace subhttpd::interp

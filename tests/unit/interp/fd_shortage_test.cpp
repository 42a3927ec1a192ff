// error_is_fd_shortage: EMFILE/ENFILE anywhere in the chain (cause or
// context), nothing else; the error stays set as it was.
#include "interp/fd_shortage.h"

#include <gtest/gtest.h>

#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::raise_from;
using testing::reg;

class fd_shortage_test : public ::testing::Test {
protected:
    void SetUp() override { scope_.emplace(reg().main()); }
    void TearDown() override {
        PyErr_Clear();
        scope_.reset();
    }
    // Whether the error `code` raises counts, and that it is still set afterwards.
    bool judge(const std::string& code) {
        raise_from("import errno\n" + code);
        bool out = error_is_fd_shortage();
        EXPECT_NE(PyErr_Occurred(), nullptr) << "the error was cleared";
        return out;
    }
    std::optional<scope> scope_;
};

TEST_F(fd_shortage_test, no_error_set) { EXPECT_FALSE(error_is_fd_shortage()); }

TEST_F(fd_shortage_test, emfile_and_enfile) {
    EXPECT_TRUE(judge("raise OSError(errno.EMFILE, 'Too many open files')"));
    PyErr_Clear();
    EXPECT_TRUE(judge("raise OSError(errno.ENFILE, 'Too many open files in system')"));
}

TEST_F(fd_shortage_test, the_real_thing) {
    // Only the error matters, not how it came: a subclass from the OS.
    EXPECT_TRUE(judge("raise BlockingIOError(errno.EMFILE, 'x')"));
}

TEST_F(fd_shortage_test, other_os_errors_are_not) {
    EXPECT_FALSE(judge("raise OSError(errno.ENOENT, 'No such file')"));
    PyErr_Clear();
    EXPECT_FALSE(judge("raise OSError('no errno at all')"));
    PyErr_Clear();
    EXPECT_FALSE(judge("raise PermissionError(errno.EACCES, 'denied')"));
}

TEST_F(fd_shortage_test, other_exceptions_are_not) {
    EXPECT_FALSE(judge("raise ValueError(errno.EMFILE)"));
    PyErr_Clear();
    EXPECT_FALSE(judge("raise RuntimeError('Too many open files')"));
}

TEST_F(fd_shortage_test, as_cause_or_context) {
    EXPECT_TRUE(judge("raise ImportError('cannot import x') from OSError(errno.EMFILE, 'x')"));
    PyErr_Clear();
    EXPECT_TRUE(judge("try:\n    raise OSError(errno.ENFILE, 'x')\nexcept OSError:\n    raise KeyError('during')\n"));
    PyErr_Clear();
    EXPECT_FALSE(judge("raise ImportError('x') from OSError(errno.ENOENT, 'x')"));
}

TEST_F(fd_shortage_test, a_few_levels_deep) {
    // An import inside an import inside a handler: three levels deep is found.
    EXPECT_TRUE(judge("e = OSError(errno.EMFILE, 'x')\n"
                      "for i in range(3):\n    n = RuntimeError(i); n.__cause__ = e; e = n\n"
                      "raise e\n"));
}

TEST_F(fd_shortage_test, a_cycle_ends) {
    EXPECT_FALSE(judge("a = RuntimeError('a'); b = RuntimeError('b')\n"
                       "a.__context__ = b; b.__context__ = a\nraise a\n"));
}

TEST_F(fd_shortage_test, the_error_is_left_as_it_was) {
    raise_from("raise KeyError('k') from OSError(24, 'x')");
    PyObject* before = PyErr_Occurred();
    EXPECT_TRUE(error_is_fd_shortage());
    EXPECT_EQ(PyErr_Occurred(), before);
    EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_KeyError));
}

}  // namespace
}  // namespace subhttpd::interp

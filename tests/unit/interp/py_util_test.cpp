// py_util: error text with its traceback (and the fallback), str/bytes to
// UTF-8 and back, bad input to to_string.
#include "interp/py_util.h"

#include <gtest/gtest.h>

#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::raise_from;
using testing::reg;

class py_util_test : public ::testing::Test {
protected:
    void SetUp() override { scope_.emplace(reg().main()); }
    void TearDown() override {
        PyErr_Clear();
        scope_.reset();
    }
    std::optional<scope> scope_;
};

TEST_F(py_util_test, no_error_no_text) { EXPECT_EQ(py::take_error_text(), ""); }

TEST_F(py_util_test, error_text_has_the_traceback_and_clears_it) {
    raise_from("def f():\n    raise ValueError('boom')\nf()\n");
    std::string t = py::take_error_text();
    EXPECT_EQ(PyErr_Occurred(), nullptr);
    EXPECT_EQ(t.rfind("Traceback (most recent call last):\n", 0), 0u) << t;
    EXPECT_NE(t.find(", in f\n"), std::string::npos) << t;
    EXPECT_NE(t.find("ValueError: boom\n"), std::string::npos) << t;
}

TEST_F(py_util_test, a_set_but_unnormalised_error) {
    PyErr_SetString(PyExc_KeyError, "k");
    EXPECT_TRUE(py::error_matches(PyExc_KeyError));
    EXPECT_TRUE(py::error_matches(PyExc_LookupError));
    EXPECT_FALSE(py::error_matches(PyExc_ValueError));
    EXPECT_NE(PyErr_Occurred(), nullptr);  // error_matches does not clear
    std::string t = py::take_error_text();
    EXPECT_NE(t.find("KeyError: 'k'"), std::string::npos) << t;
}

TEST_F(py_util_test, chained_errors_show_both) {
    raise_from("try:\n    1/0\nexcept ZeroDivisionError as e:\n    raise RuntimeError('wrapped') from e\n");
    std::string t = py::take_error_text();
    EXPECT_NE(t.find("ZeroDivisionError"), std::string::npos);
    EXPECT_NE(t.find("direct cause"), std::string::npos);
    EXPECT_NE(t.find("RuntimeError: wrapped"), std::string::npos);
}

TEST_F(py_util_test, str_round_trips_utf8) {
    const std::string text = "h\xc3\xa9llo \xe2\x82\xac";  // "héllo €"
    py::ref s = py::ref::steal(py::str(text));
    ASSERT_TRUE(s);
    EXPECT_EQ(PyUnicode_GetLength(s.get()), 7);
    std::string back;
    ASSERT_TRUE(py::to_string(s.get(), back));
    EXPECT_EQ(back, text);
}

TEST_F(py_util_test, str_keeps_embedded_nul_and_empty) {
    py::ref s = py::ref::steal(py::str(std::string_view("a\0b", 3)));
    std::string back;
    ASSERT_TRUE(py::to_string(s.get(), back));
    EXPECT_EQ(back, std::string("a\0b", 3));
    py::ref e = py::ref::steal(py::str(""));
    ASSERT_TRUE(py::to_string(e.get(), back));
    EXPECT_EQ(back, "");
}

TEST_F(py_util_test, invalid_utf8_becomes_surrogates_not_an_error) {
    py::ref s = py::ref::steal(py::str("\xff\xfe"));
    ASSERT_TRUE(s) << py::take_error_text();
    EXPECT_EQ(PyUnicode_GetLength(s.get()), 2);
    EXPECT_EQ(PyUnicode_ReadChar(s.get(), 0), 0xdcffu);
    // Such a str cannot be encoded back to UTF-8: a clear error, not garbage.
    std::string back = "unchanged";
    EXPECT_FALSE(py::to_string(s.get(), back));
    EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_UnicodeEncodeError));
    EXPECT_EQ(back, "unchanged");
}

TEST_F(py_util_test, bytes_are_taken_as_is) {
    py::ref b = py::ref::steal(PyBytes_FromStringAndSize("\xff\x00z", 3));
    std::string back;
    ASSERT_TRUE(py::to_string(b.get(), back));
    EXPECT_EQ(back, std::string("\xff\x00z", 3));
}

TEST_F(py_util_test, other_types_are_a_type_error) {
    py::ref n = py::ref::steal(PyLong_FromLong(5));
    std::string back;
    EXPECT_FALSE(py::to_string(n.get(), back));
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
    std::string t = py::take_error_text();
    EXPECT_NE(t.find("expected str or bytes, got int"), std::string::npos) << t;
    py::ref ba = py::ref::steal(PyByteArray_FromStringAndSize("x", 1));
    EXPECT_FALSE(py::to_string(ba.get(), back));
}

TEST(py_clock, unix_now_is_wall_clock_seconds) {
    double a = py::unix_now();
    time_t t = time(nullptr);
    EXPECT_GE(a, static_cast<double>(t) - 1);
    EXPECT_LE(a, static_cast<double>(t) + 1);
    EXPECT_LE(a, py::unix_now());
}

}  // namespace
}  // namespace subhttpd::interp

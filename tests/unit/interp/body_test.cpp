// Request body -> bytes / string: exact sizes, short bodies, an exchange that
// hands out the body in small pieces, and zero-length reads.
#include "interp/body.h"

#include <gtest/gtest.h>

#include "../fake_exchange.h"
#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using subhttpd::testing::fake_exchange;
using testing::reg;

std::string bytes_of(PyObject* b) {
    return std::string(PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b)));
}

TEST(read_whole_body, all_of_it_even_in_pieces) {
    fake_exchange ex;
    ex.body_ = "hello, body";
    ex.piece = 3;
    EXPECT_EQ(read_whole_body(ex), "hello, body");
    EXPECT_EQ(ex.body_remaining(), 0u);
    EXPECT_EQ(read_whole_body(ex), "");
}

TEST(read_whole_body, only_what_is_left_and_binary_safe) {
    fake_exchange ex;
    ex.body_ = std::string("ab\0cd\xff", 6);
    char skip[2];
    ASSERT_EQ(ex.read_body(skip, 2), 2u);
    EXPECT_EQ(read_whole_body(ex), std::string("\0cd\xff", 4));
}

TEST(read_whole_body, an_exchange_that_stops_early_gives_what_it_gave) {
    // body_remaining() promises more than read_body() delivers (a client gone).
    fake_exchange ex;
    ex.body_ = "abcdef";
    ex.piece = 0;  // read_body hands out nothing
    EXPECT_EQ(read_whole_body(ex), "");
}

class read_body_bytes_test : public ::testing::Test {
protected:
    void SetUp() override { scope_.emplace(reg().main()); }
    void TearDown() override { scope_.reset(); }
    std::optional<scope> scope_;
};

TEST_F(read_body_bytes_test, exactly_what_was_asked) {
    fake_exchange ex;
    ex.body_ = "0123456789";
    py::ref a = py::ref::steal(read_body_bytes(ex, 4));
    ASSERT_TRUE(a && PyBytes_Check(a.get()));
    EXPECT_EQ(bytes_of(a.get()), "0123");
    py::ref b = py::ref::steal(read_body_bytes(ex, 4));
    EXPECT_EQ(bytes_of(b.get()), "4567");
    EXPECT_EQ(ex.body_remaining(), 2u);
}

TEST_F(read_body_bytes_test, fewer_at_the_end_then_empty) {
    fake_exchange ex;
    ex.body_ = "abc";
    py::ref a = py::ref::steal(read_body_bytes(ex, 100));
    ASSERT_TRUE(a);
    EXPECT_EQ(bytes_of(a.get()), "abc");
    py::ref b = py::ref::steal(read_body_bytes(ex, 100));
    ASSERT_TRUE(b);
    EXPECT_EQ(PyBytes_GET_SIZE(b.get()), 0);
}

TEST_F(read_body_bytes_test, zero_reads_nothing) {
    fake_exchange ex;
    ex.body_ = "abc";
    py::ref a = py::ref::steal(read_body_bytes(ex, 0));
    ASSERT_TRUE(a);
    EXPECT_EQ(PyBytes_GET_SIZE(a.get()), 0);
    EXPECT_EQ(ex.body_remaining(), 3u);
}

TEST_F(read_body_bytes_test, one_read_call_may_give_less) {
    // One read_body() call: a piecewise exchange gives its piece (the callers loop).
    fake_exchange ex;
    ex.body_ = "abcdef";
    ex.piece = 2;
    py::ref a = py::ref::steal(read_body_bytes(ex, 5));
    ASSERT_TRUE(a);
    EXPECT_EQ(bytes_of(a.get()), "ab");
    EXPECT_EQ(ex.body_remaining(), 4u);
}

TEST_F(read_body_bytes_test, a_size_python_cannot_allocate_is_an_exception) {
    fake_exchange ex;
    ex.body_ = "abc";
    PyObject* r = read_body_bytes(ex, static_cast<std::size_t>(PY_SSIZE_T_MAX));
    EXPECT_EQ(r, nullptr);
    EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_MemoryError) || PyErr_ExceptionMatches(PyExc_OverflowError));
    PyErr_Clear();
    EXPECT_EQ(ex.body_remaining(), 3u);
}

}  // namespace
}  // namespace subhttpd::interp

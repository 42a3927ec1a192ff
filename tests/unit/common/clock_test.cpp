// The monotonic clock never goes back, and its two units agree.
#include "common/clock.h"

#include <gtest/gtest.h>

namespace subhttpd {
namespace {

TEST(Clock, MonotonicAndConsistent) {
    double a = mono_now();
    std::uint64_t ms = mono_ms();
    double b = mono_now();
    EXPECT_LE(a, b);
    EXPECT_LE(static_cast<double>(ms) / 1000.0, b + 0.001);
    EXPECT_GE(static_cast<double>(ms) / 1000.0, a - 0.001);
}

}  // namespace
}  // namespace subhttpd

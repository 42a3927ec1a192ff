// Trimming and ASCII case folding.
#include "common/text.h"

#include <gtest/gtest.h>

namespace subhttpd::text {
namespace {

TEST(Trim, OnlySpacesAndTabs) {
    EXPECT_EQ(trim("  a b\t "), "a b");
    EXPECT_EQ(trim("\r\na\r\n"), "\r\na\r\n");
    EXPECT_EQ(trim(" \t "), "");
    EXPECT_EQ(trim(""), "");
}

TEST(Lower, AsciiOnly) {
    EXPECT_EQ(to_lower("HeLLo-123"), "hello-123");
    EXPECT_EQ(to_lower("\xC3\x84"), "\xC3\x84");  // non-ASCII bytes unchanged
    EXPECT_EQ(ascii_lower('Z'), 'z');
    EXPECT_EQ(ascii_lower('['), '[');
}

TEST(Iequals, CaseInsensitiveSameLength) {
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_FALSE(iequals("Content-Length", "content-lengt"));
    EXPECT_FALSE(iequals("a", "b"));
    EXPECT_TRUE(iequals("", ""));
}

}  // namespace
}  // namespace subhttpd::text

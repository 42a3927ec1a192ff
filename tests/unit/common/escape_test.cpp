// Escaping for generated JSON and HTML: every character that would break out
// of a string or an element, control bytes, and bytes passed through as is.
#include "common/escape.h"

#include <gtest/gtest.h>

namespace subhttpd {
namespace {

TEST(json_escape, quotes_backslashes_and_named_controls) {
    EXPECT_EQ(json_escape(R"(say "hi" \ bye)"), R"(say \"hi\" \\ bye)");
    EXPECT_EQ(json_escape("a\nb\rc\td"), "a\\nb\\rc\\td");
}

TEST(json_escape, other_controls_become_u_escapes) {
    EXPECT_EQ(json_escape(std::string_view("\0\x01\x1f", 3)), "\\u0000\\u0001\\u001f");
    EXPECT_EQ(json_escape("\x7f"), "\x7f");  // DEL is legal in JSON strings
}

TEST(json_escape, utf8_passes_through) {
    EXPECT_EQ(json_escape("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
    EXPECT_EQ(json_escape(""), "");
}

TEST(json_quote, wraps_in_quotes) {
    EXPECT_EQ(json_quote("x"), "\"x\"");
    EXPECT_EQ(json_quote(""), "\"\"");
    EXPECT_EQ(json_quote("\""), "\"\\\"\"");
}

TEST(html_escape, the_five_characters) {
    EXPECT_EQ(html_escape("<a href=\"x\" title='y'>&</a>"),
              "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(html_escape, already_escaped_text_is_escaped_again) {
    EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
}

TEST(html_escape, everything_else_unchanged) {
    EXPECT_EQ(html_escape("plain text\n\xc3\xa9"), "plain text\n\xc3\xa9");
    EXPECT_EQ(html_escape(std::string_view("a\0b", 3)), std::string("a\0b", 3));
    EXPECT_EQ(html_escape(""), "");
}

}  // namespace
}  // namespace subhttpd

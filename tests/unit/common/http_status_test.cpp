// Reason phrases and the plain error page.
#include "common/http_status.h"

#include <gtest/gtest.h>

namespace subhttpd {
namespace {

TEST(HttpReason, KnownAndClassFallback) {
    EXPECT_EQ(http_reason(404), "Not Found");
    EXPECT_EQ(http_reason(200), "OK");
}

TEST(StatusPage, TitleAndHeading) {
    std::string p = status_page_html(404);
    EXPECT_NE(p.find("<title>404 Not Found</title>"), std::string::npos);
    EXPECT_NE(p.find("<h1>Not Found</h1>"), std::string::npos);
    EXPECT_EQ(p.find("<p>"), std::string::npos);
    EXPECT_EQ(p.substr(p.size() - 15), "</body></html>\n");
}

TEST(StatusPage, NoteAsParagraph) {
    std::string p = status_page_html(500, "see the log");
    EXPECT_NE(p.find("<h1>Internal Server Error</h1>\n<p>see the log</p>\n</body>"), std::string::npos);
}

}  // namespace
}  // namespace subhttpd

// Static-file rules: byte ranges (RFC 9110 14), ETags and their comparison,
// HTTP dates in all three forms, and the order of conditional requests
// (RFC 9110 13.2.2), each without a server.
#include <gtest/gtest.h>

#include "reactor/http/static_rules.h"

namespace subhttpd::reactor::http {
namespace {

constexpr std::int64_t rfc_example = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

std::vector<byte_range> ranges_of(std::string_view v, std::uint64_t size) {
    range_set rs = parse_range(v, size);
    EXPECT_EQ(rs.kind, range_kind::satisfiable) << v;
    return rs.ranges;
}

range_kind kind_of(std::string_view v, std::uint64_t size) { return parse_range(v, size).kind; }

TEST(range, single_forms) {
    EXPECT_EQ(ranges_of("bytes=0-499", 10000), (std::vector<byte_range>{{0, 499}}));
    EXPECT_EQ(ranges_of("bytes=500-999", 10000), (std::vector<byte_range>{{500, 999}}));
    EXPECT_EQ(ranges_of("bytes=9500-", 10000), (std::vector<byte_range>{{9500, 9999}}));
    EXPECT_EQ(ranges_of("bytes=-500", 10000), (std::vector<byte_range>{{9500, 9999}}));
    EXPECT_EQ(ranges_of("bytes=0-0", 1), (std::vector<byte_range>{{0, 0}}));
}

TEST(range, clipped_to_the_file) {
    EXPECT_EQ(ranges_of("bytes=5-100", 10), (std::vector<byte_range>{{5, 9}}));
    EXPECT_EQ(ranges_of("bytes=-100", 10), (std::vector<byte_range>{{0, 9}}));
    EXPECT_EQ(ranges_of("bytes=0-99999999999999999999999", 10), (std::vector<byte_range>{{0, 9}}));
}

TEST(range, several_in_request_order) {
    EXPECT_EQ(ranges_of("bytes=0-1, 5-6", 10), (std::vector<byte_range>{{0, 1}, {5, 6}}));
    EXPECT_EQ(ranges_of("bytes=8-,0-1", 10), (std::vector<byte_range>{{8, 9}, {0, 1}}));
    EXPECT_EQ(ranges_of("bytes=0-1,,\t,5-6", 10), (std::vector<byte_range>{{0, 1}, {5, 6}}));  // empty elements
}

TEST(range, unit_is_case_insensitive_and_other_units_are_ignored) {
    EXPECT_EQ(ranges_of("Bytes=0-1", 10), (std::vector<byte_range>{{0, 1}}));
    EXPECT_EQ(kind_of("items=0-1", 10), range_kind::ignore);
    EXPECT_EQ(kind_of("none", 10), range_kind::ignore);
}

TEST(range, invalid_syntax_is_ignored) {
    for (auto v : {"bytes=", "bytes=,", "bytes=a-b", "bytes=1", "bytes=-", "bytes=--1", "bytes=5-3", "bytes=1-2-3",
                   "bytes=1 -2", "bytes=0-1,x", "bytes=+1-2", "bytes 0-1", "bytes=0x1-2", "bytes=0-1;"}) {
        EXPECT_EQ(kind_of(v, 10), range_kind::ignore) << v;
    }
}

TEST(range, unsatisfiable) {
    EXPECT_EQ(kind_of("bytes=10-", 10), range_kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=10-20", 10), range_kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=-0", 10), range_kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=99999999999999999999999-", 10), range_kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=20-30,40-", 10), range_kind::unsatisfiable);
}

TEST(range, unsatisfiable_parts_are_dropped_beside_satisfiable_ones) {
    EXPECT_EQ(ranges_of("bytes=20-30,2-3", 10), (std::vector<byte_range>{{2, 3}}));
}

TEST(range, empty_file_is_served_whole) {
    EXPECT_EQ(kind_of("bytes=0-", 0), range_kind::ignore);
    EXPECT_EQ(kind_of("bytes=-5", 0), range_kind::ignore);
}

TEST(range, too_many_ranges_are_ignored) {
    std::string v = "bytes=0-0";
    for (int i = 1; i < 16; ++i) {
        v += "," + std::to_string(i) + "-" + std::to_string(i);
    }
    EXPECT_EQ(parse_range(v, 1000).ranges.size(), 16u);
    v += ",16-16";
    EXPECT_EQ(kind_of(v, 1000), range_kind::ignore);
    EXPECT_EQ(parse_range("bytes=0-0,1-1,2-2", 1000, 2).kind, range_kind::ignore);
}

TEST(range, overlap_asking_for_more_than_the_file_is_ignored) {
    EXPECT_EQ(kind_of("bytes=0-,0-", 10), range_kind::ignore);
    EXPECT_EQ(ranges_of("bytes=0-4,3-5", 10), (std::vector<byte_range>{{0, 4}, {3, 5}}));
}

TEST(etag, nginx_format) {
    EXPECT_EQ(make_etag(0x5f5e1000, 0x1234), "\"5f5e1000-1234\"");
    EXPECT_EQ(make_etag(1, 0), "\"1-0\"");
}

TEST(etag, strong_comparison_for_if_match) {
    std::string e = "\"abc-1\"";
    EXPECT_TRUE(etag_list_matches("\"abc-1\"", e, false));
    EXPECT_TRUE(etag_list_matches("*", e, false));
    EXPECT_TRUE(etag_list_matches(" \"x\", \"abc-1\" ", e, false));
    EXPECT_FALSE(etag_list_matches("W/\"abc-1\"", e, false));
    EXPECT_FALSE(etag_list_matches("\"abc-2\"", e, false));
    EXPECT_FALSE(etag_list_matches("abc-1", e, false));
    EXPECT_FALSE(etag_list_matches("", e, false));
    EXPECT_FALSE(etag_list_matches("\"abc-1\"", "W/\"abc-1\"", false));
}

TEST(etag, weak_comparison_for_if_none_match) {
    std::string e = "\"abc-1\"";
    EXPECT_TRUE(etag_list_matches("W/\"abc-1\"", e, true));
    EXPECT_TRUE(etag_list_matches("\"abc-1\"", "W/\"abc-1\"", true));
    EXPECT_TRUE(etag_list_matches("\"a\",W/\"abc-1\"", e, true));
    EXPECT_TRUE(etag_list_matches("\"a\" ,\t\"abc-1\"", e, true));
    EXPECT_TRUE(etag_list_matches("\"a,b\", \"abc-1\"", e, true));  // a comma inside a tag
    EXPECT_FALSE(etag_list_matches("\"a,b\"", "\"a\"", true));
    EXPECT_FALSE(etag_list_matches("\"abc-1", e, true));
    EXPECT_FALSE(etag_list_matches("\"abc-1\"x", e, true));
    EXPECT_FALSE(etag_list_matches("\"abc\"", e, true));
}

TEST(etag, malformed_element_stops_the_list) {
    EXPECT_FALSE(etag_list_matches("junk, \"abc-1\"", "\"abc-1\"", true));
    EXPECT_TRUE(etag_list_matches("\"abc-1\", junk", "\"abc-1\"", true));
}

TEST(date, three_forms) {
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), rfc_example);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), rfc_example);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), rfc_example);
    EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\t"), rfc_example);
    EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
    EXPECT_EQ(parse_http_date("Thursday, 01-Jan-30 00:00:00 GMT"), 1893456000);  // two-digit years < 70: 20xx
}

TEST(date, invalid_dates) {
    for (auto v : {"", "yesterday", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC",
                   "Sun, 06 Nov 1994 08:49:37", "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT",
                   "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
                   "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
                   "784111777"}) {
        EXPECT_FALSE(parse_http_date(v).has_value()) << v;
    }
}

TEST(date, format_round_trips) {
    EXPECT_EQ(format_http_date(rfc_example), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    for (std::int64_t t : {std::int64_t{951825600}, std::int64_t{1700000000}, std::int64_t{4102444799}}) {
        EXPECT_EQ(parse_http_date(format_http_date(t)), t);
    }
}

TEST(if_range, etag_or_exact_date) {
    std::string e = "\"abc-1\"";
    EXPECT_TRUE(if_range_matches("\"abc-1\"", e, rfc_example));
    EXPECT_FALSE(if_range_matches("\"abc-2\"", e, rfc_example));
    EXPECT_FALSE(if_range_matches("W/\"abc-1\"", e, rfc_example));
    EXPECT_TRUE(if_range_matches("Sun, 06 Nov 1994 08:49:37 GMT", e, rfc_example));
    EXPECT_FALSE(if_range_matches("Sun, 06 Nov 1994 08:49:38 GMT", e, rfc_example));  // later is no match
    EXPECT_FALSE(if_range_matches("garbage", e, rfc_example));
}

struct plan_fixture : ::testing::Test {
    std::string etag = "\"abc-64\"";
    file_validators v{etag, rfc_example, 100};
    file_conditions c;
};

TEST_F(plan_fixture, plain_get_is_200) { EXPECT_EQ(plan_file_response(c, v).status, 200); }

TEST_F(plan_fixture, if_match) {
    c.if_match = "\"other\"";
    EXPECT_EQ(plan_file_response(c, v).status, 412);
    c.if_match = "*";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
    c.if_match = "\"other\", \"abc-64\"";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
}

TEST_F(plan_fixture, if_unmodified_since_only_without_if_match) {
    c.if_unmodified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
    EXPECT_EQ(plan_file_response(c, v).status, 412);
    c.if_unmodified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
    c.if_unmodified_since = "not a date";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
    c.if_unmodified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
    c.if_match = "\"abc-64\"";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
}

TEST_F(plan_fixture, if_none_match) {
    c.if_none_match = "\"abc-64\"";
    EXPECT_EQ(plan_file_response(c, v).status, 304);
    c.if_none_match = "W/\"abc-64\"";
    EXPECT_EQ(plan_file_response(c, v).status, 304);
    c.if_none_match = "*";
    EXPECT_EQ(plan_file_response(c, v).status, 304);
    c.if_none_match = "\"x\"";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
}

TEST_F(plan_fixture, if_modified_since_only_without_if_none_match) {
    c.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
    EXPECT_EQ(plan_file_response(c, v).status, 304);
    c.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
    c.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
    c.if_none_match = "\"x\"";  // a non-matching If-None-Match overrides the date
    EXPECT_EQ(plan_file_response(c, v).status, 200);
}

TEST_F(plan_fixture, failed_precondition_wins_over_not_modified) {
    c.if_match = "\"x\"";
    c.if_none_match = "\"abc-64\"";
    EXPECT_EQ(plan_file_response(c, v).status, 412);
}

TEST_F(plan_fixture, not_modified_wins_over_range) {
    c.if_none_match = "\"abc-64\"";
    c.range = "bytes=0-1";
    EXPECT_EQ(plan_file_response(c, v).status, 304);
}

TEST_F(plan_fixture, ranges) {
    c.range = "bytes=0-9";
    file_plan p = plan_file_response(c, v);
    EXPECT_EQ(p.status, 206);
    EXPECT_EQ(p.ranges, (std::vector<byte_range>{{0, 9}}));
    c.range = "bytes=100-";
    EXPECT_EQ(plan_file_response(c, v).status, 416);
    c.range = "bytes=x";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
}

TEST_F(plan_fixture, if_range) {
    c.range = "bytes=0-9";
    c.if_range = "\"abc-64\"";
    EXPECT_EQ(plan_file_response(c, v).status, 206);
    c.if_range = "\"abc-65\"";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
    c.if_range = "Sun, 06 Nov 1994 08:49:37 GMT";
    EXPECT_EQ(plan_file_response(c, v).status, 206);
    c.if_range = "Sun, 06 Nov 1994 08:49:38 GMT";
    EXPECT_EQ(plan_file_response(c, v).status, 200);
    c.range.reset();  // If-Range without Range is ignored
    EXPECT_EQ(plan_file_response(c, v).status, 200);
}

TEST(framing, content_range_and_multipart) {
    EXPECT_EQ(content_range({0, 9}, 100), "bytes 0-9/100");
    EXPECT_EQ(unsatisfied_range(100), "bytes */100");
    EXPECT_EQ(multipart_content_type("0001"), "multipart/byteranges; boundary=0001");
    EXPECT_EQ(multipart_part_head("0001", "text/plain", {5, 6}, 10),
              "\r\n--0001\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/10\r\n\r\n");
    EXPECT_EQ(multipart_part_head("0001", "", {5, 6}, 10), "\r\n--0001\r\nContent-Range: bytes 5-6/10\r\n\r\n");
    EXPECT_EQ(multipart_tail("0001"), "\r\n--0001--\r\n");
}

}  // namespace
}  // namespace subhttpd::reactor::http

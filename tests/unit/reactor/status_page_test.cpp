// status_page: the query string and the three renderings of the figures.
#include "reactor/status_page.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace subhttpd::reactor {
namespace {

TEST(status_query_parse, empty_means_html_refreshing_every_five_seconds) {
    status_query q = parse_status_query("");
    EXPECT_FALSE(q.json);
    EXPECT_FALSE(q.metrics);
    EXPECT_EQ(q.refresh, 5u);
}

TEST(status_query_parse, parts_joined_by_ampersand) {
    status_query q = parse_status_query("json&refresh=0");
    EXPECT_TRUE(q.json);
    EXPECT_FALSE(q.metrics);
    EXPECT_EQ(q.refresh, 0u);
    q = parse_status_query("metrics");
    EXPECT_TRUE(q.metrics);
    q = parse_status_query("refresh=30&&json&");
    EXPECT_TRUE(q.json);
    EXPECT_EQ(q.refresh, 30u);
}

TEST(status_query_parse, bad_refresh_values_are_ignored) {
    EXPECT_EQ(parse_status_query("refresh=").refresh, 5u);
    EXPECT_EQ(parse_status_query("refresh=-1").refresh, 5u);
    EXPECT_EQ(parse_status_query("refresh=1x").refresh, 5u);
    EXPECT_EQ(parse_status_query("refresh=123456").refresh, 5u);  // more than five digits
    EXPECT_EQ(parse_status_query("refresh=99999").refresh, 99999u);
    EXPECT_EQ(parse_status_query("refresh=07").refresh, 7u);
}

TEST(status_query_parse, names_must_match_whole_parts) {
    status_query q = parse_status_query("jsonx&xmetrics&JSON&refresh");
    EXPECT_FALSE(q.json);
    EXPECT_FALSE(q.metrics);
    EXPECT_EQ(q.refresh, 5u);
}

server_figures figures() {
    server_figures f;
    f.started = 1000;
    f.now = 1060.5;
    f.generation = 3;
    f.requests = 12;
    f.sites = 2;
    f.pid = 4242;
    f.listeners = {"127.0.0.1:8080"};
    interp::interp_info a;
    a.name = "www.example.com";
    a.requests = 10;
    a.errors = 1;
    f.interpreters.push_back(a);
    return f;
}

TEST(status_render, json_carries_the_figures_and_quotes_strings) {
    server_figures f = figures();
    f.last_reload = 1050;
    f.last_reload_ok = false;
    f.last_reload_error = "server.toml:3:1: \"bad\"\nvalue";
    std::string j = render_status(f, status_format::json);
    EXPECT_EQ(j.front(), '{');
    EXPECT_EQ(j.back(), '\n');
    EXPECT_NE(j.find("\"uptime_seconds\": 60.500"), std::string::npos) << j;
    EXPECT_NE(j.find("\"config_generation\": 3"), std::string::npos);
    EXPECT_NE(j.find("\"requests\": 12"), std::string::npos);
    EXPECT_NE(j.find("\"ok\": false"), std::string::npos);
    EXPECT_NE(j.find("\\\"bad\\\"\\nvalue"), std::string::npos) << j;
    EXPECT_NE(j.find("\"listeners\": [\"127.0.0.1:8080\"]"), std::string::npos);
    EXPECT_NE(j.find("\"name\": \"www.example.com\""), std::string::npos);
    EXPECT_NE(j.find("\"supervisor\": null"), std::string::npos);
    EXPECT_NE(j.find("\"last_used\": null"), std::string::npos);
}

TEST(status_render, json_without_a_reload_says_null) {
    std::string j = render_status(figures(), status_format::json);
    EXPECT_NE(j.find("\"last_reload\": {\"time\": null, \"ok\": true"), std::string::npos) << j;
    EXPECT_NE(j.find("\"error\": null"), std::string::npos);
}

TEST(status_render, html_escapes_and_refreshes_as_asked) {
    server_figures f = figures();
    f.interpreters[0].name = "<script>";
    f.last_reload_error = "a < b & c";
    std::string h = render_status(f, status_format::html);
    EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(h.find("<script>"), std::string::npos);
    EXPECT_NE(h.find("&lt;script&gt;"), std::string::npos);
    EXPECT_NE(h.find("a &lt; b &amp; c"), std::string::npos);
    EXPECT_NE(h.find("http-equiv=\"refresh\" content=\"5\""), std::string::npos);
    f.refresh = 0;
    h = render_status(f, status_format::html);
    EXPECT_EQ(h.find("http-equiv=\"refresh\""), std::string::npos);
    EXPECT_NE(h.find("Not refreshing"), std::string::npos);
}

TEST(status_render, html_marks_retired_interpreters) {
    server_figures f = figures();
    f.interpreters[0].retired = true;
    f.interpreters[0].generation = 4;
    std::string h = render_status(f, status_format::html);
    EXPECT_NE(h.find("www.example.com (retired, generation 4)"), std::string::npos);
}

TEST(status_render, metrics_are_prometheus_text) {
    std::string m = render_status(figures(), status_format::metrics);
    EXPECT_NE(m.find("# TYPE subhttpd_uptime_seconds gauge\nsubhttpd_uptime_seconds 60.500\n"), std::string::npos)
        << m;
    EXPECT_NE(m.find("subhttpd_build_info{"), std::string::npos);
    EXPECT_NE(m.find("subhttpd_interpreter_requests_total{"), std::string::npos);
    // Every sample line is "name{labels} value" or "name value"; no blank lines.
    const std::regex sample(R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9][0-9.e+-]*)");
    std::size_t start = 0;
    while (start < m.size()) {
        std::size_t end = m.find('\n', start);
        ASSERT_NE(end, std::string::npos);
        std::string line = m.substr(start, end - start);
        EXPECT_FALSE(line.empty());
        if (!line.empty() && line[0] != '#') {
            EXPECT_TRUE(std::regex_match(line, sample)) << line;
        }
        start = end + 1;
    }
}

TEST(status_figures, taken_from_what_a_worker_publishes) {
    metrics::worker_figures w;
    w.requests = 12;
    w.connections = 30;
    w.connections_open = 3;
    w.in_flight = 2;
    w.pool_threads = 4;
    w.pool_busy = 1;
    w.pool_queued = 5;
    w.generation = 9;
    w.started = 1000;
    w.last_reload = 1500;
    w.last_reload_ok = false;
    w.recycling = true;
    w.log_write_failures = 6;
    w.fd_exhausted = 7;
    w.state_restored = 8;
    server_figures f = figures_from(w);
    EXPECT_EQ(f.requests, 12u);
    EXPECT_EQ(f.total_connections, 30u);
    EXPECT_EQ(f.open_connections, 3u);
    EXPECT_EQ(f.in_flight, 2u);
    EXPECT_EQ(f.pool_threads, 4u);
    EXPECT_EQ(f.pool_busy, 1u);
    EXPECT_EQ(f.pool_queued, 5u);
    EXPECT_EQ(f.generation, 9u);
    EXPECT_EQ(f.started, 1000);
    EXPECT_EQ(f.last_reload, 1500);
    EXPECT_FALSE(f.last_reload_ok);
    EXPECT_TRUE(f.recycling);
    EXPECT_EQ(f.log_write_failures, 6u);
    EXPECT_EQ(f.fd_exhausted, 7u);
    EXPECT_EQ(f.state_restored, 8u);
    EXPECT_TRUE(f.interpreters.empty());  // the caller's part
}

}  // namespace
}  // namespace subhttpd::reactor

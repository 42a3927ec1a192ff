// metrics: counting per site/interpreter/code, the histogram, folding a
// retired worker's slot (sums never go backwards), label-set bounds, and the
// Prometheus text. One process plays supervisor and worker on a shared region.
#include <gtest/gtest.h>

#include <string>

#include "reactor/metrics.h"

namespace subhttpd::reactor::metrics {
namespace {

std::uint64_t code_count(const view& v, const std::string& site, const std::string& interp, int code) {
    for (const auto& s : v.series) {
        if (s.site == site && s.interpreter == interp) {
            for (const auto& [c, n] : s.codes) {
                if (c == code) {
                    return n;
                }
            }
        }
    }
    return 0;
}

const site_view* site_of(const view& v, const std::string& name) {
    for (const auto& s : v.sites) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

conf::config two_sites() {
    conf::config c;
    c.sites.resize(2);
    c.sites[0].server_name = "a.test";
    c.sites[1].server_name = "b.test";
    return c;
}

// The whole life of a shared region in one test: the region is process-wide.
TEST(metrics, counts_folds_and_bounds) {
    ASSERT_TRUE(map_shared(4));
    conf::config cfg = two_sites();

    assign(0, 0);
    auto first = std::make_unique<recorder>();
    first->on_config(cfg);
    std::uint16_t a = first->site_id(cfg, &cfg.sites[0]);
    std::uint16_t b = first->site_id(cfg, &cfg.sites[1]);
    EXPECT_NE(a, b);
    EXPECT_EQ(first->site_name(a), "a.test");
    EXPECT_EQ(first->site_id(cfg, nullptr), recorder::no_site);
    first->finished(a, "a.test", 200, 10, 0.0004);
    first->finished(a, "a.test", 200, 20, 0.03);
    first->finished(a, "a.test", 404, 5, 0.2);
    first->finished(a, "other", 200, 1, 20.0);
    first->finished(b, "", 200, 100, 0.001);
    first->finished(recorder::no_site, "", 403, 0, 0.0);
    first->finished(a, "a.test", 42, 0, 0.0);  // not an HTTP code: "other"

    view v = first->read();
    EXPECT_TRUE(v.shared);
    EXPECT_EQ(code_count(v, "a.test", "a.test", 200), 2u);
    EXPECT_EQ(code_count(v, "a.test", "a.test", 404), 1u);
    EXPECT_EQ(code_count(v, "a.test", "a.test", 0), 1u);
    EXPECT_EQ(code_count(v, "a.test", "other", 200), 1u);
    EXPECT_EQ(code_count(v, "b.test", "", 200), 1u);
    EXPECT_EQ(code_count(v, "", "", 403), 1u);
    const site_view* sa = site_of(v, "a.test");
    ASSERT_NE(sa, nullptr);
    EXPECT_EQ(sa->count, 5u);
    EXPECT_EQ(sa->bytes, 36u);
    EXPECT_EQ(sa->buckets[0], 2u);                      // 0.4 ms and 0 s: <= 1 ms
    EXPECT_EQ(sa->buckets[5], 1u);                      // 30 ms: above 25 ms, at most 50 ms
    EXPECT_EQ(sa->buckets[bucket_bounds.size()], 1u);   // 20 s: +Inf only
    EXPECT_EQ(site_of(v, "b.test")->buckets[0], 1u);    // exactly 1 ms: le="0.001"
    ASSERT_EQ(v.workers.size(), 1u);

    // A second worker beside it; then the first is recycled: nothing is lost.
    assign(1, 1);
    auto second = std::make_unique<recorder>();
    second->on_config(cfg);
    second->finished(second->site_id(cfg, &cfg.sites[0]), "a.test", 200, 7, 0.002);
    worker_figures f;
    f.requests = 3;
    first->publish(f, true);
    f.requests = 4;
    second->publish(f, false);
    v = second->read();
    EXPECT_EQ(code_count(v, "a.test", "a.test", 200), 3u);
    EXPECT_EQ(v.totals[c_requests], 7u);
    EXPECT_EQ(v.workers.size(), 2u);
    first.reset();
    worker_ended(0, ending::recycled);
    v = second->read();
    EXPECT_EQ(code_count(v, "a.test", "a.test", 200), 3u);
    EXPECT_EQ(code_count(v, "a.test", "a.test", 0), 1u);
    EXPECT_EQ(code_count(v, "", "", 403), 1u);
    EXPECT_EQ(site_of(v, "a.test")->count, 6u);
    EXPECT_EQ(site_of(v, "a.test")->bytes, 43u);
    EXPECT_EQ(v.totals[c_requests], 7u);
    EXPECT_EQ(v.workers.size(), 1u);
    EXPECT_EQ(v.recycles, 1u);
    EXPECT_GT(v.totals[c_cpu_micros], 0u);  // the first worker's CPU stays counted

    // A fresh worker in the freed slot starts from zero; the sums keep growing.
    assign(0, 0);
    auto third = std::make_unique<recorder>();
    third->on_config(cfg);
    third->finished(third->site_id(cfg, &cfg.sites[0]), "a.test", 200, 1, 0.0);
    v = third->read();
    EXPECT_EQ(code_count(v, "a.test", "a.test", 200), 4u);

    // Bounds: more sites than cells go to "_other_"; more codes than cells to "other".
    conf::config many;
    many.sites.resize(100);
    for (std::size_t i = 0; i < many.sites.size(); ++i) {
        many.sites[i].server_name = "s" + std::to_string(i) + ".test";
    }
    third->on_config(many);
    for (std::size_t i = 0; i < many.sites.size(); ++i) {
        third->finished(third->site_id(many, &many.sites[i]), "i", 200, 0, 0.0);
    }
    for (int code = 200; code < 220; ++code) {
        third->finished(third->site_id(many, &many.sites[0]), "i", code, 0, 0.0);
    }
    third->publish(worker_figures{}, false);
    v = third->read();
    std::uint64_t other = 0;
    for (const auto& s : v.sites) {
        if (s.name == overflow_name) {
            other = s.count;
        }
    }
    EXPECT_GT(other, 0u);
    EXPECT_LE(v.sites.size(), max_sites + 1);  // + the retired slot's own names, merged by name
    EXPECT_EQ(code_count(v, "s0.test", "i", 200), 2u);
    EXPECT_EQ(code_count(v, "s0.test", "i", 0), 20u - (max_codes - 1));  // 11 codes kept, 9 more in "other"
    EXPECT_EQ(v.totals[c_overflow], other);

    std::string text = render_prometheus(v);
    EXPECT_NE(text.find("# TYPE subhttpd_http_request_duration_seconds histogram\n"), std::string::npos);
    EXPECT_NE(text.find("subhttpd_http_request_duration_seconds_bucket{site=\"a.test\",le=\"+Inf\"} 7\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("subhttpd_http_request_duration_seconds_bucket{site=\"a.test\",le=\"0.001\"} 3\n"),
              std::string::npos);
    EXPECT_NE(text.find("subhttpd_http_request_duration_seconds_count{site=\"a.test\"} 7\n"), std::string::npos);
    EXPECT_NE(text.find("subhttpd_http_requests_total{site=\"a.test\",interpreter=\"a.test\",code=\"other\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("subhttpd_worker_recycles_total 1\n"), std::string::npos);
    EXPECT_NE(text.find("subhttpd_process_resident_memory_bytes{worker=\"supervisor\""), std::string::npos);
}

}  // namespace
}  // namespace subhttpd::reactor::metrics

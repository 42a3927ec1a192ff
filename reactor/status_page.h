#pragma once
// status_page: [server].status for loopback clients and status_allow — HTML for
// people (refreshing itself every `refresh` seconds, ?refresh=0 stops it), JSON
// (?json or Accept: application/json) and Prometheus text (?metrics). Pure
// formatting of figures the server hands in: this worker's, and every
// process's from the shared metrics (reactor/metrics.h). Loop thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "interp/registry.h"
#include "reactor/metrics.h"

namespace subhttpd::reactor {

struct server_figures {
    double started = 0;  // unix time
    double now = 0;
    std::uint64_t generation = 0;
    std::uint64_t requests = 0;
    std::size_t open_connections = 0;
    std::uint64_t total_connections = 0;
    std::size_t in_flight = 0;
    std::size_t pool_threads = 0;
    std::size_t pool_busy = 0;
    std::size_t pool_queued = 0;
    double last_reload = 0;  // unix time, 0 = never
    bool last_reload_ok = true;
    double last_reload_ms = 0;
    std::string last_reload_error;
    std::size_t sites = 0;
    std::vector<std::string> listeners;
    std::vector<interp::interp_info> interpreters;
    // this worker process and its faults
    long pid = 0;
    std::uint64_t worker_requests = 0;
    std::uint64_t recycle_after = 0;  // 0: max_requests off
    std::uint64_t rss_bytes = 0;
    std::uint64_t max_rss = 0;        // 0: off
    bool recycling = false;           // a replacement has been asked for
    std::uint64_t log_write_failures = 0;
    std::uint64_t fd_exhausted = 0;   // accepts refused for lack of descriptors
    std::size_t peak_connections = 0;
    std::uint64_t state_restored = 0; // requests after which cwd/umask were put back
    // every process of the server, and how the HTML page refreshes
    metrics::view all;
    unsigned refresh = 5;             // seconds; 0: never
};

// The figures a worker also publishes to the shared metrics, taken from them
// (the rest of server_figures is left to the caller).
server_figures figures_from(const metrics::worker_figures& w);

// The status page's query: "json", "metrics", "refresh=N", joined by '&'.
struct status_query {
    bool json = false;
    bool metrics = false;
    unsigned refresh = 5;
};
status_query parse_status_query(std::string_view query);

enum class status_format { html, json, metrics };

std::string render_status(const server_figures& f, status_format fmt);

}  // namespace subhttpd::reactor

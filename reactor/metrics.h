#pragma once
// metrics: the server's request counters, kept where every process of the
// server can read them, so any worker answers the status page for all.
//
// The supervisor maps one shared anonymous region before it forks
// (map_shared): a header, one fixed-size slot per worker place it may use, and
// a "retired" slot. A worker writes only its own slot, from its loop thread
// (single writer: plain relaxed stores, no lock, no string lookup per request
// in the common case). Any worker reads every slot and sums. When a worker
// ends, the supervisor folds its slot into the retired slot under a sequence
// lock (worker_ended), so summed counters never go backwards, whichever worker
// answers and however often workers are recycled.
//
// Label sets are bounded per slot: max_sites sites, max_series (site,
// interpreter) pairs, max_codes status codes per pair; requests beyond them are
// counted under site/interpreter "_other_" and code "other" (docs/metrics.md).
//
// Threads: recorder and read() — a worker's loop thread; map_shared, assign,
// worker_ended, supervisor_tick — the supervisor's thread.
#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/config.h"

namespace subhttpd::reactor::metrics {

inline constexpr std::size_t max_sites = 64;    // per slot, with "" (no site) and "_other_"
inline constexpr std::size_t max_series = 256;  // (site, interpreter) pairs per slot, with "_other_"
inline constexpr std::size_t max_codes = 12;    // status codes per pair, the last one "other"
inline constexpr std::size_t name_bytes = 96;   // longer names are cut
// Upper bounds of the request-duration histogram, in seconds (+Inf implied).
inline constexpr std::array<double, 13> bucket_bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                         0.25,  0.5,    1,     2.5,  5,    10};
inline constexpr const char* overflow_name = "_other_";

// Counters a worker publishes as running totals; summed over workers, folded when one ends.
enum counter : unsigned {
    c_requests,            // requests received (every answer, the status page's too)
    c_connections,         // connections accepted
    c_log_write_failures,
    c_fd_exhausted,
    c_state_restored,
    c_reloads_ok,
    c_reloads_failed,
    c_cpu_micros,          // user + system CPU of the process
    c_overflow,            // requests counted under "_other_" labels
    counter_count
};
// Gauges of one worker process, shown per worker (never folded).
enum gauge : unsigned {
    g_in_flight,
    g_connections_open,
    g_pool_threads,
    g_pool_busy,
    g_pool_queued,
    g_rss_bytes,
    g_open_fds,
    g_generation,
    g_started,             // unix time
    g_last_reload,         // unix time, 0 = never
    g_last_reload_ok,
    g_recycling,
    gauge_count
};

// What one process looks like when read.
struct process_view {
    long pid = 0;
    int place = -1;  // the worker's place 0..workers-1; -1: the supervisor
    std::array<std::uint64_t, counter_count> counters{};
    std::array<std::uint64_t, gauge_count> gauges{};
};
struct site_view {
    std::string name;  // "" for requests no site answered (status page, OPTIONS *)
    std::array<std::uint64_t, bucket_bounds.size() + 1> buckets{};  // not cumulative; last: +Inf
    std::uint64_t count = 0;
    std::uint64_t sum_micros = 0;
    std::uint64_t bytes = 0;
};
struct series_view {
    std::string site;
    std::string interpreter;  // "" when no Python ran (static files, errors)
    std::vector<std::pair<int, std::uint64_t>> codes;  // code 0: "other"
};
// Every process, summed: read by any worker.
struct view {
    bool shared = false;  // false: this process alone (no supervisor)
    std::vector<site_view> sites;          // by name, sorted
    std::vector<series_view> series;       // by (site, interpreter), sorted
    std::array<std::uint64_t, counter_count> totals{};  // live workers + retired
    std::vector<process_view> workers;     // live, by place then pid
    process_view supervisor;
    std::uint64_t restarts = 0;            // workers that died and were restarted
    std::uint64_t recycles = 0;            // workers replaced for max_requests / max_rss
    std::uint64_t stalls = 0;              // workers replaced for stall_timeout
};

struct region;

// Supervisor, before any fork: `slots` worker slots (the same count and order
// as its fault slots) plus the retired one. False when it cannot be mapped.
bool map_shared(std::size_t slots);
// Supervisor, right before it forks the worker for `place` into slot `index`:
// the child inherits which slot is its own.
void assign(std::size_t index, unsigned place);
// Supervisor, once the worker in slot `index` has been reaped: its counters go
// to the retired slot; `why` says what it counts as.
enum class ending { stopped, recycled, stalled, crashed };
void worker_ended(std::size_t index, ending why);
// Supervisor, from its loop: its own pid, RSS, CPU and descriptors (at most once a second).
void supervisor_tick();

// This process's figures: RSS, CPU, open descriptors (read from /proc and getrusage).
struct own_process {
    std::uint64_t rss_bytes = 0;
    std::uint64_t cpu_micros = 0;
    std::uint64_t open_fds = 0;
};
own_process read_own_process();

// A worker's figures as the loop knows them (published every tick).
struct worker_figures {
    std::uint64_t requests = 0;
    std::uint64_t connections = 0;
    std::uint64_t log_write_failures = 0;
    std::uint64_t fd_exhausted = 0;
    std::uint64_t state_restored = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t pool_threads = 0;
    std::uint64_t pool_busy = 0;
    std::uint64_t pool_queued = 0;
    std::uint64_t generation = 0;
    double started = 0;
    double last_reload = 0;
    bool last_reload_ok = true;
    bool recycling = false;
};

// A worker's writer into its slot. Loop thread only.
class recorder {
public:
    static constexpr std::uint16_t no_site = 0;  // the "" site cell

    recorder();
    recorder(const recorder&) = delete;
    recorder& operator=(const recorder&) = delete;

    // A new snapshot is in force: maps each of its sites to a cell, by name.
    void on_config(const conf::config& c);
    // The cell of `s`, a site of `c` (the snapshot on_config last saw): O(1).
    std::uint16_t site_id(const conf::config& c, const conf::site* s) const;
    std::string_view site_name(std::uint16_t site) const;
    // One answered request.
    void finished(std::uint16_t site, std::string_view interpreter, int code, std::uint64_t bytes, double seconds);
    void reloaded(bool ok);
    // The loop's figures; `process` also reads RSS/CPU/descriptors (once a second is plenty).
    void publish(const worker_figures& f, bool process);
    // Every process, summed (a consistent copy).
    view read() const;

private:
    struct slot* slot_ = nullptr;
    std::uint16_t cell_for_site(std::string_view name);
    std::uint16_t cell_for_series(std::uint16_t site, std::string_view interpreter);

    const conf::config* cfg_ = nullptr;
    std::vector<std::uint16_t> by_index_;                       // cfg_->sites[i] -> site cell
    std::unordered_map<std::string, std::uint16_t> site_cells_;  // reload path only
    std::unordered_map<std::string, std::uint16_t> series_cells_;  // on a miss of last_
    struct last_used {
        std::string interpreter;
        std::uint16_t series = 0;
        bool set = false;
    };
    std::array<last_used, max_sites> last_{};  // per site: the interpreter seen last
    std::uint64_t reloads_ok_ = 0;
    std::uint64_t reloads_failed_ = 0;
    std::uint64_t overflow_ = 0;
};

// Prometheus text for `v` (families in the order of docs/metrics.md).
std::string render_prometheus(const view& v);

}  // namespace subhttpd::reactor::metrics

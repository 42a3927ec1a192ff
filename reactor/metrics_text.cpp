// Prometheus text exposition (format 0.0.4) of a metrics::view: HELP and TYPE
// lines, base units, `_total` counters, cumulative histogram buckets.
#include <cstdio>
#include <string>

#include "reactor/metrics.h"

namespace subhttpd::reactor::metrics {
namespace {

std::string label_value(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string seconds(std::uint64_t micros) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llu.%06llu", static_cast<unsigned long long>(micros / 1000000),
                  static_cast<unsigned long long>(micros % 1000000));
    return buf;
}

std::string bound(double b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", b);
    return buf;
}

struct writer {
    std::string& o;
    void family(const char* name, const char* type, const char* help) {
        o += "# HELP ";
        o += name;
        o += ' ';
        o += help;
        o += "\n# TYPE ";
        o += name;
        o += ' ';
        o += type;
        o += '\n';
    }
    void sample(const std::string& name_and_labels, const std::string& value) {
        o += name_and_labels;
        o += ' ';
        o += value;
        o += '\n';
    }
    void one(const char* name, const char* type, const char* help, std::uint64_t v) {
        family(name, type, help);
        sample(name, std::to_string(v));
    }
};

std::string who(const process_view& p) {
    std::string place = p.place < 0 ? "supervisor" : std::to_string(p.place);
    return "worker=\"" + place + "\",pid=\"" + std::to_string(p.pid) + "\"";
}

}  // namespace

std::string render_prometheus(const view& v) {
    std::string o;
    writer w{o};

    w.family("subhttpd_http_requests_total", "counter",
             "HTTP requests answered, by site, interpreter (\"\" when no Python ran) and status code.");
    for (const series_view& s : v.series) {
        std::string base = "subhttpd_http_requests_total{site=\"" + label_value(s.site) + "\",interpreter=\"" +
                           label_value(s.interpreter) + "\",code=\"";
        for (const auto& [code, n] : s.codes) {
            w.sample(base + (code == 0 ? std::string("other") : std::to_string(code)) + "\"}", std::to_string(n));
        }
    }
    w.family("subhttpd_http_request_duration_seconds", "histogram",
             "Time from a request's arrival to its answer, per site.");
    for (const site_view& s : v.sites) {
        std::string site = "site=\"" + label_value(s.name) + "\"";
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < s.buckets.size(); ++b) {
            cumulative += s.buckets[b];
            std::string le = b < bucket_bounds.size() ? bound(bucket_bounds[b]) : "+Inf";
            w.sample("subhttpd_http_request_duration_seconds_bucket{" + site + ",le=\"" + le + "\"}",
                     std::to_string(cumulative));
        }
        w.sample("subhttpd_http_request_duration_seconds_sum{" + site + "}", seconds(s.sum_micros));
        w.sample("subhttpd_http_request_duration_seconds_count{" + site + "}", std::to_string(s.count));
    }
    w.family("subhttpd_http_response_bytes_total", "counter", "Response body bytes sent, per site.");
    for (const site_view& s : v.sites) {
        w.sample("subhttpd_http_response_bytes_total{site=\"" + label_value(s.name) + "\"}", std::to_string(s.bytes));
    }

    auto per_worker = [&](const char* name, const char* type, const char* help, gauge g) {
        w.family(name, type, help);
        for (const process_view& p : v.workers) {
            w.sample(std::string(name) + "{" + who(p) + "}", std::to_string(p.gauges[g]));
        }
    };
    per_worker("subhttpd_http_requests_in_flight", "gauge", "Python requests not answered yet, per worker.",
               g_in_flight);
    per_worker("subhttpd_connections_open", "gauge", "Open client connections, per worker.", g_connections_open);
    per_worker("subhttpd_pool_threads", "gauge", "Offload pool threads, per worker.", g_pool_threads);
    per_worker("subhttpd_pool_busy_threads", "gauge", "Offload pool threads running a job, per worker.", g_pool_busy);
    per_worker("subhttpd_pool_queue_depth", "gauge", "Jobs waiting for an offload pool thread, per worker.",
               g_pool_queued);
    per_worker("subhttpd_config_generation", "gauge", "Configuration generation in force, per worker.", g_generation);
    per_worker("subhttpd_last_reload_success", "gauge", "1 if the worker's last reload applied.", g_last_reload_ok);
    per_worker("subhttpd_last_reload_timestamp_seconds", "gauge",
               "Unix time of the worker's last reload (0: none since it started).", g_last_reload);

    w.one("subhttpd_requests_total", "counter", "Requests received by every worker, ever.", v.totals[c_requests]);
    w.one("subhttpd_connections_total", "counter", "Client connections accepted by every worker, ever.",
          v.totals[c_connections]);
    w.family("subhttpd_reloads_total", "counter",
             "Configuration reloads by result; each worker reloads, so one SIGHUP counts once per worker.");
    w.sample("subhttpd_reloads_total{result=\"success\"}", std::to_string(v.totals[c_reloads_ok]));
    w.sample("subhttpd_reloads_total{result=\"failure\"}", std::to_string(v.totals[c_reloads_failed]));
    w.one("subhttpd_log_write_failures_total", "counter", "Log writes that failed (full disk, ...).",
          v.totals[c_log_write_failures]);
    w.one("subhttpd_accept_fd_exhausted_total", "counter", "Accepts that found no free descriptor.",
          v.totals[c_fd_exhausted]);
    w.one("subhttpd_process_state_restored_total", "counter", "Requests after which cwd/umask were restored.",
          v.totals[c_state_restored]);
    w.one("subhttpd_metrics_overflow_total", "counter",
          "Requests counted under the \"_other_\" site or interpreter because the label table was full.",
          v.totals[c_overflow]);
    w.one("subhttpd_worker_restarts_total", "counter", "Workers that died unexpectedly and were restarted.",
          v.restarts);
    w.one("subhttpd_worker_recycles_total", "counter", "Workers replaced for max_requests or max_rss.", v.recycles);
    w.one("subhttpd_worker_stalls_total", "counter", "Workers replaced because their loop stalled.", v.stalls);
    w.one("subhttpd_workers", "gauge", "Worker processes running.", v.workers.size());

    // Per process (the supervisor and each worker), then the standard process_*
    // metrics for the whole server.
    std::vector<const process_view*> procs;
    if (v.shared) {
        procs.push_back(&v.supervisor);
    }
    for (const process_view& p : v.workers) {
        procs.push_back(&p);
    }
    auto per_process = [&](const char* name, const char* type, const char* help, auto value) {
        w.family(name, type, help);
        for (const process_view* p : procs) {
            w.sample(std::string(name) + "{" + who(*p) + "}", value(*p));
        }
    };
    per_process("subhttpd_process_resident_memory_bytes", "gauge", "Resident memory of each process, in bytes.",
                [](const process_view& p) { return std::to_string(p.gauges[g_rss_bytes]); });
    per_process("subhttpd_process_open_fds", "gauge", "Open file descriptors of each process.",
                [](const process_view& p) { return std::to_string(p.gauges[g_open_fds]); });
    per_process("subhttpd_process_cpu_seconds_total", "counter", "User and system CPU time of each process.",
                [](const process_view& p) { return seconds(p.counters[c_cpu_micros]); });
    per_process("subhttpd_process_start_time_seconds", "gauge", "Start time of each process (Unix time).",
                [](const process_view& p) { return std::to_string(p.gauges[g_started]); });

    std::uint64_t rss = 0, fds = 0;
    for (const process_view* p : procs) {
        rss += p->gauges[g_rss_bytes];
        fds += p->gauges[g_open_fds];
    }
    std::uint64_t cpu = v.totals[c_cpu_micros] + (v.shared ? v.supervisor.counters[c_cpu_micros] : 0);
    std::uint64_t start = v.shared ? v.supervisor.gauges[g_started]
                                   : (v.workers.empty() ? 0 : v.workers.front().gauges[g_started]);
    w.family("process_cpu_seconds_total", "counter",
             "User and system CPU time spent in seconds, by the supervisor and every worker, ever.");
    w.sample("process_cpu_seconds_total", seconds(cpu));
    w.one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes, all processes together.", rss);
    w.one("process_open_fds", "gauge", "Number of open file descriptors, all processes together.", fds);
    w.one("process_start_time_seconds", "gauge", "Start time of the server since the Unix epoch in seconds.", start);
    return o;
}

}  // namespace subhttpd::reactor::metrics

#include "reactor/status_page.h"

#include "common/escape.h"

#include <Python.h>
#include <dirent.h>
#include <event2/event.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace subhttpd::reactor {
namespace {

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::string when(double t) {
    if (t <= 0) {
        return "never";
    }
    time_t s = static_cast<time_t>(t);
    tm g{};
    gmtime_r(&s, &g);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &g);
    return buf;
}

std::string label(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') {
            out += '\\';
        }
        out += c == '\n' ? ' ' : c;
    }
    return out;
}

std::string render_json(const server_figures& f) {
    std::string o = "{";
    o += "\"uptime_seconds\": " + num(f.now - f.started);
    o += ", \"started\": " + num(f.started);
    o += ", \"config_generation\": " + std::to_string(f.generation);
    o += ", \"sites\": " + std::to_string(f.sites);
    o += ", \"requests\": " + std::to_string(f.requests);
    o += ", \"in_flight\": " + std::to_string(f.in_flight);
    o += ", \"connections\": {\"open\": " + std::to_string(f.open_connections) +
         ", \"total\": " + std::to_string(f.total_connections) + "}";
    o += ", \"pool\": {\"threads\": " + std::to_string(f.pool_threads) + ", \"busy\": " +
         std::to_string(f.pool_busy) + ", \"queued\": " + std::to_string(f.pool_queued) + "}";
    o += ", \"last_reload\": {\"time\": " + (f.last_reload > 0 ? num(f.last_reload) : std::string("null")) +
         ", \"ok\": " + (f.last_reload_ok ? "true" : "false") + ", \"ms\": " + num(f.last_reload_ms) +
         ", \"error\": " + (f.last_reload_error.empty() ? "null" : json_quote(f.last_reload_error)) + "}";
    o += ", \"worker\": {\"pid\": " + std::to_string(f.pid) + ", \"requests\": " + std::to_string(f.worker_requests) +
         ", \"max_requests\": " + std::to_string(f.recycle_after) + ", \"rss_bytes\": " + std::to_string(f.rss_bytes) +
         ", \"max_rss\": " + std::to_string(f.max_rss) + ", \"recycling\": " + (f.recycling ? "true" : "false") + "}";
    o += ", \"faults\": {\"log_write_failures\": " + std::to_string(f.log_write_failures) +
         ", \"fd_exhausted\": " + std::to_string(f.fd_exhausted) + ", \"peak_connections\": " +
         std::to_string(f.peak_connections) + ", \"state_restored\": " + std::to_string(f.state_restored) + "}";
    o += ", \"listeners\": [";
    for (std::size_t i = 0; i < f.listeners.size(); ++i) {
        o += (i ? ", " : "") + json_quote(f.listeners[i]);
    }
    o += "], \"interpreters\": [";
    for (std::size_t i = 0; i < f.interpreters.size(); ++i) {
        const auto& in = f.interpreters[i];
        o += (i ? ", " : "") + std::string("{\"name\": ") + json_quote(in.name) + ", \"created\": " + num(in.created) +
             ", \"create_ms\": " + num(in.create_ms) + ", \"requests\": " + std::to_string(in.requests) +
             ", \"errors\": " + std::to_string(in.errors) + ", \"modules_loaded\": " + std::to_string(in.modules) +
             ", \"sys_modules\": " + std::to_string(in.sys_modules) + ", \"generation\": " +
             std::to_string(in.generation) + ", \"retired\": " + (in.retired ? "true" : "false") + ", \"last_used\": " +
             (in.last_used > 0 ? num(in.last_used) : std::string("null")) + "}";
    }
    o += "]}\n";
    return o;
}

// Prometheus' standard process metrics, read from /proc and getrusage.
struct process_figures {
    double cpu_seconds = 0;
    double rss_bytes = 0;
    double open_fds = 0;
};

process_figures read_process() {
    process_figures p;
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        p.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                        static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }
    if (FILE* f = std::fopen("/proc/self/statm", "re")) {
        long size = 0, resident = 0;
        if (std::fscanf(f, "%ld %ld", &size, &resident) == 2) {
            p.rss_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
        }
        std::fclose(f);
    }
    if (DIR* d = opendir("/proc/self/fd")) {
        while (dirent* e = readdir(d)) {
            p.open_fds += e->d_name[0] != '.' ? 1 : 0;
        }
        closedir(d);
        p.open_fds -= 1;  // the one opendir holds
    }
    return p;
}

std::string render_metrics(const server_figures& f) {
    std::string o;
    auto metric = [&](const char* name, const char* type, const char* help, const std::string& value) {
        o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
             value + "\n";
    };
    std::string py = Py_GetVersion();
    o += "# HELP subhttpd_build_info The versions of subhttpd, the embedded Python and libevent.\n"
         "# TYPE subhttpd_build_info gauge\n"
         "subhttpd_build_info{version=\"" SUBHTTPD_VERSION "\",python=\"" + py.substr(0, py.find(' ')) +
         "\",libevent=\"" + event_get_version() + "\"} 1\n";
    process_figures p = read_process();
    metric("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.", num(p.cpu_seconds));
    metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", num(p.rss_bytes));
    metric("process_open_fds", "gauge", "Number of open file descriptors.", num(p.open_fds));
    metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.",
           num(f.started));
    metric("subhttpd_uptime_seconds", "gauge", "Seconds since the server started.", num(f.now - f.started));
    metric("subhttpd_config_generation", "gauge", "Configuration generation in force.",
           std::to_string(f.generation));
    metric("subhttpd_requests_total", "counter", "Requests received.", std::to_string(f.requests));
    metric("subhttpd_requests_in_flight", "gauge", "Python requests not answered yet.", std::to_string(f.in_flight));
    metric("subhttpd_connections_open", "gauge", "Open client connections.", std::to_string(f.open_connections));
    metric("subhttpd_connections_total", "counter", "Client connections seen.", std::to_string(f.total_connections));
    metric("subhttpd_pool_busy", "gauge", "Worker threads running a job.", std::to_string(f.pool_busy));
    metric("subhttpd_pool_queued", "gauge", "Jobs waiting for a worker.", std::to_string(f.pool_queued));
    metric("subhttpd_last_reload_success", "gauge", "1 if the last reload applied.", f.last_reload_ok ? "1" : "0");
    metric("subhttpd_last_reload_timestamp_seconds", "gauge", "Unix time of the last reload.", num(f.last_reload));
    metric("subhttpd_worker_rss_bytes", "gauge", "Resident memory of this worker.", std::to_string(f.rss_bytes));
    metric("subhttpd_log_write_failures_total", "counter", "Log writes that failed (full disk, ...).",
           std::to_string(f.log_write_failures));
    metric("subhttpd_accept_fd_exhausted_total", "counter", "Accepts that found no free descriptor.",
           std::to_string(f.fd_exhausted));
    metric("subhttpd_process_state_restored_total", "counter", "Requests after which cwd/umask were restored.",
           std::to_string(f.state_restored));
    o += "# HELP subhttpd_interpreter_requests_total Requests run per interpreter.\n"
         "# TYPE subhttpd_interpreter_requests_total counter\n";
    std::size_t retired = 0;
    for (const auto& in : f.interpreters) {
        retired += in.retired ? 1 : 0;
    }
    metric("subhttpd_interpreters_retired", "gauge",
           "Interpreters replaced by autoreload = \"app\" and parked.", std::to_string(retired));
    for (const auto& in : f.interpreters) {
        if (in.retired) {
            continue;
        }
        o += "subhttpd_interpreter_requests_total{interpreter=\"" + label(in.name) + "\"} " +
             std::to_string(in.requests) + "\n";
    }
    o += "# HELP subhttpd_interpreter_errors_total Handler errors per interpreter.\n"
         "# TYPE subhttpd_interpreter_errors_total counter\n";
    for (const auto& in : f.interpreters) {
        if (in.retired) {
            continue;
        }
        o += "subhttpd_interpreter_errors_total{interpreter=\"" + label(in.name) + "\"} " +
             std::to_string(in.errors) + "\n";
    }
    o += "# HELP subhttpd_interpreter_modules Handler modules loaded per interpreter.\n"
         "# TYPE subhttpd_interpreter_modules gauge\n";
    for (const auto& in : f.interpreters) {
        if (in.retired) {
            continue;
        }
        o += "subhttpd_interpreter_modules{interpreter=\"" + label(in.name) + "\"} " + std::to_string(in.modules) +
             "\n";
    }
    return o;
}

std::string render_html(const server_figures& f) {
    std::string o =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>subhttpd status</title>\n"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}"
        ".bad{color:#b00}</style></head><body>\n<h1>subhttpd status</h1>\n<table id=\"server\">\n";
    auto row = [&](const std::string& k, const std::string& v) {
        o += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>\n";
    };
    row("uptime", num(f.now - f.started) + " s");
    row("started", when(f.started));
    row("config generation", std::to_string(f.generation));
    row("sites", std::to_string(f.sites));
    row("requests", std::to_string(f.requests));
    row("in flight", std::to_string(f.in_flight));
    row("connections", std::to_string(f.open_connections) + " open, " + std::to_string(f.total_connections) + " seen");
    row("worker pool", std::to_string(f.pool_busy) + " busy of " + std::to_string(f.pool_threads) + ", " +
                           std::to_string(f.pool_queued) + " queued");
    row("worker", "pid " + std::to_string(f.pid) + ", " + std::to_string(f.worker_requests) + " requests" +
                      (f.recycle_after != 0 ? " of max_requests " + std::to_string(f.recycle_after) : std::string()) +
                      ", RSS " + std::to_string(f.rss_bytes >> 20) + " MB" +
                      (f.max_rss != 0 ? " of max_rss " + std::to_string(f.max_rss >> 20) + " MB" : std::string()) +
                      (f.recycling ? ", recycling" : ""));
    row("faults", std::to_string(f.log_write_failures) + " failed log writes, " + std::to_string(f.fd_exhausted) +
                      " accepts without a descriptor, peak " + std::to_string(f.peak_connections) +
                      " connections, cwd/umask restored " + std::to_string(f.state_restored) + " times");
    std::string listeners;
    for (const auto& l : f.listeners) {
        listeners += (listeners.empty() ? "" : ", ") + l;
    }
    row("listening on", listeners);
    row("last reload", f.last_reload > 0 ? when(f.last_reload) + " (" + num(f.last_reload_ms) + " ms, " +
                                               (f.last_reload_ok ? "applied" : "FAILED") + ")"
                                         : "never");
    o += "</table>\n";
    if (!f.last_reload_error.empty()) {
        o += "<h2 class=\"bad\">last reload error</h2>\n<pre id=\"reload-error\">" + html_escape(f.last_reload_error) +
             "</pre>\n";
    }
    o += "<h2>interpreters</h2>\n<table id=\"interpreters\">\n<tr><th>name</th><th>created</th><th>requests</th>"
         "<th>errors</th><th>modules loaded</th><th>last used</th></tr>\n";
    for (const auto& in : f.interpreters) {
        const std::string label = in.retired ? " (retired, generation " + std::to_string(in.generation) + ")"
                                  : in.generation > 1 ? " (generation " + std::to_string(in.generation) + ")"
                                                      : "";
        o += "<tr><td>" + html_escape(in.name + label) + "</td><td>" + when(in.created) + " (" + num(in.create_ms) +
             " ms)</td><td>" + std::to_string(in.requests) + "</td><td>" + std::to_string(in.errors) + "</td><td>" +
             std::to_string(in.modules) + "</td><td>" + when(in.last_used) + "</td></tr>\n";
    }
    o += "</table>\n</body></html>\n";
    return o;
}

}  // namespace

std::string render_status(const server_figures& f, status_format fmt) {
    switch (fmt) {
        case status_format::json: return render_json(f);
        case status_format::metrics: return render_metrics(f);
        case status_format::html: break;
    }
    return render_html(f);
}

}  // namespace subhttpd::reactor

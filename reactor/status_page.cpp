#include "reactor/status_page.h"

#include "common/escape.h"
#include "reactor/groups.h"

#include <Python.h>
#include <event2/event.h>

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

std::string process_json(const metrics::process_view& p) {
    using namespace metrics;
    return "{\"worker\": " + (p.place < 0 ? std::string("\"supervisor\"") : std::to_string(p.place)) +
           ", \"pid\": " + std::to_string(p.pid) + ", \"rss_bytes\": " + std::to_string(p.gauges[g_rss_bytes]) +
           ", \"open_fds\": " + std::to_string(p.gauges[g_open_fds]) + ", \"cpu_seconds\": " +
           num(static_cast<double>(p.counters[c_cpu_micros]) / 1e6) + ", \"started\": " +
           std::to_string(p.gauges[g_started]) + ", \"requests\": " + std::to_string(p.counters[c_requests]) +
           ", \"in_flight\": " + std::to_string(p.gauges[g_in_flight]) + ", \"connections_open\": " +
           std::to_string(p.gauges[g_connections_open]) + ", \"config_generation\": " +
           std::to_string(p.gauges[g_generation]) + "}";
}

std::string render_json(const server_figures& f) {
    std::string o = "{";
    o += "\"version\": \"" SUBHTTPD_VERSION "\"";
    o += ", \"uptime_seconds\": " + num(f.now - f.started);
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
    o += "], \"supervisor\": " + (f.all.shared ? process_json(f.all.supervisor) : std::string("null"));
    o += ", \"workers\": [";
    for (std::size_t i = 0; i < f.all.workers.size(); ++i) {
        o += (i ? ", " : "") + process_json(f.all.workers[i]);
    }
    o += "], \"http\": [";
    for (std::size_t i = 0; i < f.all.sites.size(); ++i) {
        const auto& st = f.all.sites[i];
        o += (i ? ", " : "") + std::string("{\"site\": ") + json_quote(st.name) + ", \"requests\": " +
             std::to_string(st.count) + ", \"bytes\": " + std::to_string(st.bytes) + ", \"seconds\": " +
             num(static_cast<double>(st.sum_micros) / 1e6) + "}";
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
    o += "]" + groups::status_json_member() + "}\n";
    return o;
}

std::string who(const server_figures& f, const std::string& place) {
    return "worker=\"" + place + "\",pid=\"" + std::to_string(f.pid) + "\"";
}

std::string own_place(const server_figures& f) {
    for (const auto& w : f.all.workers) {
        if (w.pid == f.pid) {
            return std::to_string(w.place);
        }
    }
    return "0";
}

std::string render_metrics(const server_figures& f) {
    std::string o;
    std::string py = Py_GetVersion();
    o += "# HELP subhttpd_build_info The versions of subhttpd, the embedded Python and libevent.\n"
         "# TYPE subhttpd_build_info gauge\n"
         "subhttpd_build_info{version=\"" SUBHTTPD_VERSION "\",python=\"" + py.substr(0, py.find(' ')) +
         "\",libevent=\"" + event_get_version() + "\"} 1\n";
    double start = f.all.shared ? static_cast<double>(f.all.supervisor.gauges[metrics::g_started]) : f.started;
    o += "# HELP subhttpd_uptime_seconds Seconds since the server started.\n"
         "# TYPE subhttpd_uptime_seconds gauge\nsubhttpd_uptime_seconds " + num(f.now - start) + "\n";
    o += metrics::render_prometheus(f.all);
    // Interpreters live in each worker process: these are the answering worker's.
    const std::string me = who(f, own_place(f));
    auto per_interp = [&](const char* name, const char* type, const char* help, auto value) {
        o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        for (const auto& in : f.interpreters) {
            if (!in.retired) {
                o += std::string(name) + "{" + me + ",interpreter=\"" + label(in.name) + "\"} " + value(in) + "\n";
            }
        }
    };
    per_interp("subhttpd_interpreter_requests_total", "counter", "Requests run per interpreter, in the answering worker.",
               [](const interp::interp_info& in) { return std::to_string(in.requests); });
    per_interp("subhttpd_interpreter_errors_total", "counter", "Handler errors per interpreter, in the answering worker.",
               [](const interp::interp_info& in) { return std::to_string(in.errors); });
    per_interp("subhttpd_interpreter_modules", "gauge", "Handler modules loaded per interpreter, in the answering worker.",
               [](const interp::interp_info& in) { return std::to_string(in.modules); });
    std::size_t retired = 0;
    for (const auto& in : f.interpreters) {
        retired += in.retired ? 1 : 0;
    }
    o += "# HELP subhttpd_interpreters_retired Interpreters replaced by autoreload = \"app\" and parked, in the "
         "answering worker.\n# TYPE subhttpd_interpreters_retired gauge\nsubhttpd_interpreters_retired{" + me + "} " +
         std::to_string(retired) + "\n";
    o += groups::status_metrics();
    return o;
}

std::string mb(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1048576.0);
    return buf;
}

std::string render_html(const server_figures& f) {
    std::string o =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" +
        (f.refresh > 0 ? "<meta http-equiv=\"refresh\" content=\"" + std::to_string(f.refresh) + "\">" : std::string()) +
        "<title>subhttpd status</title>\n"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}"
        ".bad{color:#b00}</style></head><body>\n<h1>subhttpd status</h1>\n<table id=\"server\">\n";
    auto row = [&](const std::string& k, const std::string& v) {
        o += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>\n";
    };
    double start = f.all.shared ? static_cast<double>(f.all.supervisor.gauges[metrics::g_started]) : f.started;
    row("version", SUBHTTPD_VERSION);
    row("uptime", num(f.now - start) + " s");
    if (f.all.shared) {
        row("supervisor", "pid " + std::to_string(f.all.supervisor.pid) + ", RSS " +
                              mb(f.all.supervisor.gauges[metrics::g_rss_bytes]) + ", " +
                              std::to_string(f.all.workers.size()) + " worker(s), " + std::to_string(f.all.restarts) +
                              " restarted, " + std::to_string(f.all.recycles) + " recycled, " +
                              std::to_string(f.all.stalls) + " stalled");
    }
    row("started", when(f.started));
    row("config generation", std::to_string(f.generation));
    row("sites", std::to_string(f.sites));
    row("requests", f.all.shared ? std::to_string(f.all.totals[metrics::c_requests]) + " by every worker, " +
                                       std::to_string(f.requests) + " by this one"
                                 : std::to_string(f.requests));
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
    o += f.refresh > 0 ? "<p id=\"refresh\">This page refreshes every " + std::to_string(f.refresh) +
                             " s. <a href=\"?refresh=0\">Stop refreshing</a></p>\n"
                       : std::string("<p id=\"refresh\">Not refreshing. <a href=\"?refresh=5\">Refresh every 5 s</a></p>\n");
    o += "<h2>processes</h2>\n<table id=\"workers\">\n<tr><th>worker</th><th>pid</th><th>RSS</th><th>uptime</th>"
         "<th>requests</th><th>in flight</th><th>connections</th><th>config generation</th></tr>\n";
    auto process_row = [&](const metrics::process_view& p) {
        using namespace metrics;
        o += "<tr><td>" + (p.place < 0 ? std::string("supervisor") : std::to_string(p.place)) + "</td><td>" +
             std::to_string(p.pid) + (p.pid == f.pid ? " (answered)" : "") + "</td><td>" + mb(p.gauges[g_rss_bytes]) +
             "</td><td>" + num(f.now - static_cast<double>(p.gauges[g_started])) + " s</td><td>" +
             (p.place < 0 ? std::string() : std::to_string(p.counters[c_requests])) + "</td><td>" +
             (p.place < 0 ? std::string() : std::to_string(p.gauges[g_in_flight])) + "</td><td>" +
             (p.place < 0 ? std::string() : std::to_string(p.gauges[g_connections_open])) + "</td><td>" +
             (p.place < 0 ? std::string() : std::to_string(p.gauges[g_generation])) + "</td></tr>\n";
    };
    if (f.all.shared) {
        process_row(f.all.supervisor);
    }
    for (const auto& p : f.all.workers) {
        process_row(p);
    }
    o += "</table>\n<h2>sites</h2>\n<table id=\"sites\">\n<tr><th>site</th><th>requests</th><th>bytes sent</th>"
         "<th>mean time</th></tr>\n";
    for (const auto& st : f.all.sites) {
        if (st.count == 0) {
            continue;
        }
        o += "<tr><td>" + html_escape(st.name.empty() ? "(none)" : st.name) + "</td><td>" + std::to_string(st.count) +
             "</td><td>" + std::to_string(st.bytes) + "</td><td>" +
             num(static_cast<double>(st.sum_micros) / 1e3 / static_cast<double>(st.count)) + " ms</td></tr>\n";
    }
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
    o += "</table>\n" + groups::status_html() + "</body></html>\n";
    return o;
}

}  // namespace

status_query parse_status_query(std::string_view query) {
    status_query q;
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part == "json") {
            q.json = true;
        } else if (part == "metrics") {
            q.metrics = true;
        } else if (part.rfind("refresh=", 0) == 0) {
            std::string_view n = part.substr(8);
            unsigned v = 0;
            bool ok = !n.empty() && n.size() <= 5;
            for (char c : n) {
                ok = ok && c >= '0' && c <= '9';
                v = v * 10 + static_cast<unsigned>(c - '0');
            }
            if (ok) {
                q.refresh = v;
            }
        }
    }
    return q;
}

server_figures figures_from(const metrics::worker_figures& w) {
    server_figures f;
    f.started = w.started;
    f.generation = w.generation;
    f.requests = w.requests;
    f.open_connections = w.connections_open;
    f.total_connections = w.connections;
    f.in_flight = w.in_flight;
    f.pool_threads = w.pool_threads;
    f.pool_busy = w.pool_busy;
    f.pool_queued = w.pool_queued;
    f.last_reload = w.last_reload;
    f.last_reload_ok = w.last_reload_ok;
    f.recycling = w.recycling;
    f.log_write_failures = w.log_write_failures;
    f.fd_exhausted = w.fd_exhausted;
    f.state_restored = w.state_restored;
    return f;
}

std::string render_status(const server_figures& f, status_format fmt) {
    switch (fmt) {
        case status_format::json: return render_json(f);
        case status_format::metrics: return render_metrics(f);
        case status_format::html: break;
    }
    return render_html(f);
}

}  // namespace subhttpd::reactor

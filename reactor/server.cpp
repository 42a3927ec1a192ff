#include "reactor/server.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "common/clock.h"
#include "common/log.h"
#include "hosts/naming.h"
#include "hosts/route.h"
#include "interp/dispatch.h"
#include "interp/registry.h"
#include "reactor/access_log.h"
#include "reactor/http/clock.h"
#include "reactor/http/connection.h"
#include "reactor/http/exchange.h"
#include "reactor/http/file_cache.h"
#include "reactor/groups.h"
#include "reactor/handoff.h"
#include "reactor/listeners.h"
#include "reactor/metrics.h"
#include "reactor/pool.h"
#include "reactor/route_cache.h"
#include "reactor/status_page.h"
#include "reactor/watcher.h"
#include "reactor/cli/dev.h"
#include "reactor/faults.h"
#include "reactor/process_state.h"
#include "interp/crash_trace.h"

#ifdef SUBHTTPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "reactor/http/static_files.h"

namespace subhttpd::reactor {

struct server::impl {
    server_options opts;
    event_base* base = nullptr;
    std::unique_ptr<http::front> front;
    std::shared_ptr<const conf::config> cfg;
    std::uint64_t generation = 0;
    interp::registry reg;
    std::unique_ptr<loop_executor> exec;
    std::unique_ptr<interp::dispatcher> disp;
    event* stop_timer = nullptr;
    double stop_deadline = 0;
    listener_set listeners;
    std::vector<event*> signal_events;
    bool stopping = false;
    std::uint64_t requests = 0;
    double started = 0;
    route_cache routes;
    http::file_cache files;  // small static files, checked by one stat per use
    std::unique_ptr<config_watcher> watcher;
    std::set<std::pair<std::string, std::string>> imported;  // (interpreter, entry) run once
    double last_reload = 0;
    bool last_reload_ok = true;
    double last_reload_ms = 0;
    std::string last_reload_error;
    process_state pstate;
    event* heartbeat = nullptr;
    std::uint64_t recycle_after = 0;  // max_requests plus this worker's jitter (0: never)
    bool recycle_asked = false;
    std::size_t peak_connections = 0;
    metrics::recorder meter;  // this worker's slot of the shared counters
    std::unique_ptr<handoff_inbox> inbox;  // connections handed over by other processes
    double inbox_until = 0;                // stopping: still read for a moment (hand-offs already sent)

    static void notify(const char* state) {
#ifdef SUBHTTPD_HAVE_SYSTEMD
        sd_notify(0, state);
#else
        (void)state;
#endif
    }

    ~impl() {
        for (event* e : signal_events) {
            event_free(e);
        }
        if (stop_timer != nullptr) {
            event_free(stop_timer);
        }
        if (heartbeat != nullptr) {
            event_free(heartbeat);
        }
        listeners.close_all();
        front.reset();
        if (base != nullptr) {
            event_base_free(base);
        }
    }

    std::vector<conf::listen_addr> listen_addrs(const conf::config& c) const {
        if (!opts.links.group.empty()) {
            return {};  // a process group's process accepts nothing itself
        }
        std::vector<conf::listen_addr> out = reactor::listen_addrs(c, opts.listen_override);
        if (opts.is_worker) {
            // A listener added by a reload is opened by every worker process,
            // beside each other (the ones at start come from the parent).
            for (auto& a : out) {
                a.reuse_port = true;
            }
        }
        return out;
    }

    void apply_limits(const conf::config& c) {
        http::settings hs;
        hs.max_header_bytes = c.limits.max_header_bytes;
        hs.max_body_bytes = c.limits.max_body_bytes;
        hs.read_timeout_ms = static_cast<std::uint64_t>(c.limits.read_timeout.count());
        hs.write_timeout_ms = static_cast<std::uint64_t>(c.limits.write_timeout.count());
        hs.idle_timeout_ms = hs.read_timeout_ms;
        hs.max_connections = c.limits.max_connections;
        front->configure(hs);
        listeners.pause(front->open() >= hs.max_connections);
    }

    // PythonImport entries of every site, each once per interpreter for the
    // life of the process (a reload runs only the new ones).
    void run_imports(const conf::config& c) {
        // [python] main_imports added by a reload: into main_interpreter now
        // (a subinterpreter may already hold such a module: then it fails, logged).
        for (const std::string& m : c.python.main_imports) {
            if (!imported.emplace("", m).second) {
                continue;
            }
            std::string err = reg.import_into_main(m);
            if (!err.empty()) {
                log::write(log::level::error, "import", hosts::main_interpreter_name, "main_imports: import " + m + " failed:\n" + err);
            }
        }
        for (const conf::site& s : c.sites) {
            if (!groups::serves_site_imports(s, opts.links.group)) {
                continue;
            }
            std::string interp_name = hosts::import_interpreter(s);
            for (const std::string& entry : s.imports) {
                if (!imported.emplace(interp_name, entry).second) {
                    continue;
                }
                std::string err = disp->run_import(interp_name, s, entry);
                if (!err.empty()) {
                    log::write(log::level::error, "import", interp_name, "import " + entry + " failed: " + err);
                } else {
                    log::write(log::level::info, "import", interp_name, "imported " + entry);
                }
            }
        }
    }

    // Swaps in a new snapshot: listeners, limits, imports. Old requests keep theirs.
    std::string apply(std::shared_ptr<const conf::config> next) {
        std::string err = listeners.sync(*front, listen_addrs(*next));
        if (!err.empty()) {
            return err;
        }
        cfg = std::move(next);
        ++generation;
        meter.on_config(*cfg);
        apply_limits(*cfg);
        run_imports(*cfg);
        return "";
    }

    void reload(const char* why) {
        if (stopping) {
            return;
        }
        notify("RELOADING=1");
        double t0 = mono_now();
        conf::load_result r = conf::load(opts.config_path);
        std::string err;
        if (!r.ok()) {
            for (const auto& e : r.errors) {
                err += conf::to_string(e) + "\n";
            }
        } else {
            err = apply(dev::with_dev_overrides(r.cfg, opts.dev));
        }
        last_reload = static_cast<double>(time(nullptr));
        last_reload_ms = (mono_now() - t0) * 1000.0;
        last_reload_ok = err.empty();
        last_reload_error = err;
        if (!err.empty()) {
            log::write(log::level::error, "reload", "",
                       std::string("configuration not applied (") + why + "); the previous one keeps serving:\n" + err);
        } else {
            log::writef(log::level::notice, "reload", "configuration generation %llu applied in %.2f ms (%s)",
                        static_cast<unsigned long long>(generation), last_reload_ms, why);
        }
        // Watch what this attempt read, even a broken one, so its fix is seen.
        if (watcher) {
            watcher->watch(r.files, r.watch_dirs);
        }
        meter.reloaded(err.empty());
        ++faults::self().reloads;  // the supervisor tells systemd when every worker is done
        notify("READY=1");
    }

    bool is_status_request(const http::http_exchange& ex) const {
        if (!cfg->server.status) {
            return false;
        }
        std::string_view t = ex.target();
        std::string_view path = t.substr(0, t.find('?'));
        return path == *cfg->server.status;
    }

    void serve_status(http::http_exchange& ex) {
        if (!conf::address_allowed(cfg->server.status_allow, ex.peer().remote_ip)) {
            send_error(ex, 403);
            return;
        }
        metrics::worker_figures w = published();
        server_figures f = figures_from(w);
        f.now = static_cast<double>(time(nullptr));
        f.last_reload_ms = last_reload_ms;
        f.last_reload_error = last_reload_error;
        f.sites = cfg->sites.size();
        f.listeners = listeners.bound();
        f.interpreters = reg.snapshot();
        f.pid = getpid();
        f.worker_requests = faults::self().requests.load();
        f.recycle_after = recycle_after;
        f.rss_bytes = faults::current_rss();
        f.max_rss = cfg->server.max_rss;
        f.peak_connections = peak_connections;
        meter.publish(w, true);
        f.all = meter.read();
        std::string_view t = ex.target();
        status_query q = parse_status_query(t.find('?') == std::string_view::npos ? "" : t.substr(t.find('?') + 1));
        f.refresh = q.refresh;
        std::string_view accept = ex.field("Accept");
        status_format fmt = status_format::html;
        const char* type = "text/html; charset=utf-8";
        if (q.metrics) {
            fmt = status_format::metrics;
            type = "text/plain; version=0.0.4; charset=utf-8";
        } else if (q.json || accept.find("application/json") != std::string::npos) {
            fmt = status_format::json;
            type = "application/json";
        }
        std::string body = render_status(f, fmt);
        ex.write(body.data(), body.size());
        ex.finish(200, "OK", {{"Content-Type", type}, {"Cache-Control", "no-store"}});
    }

    // What this worker publishes to the shared metrics (every tick).
    metrics::worker_figures published() const {
        metrics::worker_figures w;
        w.requests = requests;
        w.connections = front->total();
        w.log_write_failures = log::write_failures();
        w.fd_exhausted = listeners.fd_exhausted();
        w.state_restored = pstate.restored();
        w.in_flight = disp->in_flight();
        w.connections_open = front->open();
        w.pool_threads = cfg->server.pool_threads;
        w.pool_busy = exec->busy();
        w.pool_queued = exec->queued();
        w.generation = generation;
        w.started = started;
        w.last_reload = last_reload;
        w.last_reload_ok = last_reload_ok;
        w.recycling = recycle_asked;
        return w;
    }

    void stop();
    void check_stopped();

    void access_line(const http::http_exchange& ex, int status, const std::string& interp, double t0,
                     const std::string& user = "", std::uint16_t site = metrics::recorder::no_site) {
        meter.finished(site, interp, status, ex.bytes_written(), mono_now() - t0);
        if (!log::access_enabled()) {
            return;
        }
        if (cfg->server.dev) {
            log::access(dev::access_line(ex.method(), ex.target(), status, mono_now() - t0, interp,
                                         dev::colour_wanted()));
            return;
        }
        auto header = [&](const char* name) -> std::string {
            return std::string(ex.field(name));  // "" when absent
        };
        access_fields f;
        f.remote_ip = ex.peer().remote_ip;
        f.user = user;
        f.time = std::chrono::system_clock::now();
        f.method = ex.method();
        f.target = ex.target();
        f.protocol = ex.protocol();
        f.status = status;
        f.bytes = ex.bytes_written();
        f.referer = header("Referer");
        f.user_agent = header("User-Agent");
        f.interpreter = interp;
        f.micros = static_cast<std::int64_t>((mono_now() - t0) * 1e6);
        f.site = meter.site_name(site);
        log::access(format_access_line(f, cfg->server.access_format));
    }

    void handle(std::unique_ptr<http::http_exchange> ex) {
        double t0 = mono_now();
        ++requests;
        if (recycle_after != 0 && requests >= recycle_after && !recycle_asked) {
            tick();  // ask for the replacement now, not at the next beat
        }
        ex->set_started(t0);
        if (ex->asterisk()) {
            // OPTIONS *: the server's own capabilities (RFC 9110 9.3.7).
            ex->finish(200, "OK", {{"Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"}});
            access_line(*ex, 200, "", t0);
            return;
        }
        ex->apply_forwarded(cfg->server.trusted_proxies);
        if (is_status_request(*ex)) {
            serve_status(*ex);
            access_line(*ex, ex->status_sent(), "", t0);
            return;
        }
        hosts::request_line line{ex->host(), ex->method(), ex->target()};
        if (const http::file_cache::entry* f = files.find(generation, line)) {
            int status = serve_file(*ex, f->route->filename, f->facts, &f->body);
            access_line(*ex, status, "", t0, "", f->site);
            return;
        }
        std::shared_ptr<const conf::config> snap = cfg;  // this request keeps its snapshot
        std::shared_ptr<const hosts::route> r = routes.get(*snap, generation, line, t0);
        if (r->process_group != opts.links.group) {
            route_elsewhere(std::move(ex), r->process_group, opts.links);  // reactor/handoff.h
            return;
        }
        bool python = r->output_filter.set;  // a file served through output filters runs them
        for (const auto& pr : r->phases) {
            python = python || pr.set;
        }
        std::uint16_t site = meter.site_id(*snap, r->site);
        if (!python) {
            const http::file_cache::entry* f = files.fill(generation, line, r, site);
            int status = f != nullptr ? serve_file(*ex, r->filename, f->facts, &f->body)
                                      : serve_default(*ex, *r, r->filename, r->path_info);
            access_line(*ex, status, "", t0, "", site);
            return;
        }
        if (!interpreters_can_start(*r)) {
            send_error(*ex, 503, {{"Retry-After", "1"}});
            access_line(*ex, 503, "", t0, "", site);
            return;
        }
        http::http_exchange* raw = ex.get();
        note_current(*ex, *r);
        disp->start(std::move(snap), generation, std::move(r), std::move(ex),
                    [this, raw, site](const interp::outcome& o) {
                        double t0 = raw->started();
                        if (!raw->finished()) {
                            send_error(*raw, 500);
                        }
                        access_line(*raw, o.status != 0 ? o.status : raw->status_sent(), o.interpreter, t0, o.user,
                                    site);
                        pstate.restore_after(o.interpreter);
                        if (stopping) {
                            check_stopped();
                        }
                    });
        faults::clear_current();
    }

    // A new interpreter needs descriptors (CPython opens files while it sets up
    // and can abort the process when it cannot): without enough, 503 instead.
    bool interpreters_can_start(const hosts::route& r) {
        for (const auto& pr : r.phases) {
            if (pr.set && reg.find(pr.interpreter) == nullptr) {
                if (!faults::descriptors_available(32)) {
                    log::write(log::level::error, "interp", pr.interpreter,
                               "not created: too few free file descriptors; answered 503");
                    return false;
                }
                return true;
            }
        }
        return true;
    }

    // What the crash handler and the supervisor's stall report name.
    static void note_current(const http::http_exchange& ex, const hosts::route& r) {
        const hosts::phase_route& c = r.at(conf::phase::content);
        std::initializer_list<std::string_view> line = {ex.method(), " ", ex.target(), " ", ex.protocol()};
        if (!c.wsgi.empty()) {
            faults::set_current(c.interpreter, {"wsgi ", c.wsgi}, line);
        } else if (!c.handlers.empty()) {
            faults::set_current(c.interpreter, {c.handlers.front().module, "::", c.handlers.front().callable}, line);
        } else {
            faults::set_current(c.interpreter, {}, line);
        }
    }

    // Every 100 ms: the supervisor's heartbeat, and the recycling limits.
    void tick() {
        faults::worker_slot& slot = faults::self();
        slot.beat_ms = mono_ms();
        slot.requests = requests;
        if (++ticks % 10 == 0) {
            slot.rss_bytes = faults::current_rss();
            pstate.sweep();  // cwd/umask changed from C, not through os.*
        }
        meter.publish(published(), ticks % 10 == 1);
        if (recycle_asked || stopping) {
            return;
        }
        const char* why = nullptr;
        char text[160];
        if (recycle_after != 0 && requests >= recycle_after) {
            std::snprintf(text, sizeof text, "%llu requests served (max_requests %llu)",
                          static_cast<unsigned long long>(requests), static_cast<unsigned long long>(recycle_after));
            why = text;
        } else if (cfg->server.max_rss != 0 && slot.rss_bytes.load() > cfg->server.max_rss) {
            std::snprintf(text, sizeof text, "RSS %llu MB over max_rss %llu MB",
                          static_cast<unsigned long long>(slot.rss_bytes.load() >> 20),
                          static_cast<unsigned long long>(cfg->server.max_rss >> 20));
            why = text;
        }
        if (why != nullptr) {
            recycle_asked = true;
            slot.recycle = 1;
            log::writef(log::level::notice, "worker", "recycling this worker (pid %d): %s; a fresh one takes over",
                        static_cast<int>(getpid()), why);
        }
    }
    std::uint64_t ticks = 0;
};

void server::impl::stop() {
    if (stopping) {
        return;
    }
    stopping = true;
    log::write(log::level::notice, "server", "", "stopping: no new connections; finishing requests in flight");
    notify("STOPPING=1");
    listeners.close_all();
    inbox_until = mono_now() + 1.0;
    front->stop();
    stop_deadline = mono_now() + static_cast<double>(cfg->server.shutdown_grace.count()) / 1000.0;
    check_stopped();
}

namespace {
void on_heartbeat(evutil_socket_t, short, void* arg) noexcept {
    try {
        static_cast<server::impl*>(arg)->tick();
    } catch (...) {
    }
}

void on_stop_timer(evutil_socket_t, short, void* arg) noexcept {
    static_cast<server::impl*>(arg)->check_stopped();
}
}  // namespace

// Exits the loop once nothing is in flight, or when shutdown_grace has passed.
void server::impl::check_stopped() {
    if (inbox && mono_now() >= inbox_until) {
        inbox.reset();
    }
    bool idle = disp->in_flight() == 0 && front->open() == 0 && !inbox;  // every connection answered and closed
    if (!idle && mono_now() < stop_deadline) {
        if (stop_timer == nullptr) {
            stop_timer = evtimer_new(base, on_stop_timer, this);
        }
        timeval tv{0, 50 * 1000};
        evtimer_add(stop_timer, &tv);
        return;
    }
    if (!idle && disp->in_flight() != 0) {
        log::writef(log::level::warn, "server", "%zu request(s) still running after shutdown_grace",
                    disp->in_flight());
    }
    reg.run_exit_hooks();
    event_base_loopexit(base, nullptr);
}

namespace {

void on_signal(evutil_socket_t sig, short, void* arg) noexcept {
    auto* s = static_cast<server::impl*>(arg);
    try {
        if (sig == SIGHUP) {
            s->reload("SIGHUP");
        } else if (sig == SIGUSR1) {
            std::string err = log::reopen();
            if (!err.empty()) {
                log::write(log::level::error, "server", "", err);
            }
        } else {
            s->stop();
        }
    } catch (...) {
        log::write(log::level::error, "server", "", "signal handling failed");
    }
}

void on_libevent_log(int severity, const char* msg) {
    log::level lv = severity >= EVENT_LOG_ERR ? log::level::error
                    : severity == EVENT_LOG_WARN ? log::level::warn
                                                 : log::level::debug;
    log::write(lv, "libevent", "", msg);
}

}  // namespace

server::server(server_options opts) : impl_(std::make_unique<impl>()) { impl_->opts = std::move(opts); }

server::~server() = default;

std::string server::start() {
    impl& s = *impl_;
    conf::load_result r;
    if (s.opts.initial) {
        r.cfg = s.opts.initial;
    } else {
        r = conf::load(s.opts.config_path);
    }
    if (!r.ok()) {
        std::string all;
        for (const auto& e : r.errors) {
            all += conf::to_string(e) + "\n";
        }
        return all;
    }
    r.cfg = dev::with_dev_overrides(r.cfg, s.opts.dev);
    std::string err = log::open(r.cfg->server.error_log, r.cfg->server.access_log);
    if (!err.empty()) {
        return err;
    }
    if (s.opts.after_logs) {
        err = s.opts.after_logs();  // a process group's account (reactor/groups.h)
        if (!err.empty()) {
            return err;
        }
    }
    event_set_log_callback(on_libevent_log);
    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);
    s.base = event_base_new();
    if (s.base == nullptr) {
        return "cannot create the event loop";
    }
    s.front = std::make_unique<http::front>(s.base, [&s](std::unique_ptr<http::http_exchange> ex) {
        try {
            s.handle(std::move(ex));
        } catch (const std::exception& e) {
            log::write(log::level::error, "server", "", std::string("request failed: ") + e.what());
        }
    });

    interp::runtime_settings rs;
    rs.python_exe = SUBHTTPD_PYTHON_EXE;
    rs.python_dir = s.opts.runtime_dir;  // found by main(): reactor/runtime_path.h
    rs.path = r.cfg->python.path;
    rs.optimize = r.cfg->python.optimize;
    rs.main_imports = r.cfg->python.main_imports;
    for (const std::string& m : rs.main_imports) {
        s.imported.emplace("", m);  // done by the registry before any subinterpreter exists
    }
    err = s.reg.start(rs);
    if (!err.empty()) {
        return err;
    }
    unsigned threads = r.cfg->server.pool_threads;
    s.exec = std::make_unique<loop_executor>(s.base, threads, static_cast<std::size_t>(threads) * 16);
    s.disp = std::make_unique<interp::dispatcher>(s.reg, serve_default, *s.exec);
    s.listeners.inherit(s.opts.inherited_listeners);
    if (s.opts.links.active()) {
        s.inbox = std::make_unique<handoff_inbox>(s.base, s.opts.links.inbox, *s.front);
    }
    s.front->on_change([&s](std::size_t open) {
        s.peak_connections = std::max(s.peak_connections, open);
        if (!s.stopping && s.cfg) {
            s.listeners.pause(open >= s.cfg->limits.max_connections);
        }
    });
    err = s.apply(r.cfg);
    if (!err.empty()) {
        return err;
    }
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) {
        event* e = evsignal_new(s.base, sig, on_signal, &s);
        event_add(e, nullptr);
        s.signal_events.push_back(e);
    }
    s.started = static_cast<double>(time(nullptr));
    // Faults: the crash report, the supervisor's heartbeat, recycling, and the
    // process-wide state kept for every interpreter.
    faults::install_crash_handler(&interp::dump_python_stack);
    signal(SIGUSR2, SIG_IGN);  // the supervisor's signal (binary upgrade)
    signal(SIGXFSZ, SIG_IGN);  // a log over RLIMIT_FSIZE fails a write, counted
    s.pstate.capture();
    if (s.cfg->server.max_requests != 0) {
        std::uint64_t jitter = s.cfg->server.max_requests_jitter;
        s.recycle_after = s.cfg->server.max_requests +
                          (jitter == 0 ? 0 : static_cast<std::uint64_t>(getpid()) % (jitter + 1));
    }
    s.heartbeat = event_new(s.base, -1, EV_PERSIST, on_heartbeat, &s);
    timeval beat{0, 100 * 1000};
    event_add(s.heartbeat, &beat);
    s.tick();
    if (r.cfg->server.reload == conf::reload_mode::watch) {
        s.watcher = std::make_unique<config_watcher>(s.base, 100, [&s] { s.reload("file change"); });
        std::string werr = s.watcher->watch(r.cfg->files, r.cfg->watch_dirs);
        if (!werr.empty()) {
            log::write(log::level::warn, "watch", "", werr + "; reload on SIGHUP only");
        }
    }
    for (const auto& l : s.listeners.bound()) {
        log::write(log::level::notice, "server", "", "listening on " + l);
    }
    if (s.cfg->server.dev && s.opts.links.group.empty()) {  // one banner, from the workers
        std::string b = dev::banner(*s.cfg, s.listen_addrs(*s.cfg));
        std::fwrite(b.data(), 1, b.size(), stderr);
        std::fflush(stderr);
    }
    impl::notify("READY=1");
    return "";
}

int server::run() {
    impl& s = *impl_;
    event_base_dispatch(s.base);
    log::write(log::level::notice, "server", "", "stopped");
    // Pool threads still inside a handler cannot be joined, and ending
    // subinterpreters can hang (CPython issue 122517): leave without finalising.
    std::fflush(nullptr);
    std::_Exit(0);
}

}  // namespace subhttpd::reactor

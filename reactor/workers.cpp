#include "reactor/workers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "conf/config.h"
#include "reactor/faults.h"
#include "reactor/groups.h"
#include "reactor/listeners.h"
#include "reactor/metrics.h"

#ifdef SUBHTTPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace subhttpd::reactor {
namespace {

constexpr const char* listen_fds_env = "SUBHTTPD_LISTEN_FDS";      // "fd text\n" per inherited listener
constexpr const char* upgrade_ready_env = "SUBHTTPD_UPGRADE_READY_FD";  // the old supervisor waits on it

struct child {
    pid_t pid = 0;
    unsigned pos = 0;                 // which of the `workers` places it fills
    faults::worker_slot* slot = nullptr;
    double started = 0;
    bool retiring = false;            // replaced (recycled or stalled): no restart when it ends
    double term_at = 0;               // SIGTERM sent
    double abort_at = 0;              // stalled: SIGABRT sent
    bool killed = false;              // SIGKILL sent
};

struct place {
    int restarts = 0;
    double restart_at = 0;
};

int upgrade_ready_fd = -1;  // a supervisor started by SIGUSR2: written once its workers serve

pid_t spawn(const server_options& opts, unsigned index, faults::worker_slot* slot) {
    faults::reset(*slot);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0) {
            slot->pid = pid;
        }
        return pid;
    }
    // The worker ends with its supervisor, whatever ended that.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        std::_Exit(0);
    }
    if (upgrade_ready_fd >= 0) {
        ::close(upgrade_ready_fd);
    }
    // The signals the server handles stay blocked (as the supervisor had them)
    // until start() has installed its handlers: a SIGHUP or SIGTERM sent while
    // the worker starts waits for them instead of killing it.
    sigset_t handled;
    sigemptyset(&handled);
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) {
        sigaddset(&handled, sig);
    }
    sigset_t others;
    sigfillset(&others);
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) {
        sigdelset(&others, sig);
    }
    sigprocmask(SIG_BLOCK, &handled, nullptr);
    sigprocmask(SIG_UNBLOCK, &others, nullptr);
    unsetenv("NOTIFY_SOCKET");  // only the supervisor speaks to systemd
    faults::attach(slot);
    server_options o = opts;
    o.is_worker = true;
    server srv(o);
    std::string err = srv.start();
    if (!err.empty()) {
        log::writef(log::level::crit, "worker", "worker %u cannot start: %s", index, err.c_str());
        std::_Exit(3);
    }
    sigprocmask(SIG_UNBLOCK, &handled, nullptr);
    std::_Exit(srv.run());
}

void notify(const char* s) {
#ifdef SUBHTTPD_HAVE_SYSTEMD
    sd_notify(0, s);
#else
    (void)s;
#endif
}

std::string self_exe() {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return "";
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

// Listeners handed down by the supervisor this one replaces (SIGUSR2).
std::map<std::string, int> take_inherited() {
    std::map<std::string, int> out;
    const char* v = getenv(listen_fds_env);
    if (v == nullptr) {
        return out;
    }
    std::string text = v;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t nl = text.find('\n', at);
        std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
        at = nl == std::string::npos ? text.size() : nl + 1;
        std::size_t sp = line.find(' ');
        if (sp == std::string::npos) {
            continue;
        }
        int fd = std::atoi(line.substr(0, sp).c_str());
        if (fd > 2 && fcntl(fd, F_GETFD) >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            out[line.substr(sp + 1)] = fd;
        }
    }
    unsetenv(listen_fds_env);
    if (const char* r = getenv(upgrade_ready_env)) {
        int fd = std::atoi(r);
        if (fd > 2 && fcntl(fd, F_GETFD) >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            upgrade_ready_fd = fd;
        }
        unsetenv(upgrade_ready_env);
    }
    return out;
}

// SIGUSR2: starts the binary (possibly a new one at the same path) with the
// listening sockets; returns its pid and the pipe it says "ready" on, or -1.
pid_t start_upgrade(const std::string& exe, const std::vector<std::string>& argv,
                    const std::map<std::string, int>& listeners, int& ready_read) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        return -1;
    }
    std::string fds;
    for (const auto& [text, fd] : listeners) {
        fds += std::to_string(fd) + " " + text + "\n";
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (const auto& [text, fd] : listeners) {
            fcntl(fd, F_SETFD, 0);
        }
        fcntl(p[1], F_SETFD, 0);
        setenv(listen_fds_env, fds.c_str(), 1);
        setenv(upgrade_ready_env, std::to_string(p[1]).c_str(), 1);
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, nullptr);
        std::vector<char*> av;
        for (const auto& a : argv) {
            av.push_back(const_cast<char*>(a.c_str()));
        }
        av.push_back(nullptr);
        execv(exe.c_str(), av.data());
        log::writef(log::level::crit, "workers", "upgrade: cannot execute %s: %s", exe.c_str(), std::strerror(errno));
        std::_Exit(127);
    }
    ::close(p[1]);
    if (pid < 0) {
        ::close(p[0]);
        return -1;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ready_read = p[0];
    return pid;
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        return std::string("killed by ") + faults::signal_name(sig) + " (" + strsignal(sig) + ")" +
               (WCOREDUMP(status) ? ", core dumped" : "");
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int run_workers(server_options opts, unsigned workers) {
    // Blocked before the ports are bound: a client may connect, and a signal
    // may come, from then on; the loop below takes them with sigtimedwait.
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2}) {
        sigaddset(&set, s);
    }
    sigprocmask(SIG_BLOCK, &set, nullptr);
    std::string exe = self_exe();
    std::map<std::string, int> handed = take_inherited();
    const std::shared_ptr<const conf::config> snapshot = opts.initial;  // loaded once, by main()
    std::string err = log::open(snapshot->server.error_log, snapshot->server.access_log);
    if (!err.empty()) {
        log::write(log::level::crit, "workers", "", err);
        return 1;
    }
    groups::plan group_plan;  // [[process_group]] processes fill the places after the workers'
    err = group_plan.prepare(*snapshot);
    if (!err.empty()) {
        log::write(log::level::crit, "workers", "", err);
        return 1;
    }
    opts.links = group_plan.worker_links();
    const unsigned all_places = workers + static_cast<unsigned>(group_plan.process_count());
    std::vector<conf::listen_addr> addrs = listen_addrs(*snapshot, opts.listen_override);
    const std::map<std::string, int> from_systemd = opts.inherited_listeners;  // systemd owns their files
    for (const auto& a : addrs) {
        if (opts.inherited_listeners.count(a.text) != 0) {
            continue;  // passed by systemd (socket activation)
        }
        int fd = -1;
        auto h = handed.find(a.text);
        if (h != handed.end()) {
            fd = h->second;  // the same socket as the supervisor this one replaces
            handed.erase(h);
        } else {
            fd = open_listener(a, err);
        }
        if (fd < 0) {
            log::write(log::level::crit, "workers", "", err);
            return 1;
        }
        opts.inherited_listeners[a.text] = fd;
    }
    for (const auto& [text, fd] : handed) {
        ::close(fd);  // no longer configured
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);

    const conf::config& cfg = *snapshot;
    double stall = static_cast<double>(conf::effective_stall_timeout(cfg).count()) / 1000.0;
    std::size_t slot_count = static_cast<std::size_t>(all_places) * 3 + 2;
    faults::worker_slot* slots = faults::map_slots(slot_count);
    if (slots == nullptr) {
        log::write(log::level::crit, "workers", "", "cannot map the workers' shared memory");
        return 1;
    }
    if (!metrics::map_shared(slot_count)) {
        log::write(log::level::warn, "workers", "", "cannot map the shared metrics: each worker reports only itself");
    }
    std::vector<child> children;
    std::vector<place> places(all_places);
    auto free_slot = [&]() -> faults::worker_slot* {
        for (std::size_t i = 0; i < slot_count; ++i) {
            bool used = false;
            for (const auto& c : children) {
                used = used || c.slot == &slots[i];
            }
            if (!used) {
                return &slots[i];
            }
        }
        return nullptr;
    };
    auto start_child = [&](unsigned pos) -> child* {
        faults::worker_slot* slot = free_slot();
        if (slot == nullptr) {
            return nullptr;
        }
        metrics::assign(static_cast<std::size_t>(slot - slots), pos);
        pid_t pid = pos < workers ? spawn(opts, pos, slot) : spawn(group_plan.options_for(opts, pos - workers), pos, slot);
        if (pid > 0 && pos >= workers) {
            group_plan.started(pos - workers, pid, slot);
        }
        if (pid < 0) {
            log::writef(log::level::error, "workers", "cannot fork a worker: %s", std::strerror(errno));
            places[pos].restart_at = mono_now() + 1;
            return nullptr;
        }
        children.push_back(child{pid, pos, slot, mono_now()});
        return &children.back();
    };
    auto serving = [&](unsigned pos) {
        for (const auto& c : children) {
            if (c.pos == pos && !c.retiring) {
                return true;
            }
        }
        return false;
    };
    // A child at `pos` that is not retiring and has beaten once: it serves requests.
    auto answering = [&](unsigned pos) {
        for (const auto& c : children) {
            if (c.pos == pos && !c.retiring && c.slot->beat_ms.load() != 0) {
                return true;
            }
        }
        return false;
    };
    auto all_answering = [&]() {
        for (unsigned pos = 0; pos < places.size(); ++pos) {
            if (!answering(pos)) {
                return false;
            }
        }
        return true;
    };
    for (unsigned i = 0; i < all_places; ++i) {
        start_child(i);  // workers, then the process groups' processes: all on main()'s snapshot
    }
    opts.initial.reset();  // a process started later reads the file, which may have changed since
    log::writef(log::level::notice, "workers", "supervisor %d: %u worker process%s started", static_cast<int>(getpid()),
                workers, workers == 1 ? "" : "es");
    // systemd: READY once every worker serves; after SIGHUP, RELOADING until
    // every worker has finished its reload (at most 10 s).
    bool ready_sent = false;
    double reload_deadline = 0;
    std::map<pid_t, std::uint32_t> reloads_before;

    bool stopping = false;
    bool upgraded = false;  // a new supervisor took the sockets over: leave unix socket files alone
    double stop_deadline = 0;
    double grace = static_cast<double>(cfg.server.shutdown_grace.count()) / 1000.0 + 5.0;
    pid_t upgrade_pid = 0;
    int upgrade_read = -1;
    bool ever_served = false;
    bool start_failed = false;
    auto forward = [&](int s) {
        for (auto& c : children) {
            kill(c.pid, s);
        }
    };
    auto begin_stop = [&](const char* why) {
        stopping = true;
        stop_deadline = mono_now() + grace;
        notify("STOPPING=1");
        log::writef(log::level::notice, "workers", "stopping the worker processes (%s)", why);
        forward(SIGTERM);
    };
    for (;;) {
        timespec wait{0, 50 * 1000 * 1000};
        int sig = sigtimedwait(&set, nullptr, &wait);
        if (sig == SIGHUP || sig == SIGUSR1) {
            if (sig == SIGUSR1) {
                log::reopen();
            } else {
                reloads_before.clear();
                for (const auto& c : children) {
                    reloads_before[c.pid] = c.slot->reloads.load();
                }
                reload_deadline = mono_now() + 10;
                notify("RELOADING=1");
            }
            forward(sig);
        } else if ((sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) && !stopping) {
            begin_stop(faults::signal_name(sig));
        } else if (sig == SIGUSR2 && !stopping) {
            if (upgrade_pid != 0) {
                log::write(log::level::warn, "workers", "", "SIGUSR2: an upgrade is already under way");
            } else if (exe.empty() || opts.argv.empty()) {
                log::write(log::level::error, "workers", "", "SIGUSR2: the binary's path is unknown; no upgrade");
            } else {
                upgrade_pid = start_upgrade(exe, opts.argv, opts.inherited_listeners, upgrade_read);
                if (upgrade_pid < 0) {
                    upgrade_pid = 0;
                    log::writef(log::level::error, "workers", "SIGUSR2: cannot start %s: %s", exe.c_str(),
                                std::strerror(errno));
                } else {
                    log::writef(log::level::notice, "workers",
                                "SIGUSR2: upgrading: started %s as supervisor %d with the listening sockets",
                                exe.c_str(), static_cast<int>(upgrade_pid));
                }
            }
        }
        if (upgrade_read >= 0) {
            char c = 0;
            ssize_t n = ::read(upgrade_read, &c, 1);
            if (n == 1 || n == 0) {
                ::close(upgrade_read);
                upgrade_read = -1;
                if (n == 1 && !stopping) {
                    log::writef(log::level::notice, "workers",
                                "upgrade: supervisor %d serves now; this one finishes its requests and exits",
                                static_cast<int>(upgrade_pid));
                    upgraded = true;
                    begin_stop("upgraded");
                } else if (n == 0) {
                    log::write(log::level::error, "workers", "", "upgrade failed: the new binary did not start; serving on");
                    upgrade_pid = 0;
                }
            }
        }
        metrics::supervisor_tick();  // after the signals: forwarding them comes first
        // Reap every child that ended.
        for (;;) {
            int status = 0;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0) {
                break;
            }
            if (pid == upgrade_pid && !upgraded) {
                log::writef(log::level::error, "workers", "upgrade failed: supervisor %d %s; serving on",
                            static_cast<int>(pid), describe(status).c_str());
                upgrade_pid = 0;
                continue;
            }
            auto it = std::find_if(children.begin(), children.end(), [pid](const child& c) { return c.pid == pid; });
            if (it == children.end()) {
                continue;
            }
            child c = *it;
            if (c.pos >= workers) {
                group_plan.ended(c.pos - workers, pid, describe(status));
            }
            bool beat = c.slot->beat_ms.load() != 0;
            ever_served = ever_served || beat;
            faults::reset(*c.slot);
            metrics::worker_ended(static_cast<std::size_t>(c.slot - slots),
                                  stopping ? metrics::ending::stopped
                                  : c.abort_at != 0 ? metrics::ending::stalled
                                  : c.retiring ? metrics::ending::recycled : metrics::ending::crashed);
            children.erase(it);
            bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (stopping || (c.retiring && clean)) {
                log::writef(log::level::info, "workers", "worker %d %s", static_cast<int>(pid), describe(status).c_str());
                continue;
            }
            if (!ever_served && !beat && WIFEXITED(status) && WEXITSTATUS(status) == 3) {
                // The first worker could not start (its error is logged): a configuration
                // or installation problem that restarting will not fix.
                start_failed = true;
                begin_stop("a worker could not start");
                continue;
            }
            if (c.retiring) {
                log::writef(log::level::error, "workers", "worker %d %s (already replaced)", static_cast<int>(pid),
                            describe(status).c_str());
                continue;
            }
            // A worker that served is replaced at once (crash-only: one bad request
            // must not keep the site down); one that dies before serving backs off:
            // 0.1 s, then 1 s, 2 s, 4 s ... at most 30 s.
            place& pl = places[c.pos];
            pl.restarts = beat ? 0 : pl.restarts + 1;
            double delay = pl.restarts <= 1 ? 0.1 : std::min(30.0, 0.5 * (1 << std::min(pl.restarts - 1, 6)));
            pl.restart_at = mono_now() + delay;
            log::writef(log::level::error, "workers", "%s %s;%s restarting in %.1f s",
                        (c.pos < workers ? "worker " + std::to_string(pid) : group_plan.label(c.pos - workers, pid)).c_str(),
                        describe(status).c_str(), c.pos < workers ? "" : " its connections are lost;", delay);
        }
        if (stopping) {
            if (children.empty()) {
                break;
            }
            if (mono_now() > stop_deadline) {
                log::write(log::level::warn, "workers", "", "workers still running after the grace period: killing");
                forward(SIGKILL);
                stop_deadline = mono_now() + 5;
            }
            continue;
        }
        double now = mono_now();
        std::uint64_t now_ms = mono_ms();
        for (std::size_t i = 0; i < children.size(); ++i) {
            child& c = children[i];
            std::uint64_t beat = c.slot->beat_ms.load();
            // A loop that stopped beating: report what it runs, dump its stacks
            // (SIGABRT, caught by its crash handler), then SIGKILL; a fresh worker
            // takes its place at once.
            if (stall > 0 && beat != 0 && c.abort_at == 0 &&
                static_cast<double>(now_ms - std::min(now_ms, beat)) / 1000.0 > stall) {
                bool busy = c.slot->busy.load() != 0;
                log::writef(log::level::crit, "workers",
                            "worker %d stalled: its loop has not run for %.1f s (stall_timeout %.1f s)%s%s%s%s%s%s%s; "
                            "dumping its stacks (SIGABRT) and replacing it",
                            static_cast<int>(c.pid), static_cast<double>(now_ms - beat) / 1000.0, stall,
                            busy ? " in interpreter '" : "", busy ? c.slot->interp : "",
                            busy ? "' handler '" : "", busy ? c.slot->handler : "", busy ? "' for \"" : "",
                            busy ? c.slot->request : "", busy ? "\"" : "");
                c.abort_at = now;
                c.retiring = true;
                kill(c.pid, SIGABRT);
                unsigned pos = c.pos;
                if (!serving(pos)) {
                    start_child(pos);  // may move `children`: `c` is not used after this
                }
                continue;
            }
            if (c.abort_at != 0 && !c.killed && now - c.abort_at > 3.0) {
                c.killed = true;
                kill(c.pid, SIGKILL);
            }
        }
        // Recycling: start the replacement first; stop the old worker once the new one serves.
        for (std::size_t i = 0; i < children.size(); ++i) {
            if (children[i].slot->recycle.load() != 0 && !children[i].retiring) {
                children[i].retiring = true;
                unsigned pos = children[i].pos;
                log::writef(log::level::notice, "workers", "worker %d asks to be recycled; starting its replacement",
                            static_cast<int>(children[i].pid));
                start_child(pos);
            }
        }
        for (auto& c : children) {
            if (!c.retiring || c.term_at != 0 || c.abort_at != 0) {
                continue;
            }
            if (answering(c.pos)) {
                c.term_at = now;
                kill(c.pid, SIGTERM);
            }
        }
        for (unsigned pos = 0; pos < places.size(); ++pos) {
            if (!serving(pos) && now >= places[pos].restart_at) {
                start_child(pos);
            }
        }
        if (reload_deadline != 0) {
            bool done = true;
            for (const auto& c : children) {
                auto b = reloads_before.find(c.pid);
                done = done && (b == reloads_before.end() || c.slot->reloads.load() > b->second);
            }
            if (done || now >= reload_deadline) {
                reload_deadline = 0;
                notify("READY=1");
            }
        }
        if (!ready_sent) {
            if (all_answering()) {
                ready_sent = true;
                notify("READY=1");
            }
        }
        if (upgrade_ready_fd >= 0) {
            if (all_answering()) {
                char ok = 'R';
                ssize_t ignored = ::write(upgrade_ready_fd, &ok, 1);
                (void)ignored;
                ::close(upgrade_ready_fd);
                upgrade_ready_fd = -1;
                log::writef(log::level::notice, "workers", "upgrade: supervisor %d serving", static_cast<int>(getpid()));
                std::string main_pid = "MAINPID=" + std::to_string(getpid());
                notify(main_pid.c_str());  // accepted with NotifyAccess=all (samples/subhttpd.service)
            }
        }
    }
    if (!upgraded) {
        for (const auto& a : addrs) {
            if (a.type == conf::listen_addr::kind::unix_socket && !from_systemd.count(a.text)) {
                ::unlink(a.path.c_str());
            }
        }
    }
    log::write(log::level::notice, "workers", "", "stopped");
    return start_failed ? 1 : 0;
}

}  // namespace subhttpd::reactor

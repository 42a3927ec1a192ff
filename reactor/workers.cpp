#include "reactor/workers.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "common/log.h"
#include "conf/config.h"
#include "reactor/listeners.h"

#ifdef SUBHTTPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace subhttpd::reactor {
namespace {

struct slot {
    pid_t pid = 0;
    int restarts = 0;
    double started = 0;
    double restart_at = 0;  // when a dead worker is due to be made again
};

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

pid_t spawn(const server_options& opts, unsigned index) {
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    // The worker: default signal handling, then a reactor of its own.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    unsetenv("NOTIFY_SOCKET");  // only the parent speaks to systemd
    server_options o = opts;
    o.is_worker = true;
    server srv(o);
    std::string err = srv.start();
    if (!err.empty()) {
        log::writef(log::level::crit, "worker", "worker %u cannot start: %s", index, err.c_str());
        std::_Exit(3);
    }
    std::_Exit(srv.run());
}

void notify(const char* s) {
#ifdef SUBHTTPD_HAVE_SYSTEMD
    sd_notify(0, s);
#else
    (void)s;
#endif
}

}  // namespace

int run_workers(server_options opts, unsigned workers) {
    conf::load_result r = conf::load(opts.config_path);
    if (!r.ok()) {
        for (const auto& e : r.errors) {
            log::write(log::level::crit, "workers", "", conf::to_string(e));
        }
        return 1;
    }
    std::string err = log::open(r.cfg->server.error_log, r.cfg->server.access_log);
    if (!err.empty()) {
        log::write(log::level::crit, "workers", "", err);
        return 1;
    }
    std::vector<conf::listen_addr> addrs = r.cfg->server.listen;
    if (!opts.listen_override.empty()) {
        addrs.clear();
        for (const auto& t : opts.listen_override) {
            if (auto a = conf::parse_listen(t)) {
                a->reuse_port = r.cfg->server.reuse_port;
                addrs.push_back(*a);
            }
        }
    }
    const std::map<std::string, int> from_systemd = opts.inherited_listeners;  // systemd owns their files
    for (const auto& a : addrs) {
        if (opts.inherited_listeners.count(a.text) != 0) {
            continue;  // passed by systemd (socket activation)
        }
        int fd = open_listener(a, err);
        if (fd < 0) {
            log::write(log::level::crit, "workers", "", err);
            return 1;
        }
        // Inherited by the workers: not close-on-exec matters only for exec; fork keeps it.
        opts.inherited_listeners[a.text] = fd;
    }
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1}) {
        sigaddset(&set, s);
    }
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    std::vector<slot> slots(workers);
    for (unsigned i = 0; i < workers; ++i) {
        slots[i].pid = spawn(opts, i);
        slots[i].started = now_s();
    }
    log::writef(log::level::notice, "workers", "%u worker processes started", workers);
    notify("READY=1");

    bool stopping = false;
    double stop_deadline = 0;
    double grace = static_cast<double>(r.cfg->server.shutdown_grace.count()) / 1000.0 + 5.0;
    for (;;) {
        timespec wait{0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, nullptr, &wait);
        auto forward = [&](int s) {
            for (auto& sl : slots) {
                if (sl.pid > 0) {
                    kill(sl.pid, s);
                }
            }
        };
        if (sig == SIGHUP || sig == SIGUSR1) {
            if (sig == SIGUSR1) {
                log::reopen();
            }
            forward(sig);
        } else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
            stopping = true;
            stop_deadline = now_s() + grace;
            notify("STOPPING=1");
            log::write(log::level::notice, "workers", "", "stopping the worker processes");
            forward(SIGTERM);
        }
        // Reap every worker that ended.
        for (;;) {
            int status = 0;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0) {
                break;
            }
            for (auto& sl : slots) {
                if (sl.pid != pid) {
                    continue;
                }
                sl.pid = 0;
                if (!stopping) {
                    // Quick deaths back off: 1 s, 2 s, 4 s ... at most 30 s.
                    bool quick = now_s() - sl.started < 10;
                    sl.restarts = quick ? sl.restarts + 1 : 0;
                    double delay = sl.restarts == 0 ? 0.1 : std::min(30.0, 0.5 * (1 << std::min(sl.restarts, 6)));
                    sl.restart_at = now_s() + delay;
                    log::writef(log::level::error, "workers", "worker %d ended (%s %d); restarting in %.1f s", pid,
                                WIFSIGNALED(status) ? "signal" : "status",
                                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), delay);
                }
            }
        }
        if (stopping) {
            bool alive = false;
            for (auto& sl : slots) {
                alive = alive || sl.pid > 0;
            }
            if (!alive) {
                break;
            }
            if (now_s() > stop_deadline) {
                log::write(log::level::warn, "workers", "", "workers still running after the grace period: killing");
                forward(SIGKILL);
                stop_deadline = now_s() + 5;
            }
            continue;
        }
        for (unsigned i = 0; i < slots.size(); ++i) {
            slot& sl = slots[i];
            if (sl.pid == 0 && now_s() >= sl.restart_at) {
                sl.pid = spawn(opts, i);
                sl.started = now_s();
            }
        }
    }
    for (const auto& a : addrs) {
        if (a.type == conf::listen_addr::kind::unix_socket && !from_systemd.count(a.text)) {
            ::unlink(a.path.c_str());
        }
    }
    log::write(log::level::notice, "workers", "", "stopped");
    return 0;
}

}  // namespace subhttpd::reactor

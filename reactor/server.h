#pragma once
// server: one reactor process. It owns the libevent loop, the HTTP front end,
// the listeners, the current config snapshot, the interpreter registry and the
// dispatcher. A request is routed (hosts), run (interp) and answered on the loop
// thread; the snapshot it started with stays alive until it is answered.
// Signals: SIGHUP reload, SIGTERM/SIGINT graceful stop, SIGUSR1 reopen logs.
// Construct, start() and run() from one thread: the loop thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "reactor/handoff.h"

namespace subhttpd::reactor {

struct server_options {
    std::string config_path;
    // The snapshot main() loaded: the one start() serves, so the process serves
    // what worker mode was decided on. Null: start() reads config_path itself
    // (a worker started later, after a possible change; a reload always does).
    std::shared_ptr<const conf::config> initial;
    std::vector<std::string> listen_override;  // --listen
    bool dev = false;                          // --dev
    std::map<std::string, int> inherited_listeners;  // worker process: bound by the parent
    bool is_worker = false;
    std::string runtime_dir;  // the Python runtime (reactor/runtime_path.h)
    std::vector<std::string> argv;  // the command line, for a binary upgrade (SIGUSR2)
    handoff_links links;            // process groups (reactor/groups.h)
    std::function<std::string()> after_logs;  // run once the logs are open, before Python ("" or an error)
};

class server {
public:
    explicit server(server_options opts);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Takes the config (options.initial, else loads it), starts Python, binds the listeners. "" or an error.
    std::string start();
    // Runs the loop until a stop signal; returns the process exit code.
    int run();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace subhttpd::reactor

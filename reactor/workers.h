#pragma once
// workers: `workers = N` (or "auto"). A small parent, without Python, binds the
// listeners, forks N reactor processes that inherit them (each initialises
// Python after the fork), restarts a worker that dies (with backoff), and
// forwards SIGHUP/SIGUSR1/SIGTERM/SIGINT. It stops once every worker has exited.
// It always runs, also for one worker: it recycles workers (max_requests,
// max_rss) starting the replacement first, replaces a stalled one
// (stall_timeout), and on SIGUSR2 re-executes the binary with the sockets.
#include "reactor/server.h"

namespace subhttpd::reactor {

// Runs the parent; returns the process exit code.
int run_workers(server_options opts, unsigned workers);

}  // namespace subhttpd::reactor

#pragma once
// dev mode (`run --dev` or `[server] dev = true`): the config overrides it
// implies, the start-up banner and the short access-log line. Pure formatting
// over a config snapshot plus the hosts router; no libevent, no Python.
// with_dev_overrides() never mutates a published snapshot: it returns a copy.
// Loop thread (or any thread: nothing here holds state).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"

namespace subhttpd::reactor::dev {

// `cfg` itself, or (when `forced` or cfg->server.dev) a copy with dev = true,
// python debug and autoreload on (also in every block) and reload = "watch".
std::shared_ptr<const conf::config> with_dev_overrides(std::shared_ptr<const conf::config> cfg, bool forced);

// The start-up banner: per site its URL(s) on `listen`, document root, handler
// blocks (path -> handler/wsgi) and the interpreter name and rule for each.
std::string banner(const conf::config& cfg, const std::vector<conf::listen_addr>& listen);

// Colour only on a terminal, and never with NO_COLOR set (no-color.org).
bool colour_wanted();

// "GET /path 200 1.2ms interp", in the status's colour when `colour`.
std::string access_line(std::string_view method, std::string_view target, int status, double seconds,
                        std::string_view interp, bool colour);

}  // namespace subhttpd::reactor::dev

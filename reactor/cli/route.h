#pragma once
// `subhttpd route -c server.toml URL [--method M] [--json] [--dev]`: explains how
// one request would be served (site, blocks, filename, path_info, handler per
// phase, interpreter name and rule), asking hosts/ exactly as the server does.
// Nothing is served. Main thread.
#include <string>

namespace subhttpd::reactor {

struct route_options {
    std::string config_path;
    std::string url;             // absolute (its host picks the site) or a path
    std::string method = "GET";
    bool json = false;
    bool dev = false;            // as `run --dev` would serve it
};

// An http:// or https:// URL split into its host and its target ("/" when it
// has no path); anything else is a target on no host, given a leading '/'.
void split_url(const std::string& url, std::string& host, std::string& target);

// Prints the explanation on stdout; returns the process exit code (1 when the
// config has errors, printed on stderr).
int explain_route(const route_options& o);

}  // namespace subhttpd::reactor

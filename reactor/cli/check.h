#pragma once
// `subhttpd check -c server.toml [--json]`: loads the main file and every site
// file it names and reports each error as file:line:col: message (or one JSON
// object). Nothing is served or started. Main thread.
#include <string>

namespace subhttpd::reactor {

// Prints the verdict (stdout) and the errors (stderr, or all in the JSON on
// stdout); returns the process exit code: 0 valid, 1 any error.
int check_config(const std::string& config_path, bool json);

}  // namespace subhttpd::reactor

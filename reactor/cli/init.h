#pragma once
// `subhttpd init DIR`: scaffolds a small working project (server.toml, one site
// file with every key explained, htdocs/ with a mod_python handler and a static
// page). It never overwrites: when any file it would write exists, nothing is
// written. Plain filesystem work; no Python, no libevent. Main thread.
#include <cstdint>
#include <string>

namespace subhttpd::reactor {

// What the project holds: a mod_python handler (default), a Flask app
// (--flask) or a Django project (--django); the latter two use Debian's
// python3-flask / python3-django and a [[site.alias]] for their static files.
enum class init_kind { modpython, flask, django };

struct init_options {
    init_kind kind = init_kind::modpython;
    std::string dir;                      // the project folder (made when missing)
    std::string name = "localhost";       // server_name and sites.d/<name>.toml
    std::string listen = "127.0.0.1:8080";
};

// Writes the project; returns the process exit code (0, or 1 with the reason on
// stderr). Prints the files made and the next steps on stdout.
int init_project(const init_options& opts);

}  // namespace subhttpd::reactor

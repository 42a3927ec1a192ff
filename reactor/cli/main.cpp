// subhttpd's command line: the arguments, the help texts and the dispatch to
// run (default, here: it hands over to the workers' supervisor), check
// (check.h), route (route.h), init (init.h), --version, --help.
#include <iostream>
#include <string>
#include <vector>

#include "conf/config.h"
#include "reactor/cli/check.h"
#include "reactor/cli/init.h"
#include "reactor/cli/route.h"
#include "reactor/listeners.h"
#include "reactor/runtime_path.h"
#include "reactor/server.h"
#include "reactor/systemd_sockets.h"
#include "reactor/workers.h"

#include <Python.h>
#include <event2/event.h>
#include <unistd.h>

namespace {

constexpr const char* version_text = "subhttpd " SUBHTTPD_VERSION;

constexpr const char* usage_text =
    "usage:\n"
    "  subhttpd init DIR [--flask|--django] [--name NAME] [--listen ADDR]\n"
    "                                      scaffold a project: server.toml, sites.d/NAME.toml, htdocs/\n"
    "  subhttpd [run] -c server.toml [--listen ADDR]... [--dev] [--runtime DIR]\n"
    "                                      serve (the default command)\n"
    "  subhttpd check -c server.toml [--json]\n"
    "                                      validate every file; print each error as file:line:col: message\n"
    "  subhttpd route -c server.toml URL [--method M] [--json]\n"
    "                                      explain one request: site, blocks, filename, path_info,\n"
    "                                      handler per phase, interpreter name and the rule that chose it\n"
    "  subhttpd --version | --help\n"
    "\n"
    "examples:\n"
    "  subhttpd init mysite && subhttpd run -c mysite/server.toml --dev\n"
    "  subhttpd -c samples/server.toml\n"
    "  subhttpd run -c server.toml --listen 127.0.0.1:9000 --listen unix:/tmp/subhttpd.sock\n"
    "  subhttpd check -c server.toml\n"
    "  subhttpd route -c server.toml http://www.example.com/app/hello.py/extra?x=1\n"
    "\n"
    "\"subhttpd COMMAND --help\" describes one command.\n"
    "signals: SIGHUP reload, SIGTERM/SIGINT/SIGQUIT graceful stop, SIGUSR1 reopen logs,\n"
    "         SIGUSR2 upgrade (re-execute the binary, keeping the listening sockets)\n";

constexpr const char* run_help =
    "usage: subhttpd [run] -c server.toml [--listen ADDR]... [--dev] [--runtime DIR]\n"
    "\n"
    "Serves the sites of server.toml until SIGTERM/SIGINT (graceful stop).\n"
    "\n"
    "options:\n"
    "  -c, --config FILE     the main configuration file (required)\n"
    "  -l, --listen ADDR     listen on ADDR instead of [server] listen; repeatable.\n"
    "                        ADDR is host:port, [v6]:port or unix:/path\n"
    "  --dev                 development mode (as [server] dev = true): debug and autoreload\n"
    "                        on, reload on file change, a banner listing each site's URL,\n"
    "                        document root, handler blocks and interpreter rule, and short\n"
    "                        access lines coloured by status on a terminal (NO_COLOR=1: plain)\n"
    "  --runtime DIR         the Python runtime (subhttpd_runtime, mod_python); default: $SUBHTTPD_RUNTIME,\n"
    "                        else ../share/subhttpd/python beside the binary, else the install prefix\n"
    "\n"
    "examples:\n"
    "  subhttpd -c samples/server.toml\n"
    "  subhttpd run -c server.toml --dev\n"
    "  subhttpd run -c server.toml --listen 127.0.0.1:9000 --listen unix:/tmp/subhttpd.sock\n"
    "\n"
    "signals: SIGHUP reload, SIGTERM/SIGINT/SIGQUIT graceful stop, SIGUSR1 reopen logs,\n"
    "         SIGUSR2 upgrade (re-execute the binary, keeping the listening sockets)\n";

constexpr const char* check_help =
    "usage: subhttpd check -c server.toml [--json]\n"
    "\n"
    "Reads the main file and every site file its globs name and validates them all.\n"
    "Prints each error as file:line:col: message; exits 1 on any error, 0 when valid.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE     the main configuration file (required)\n"
    "  --json                one JSON object on stdout: {\"ok\", \"errors\": [{\"file\", \"line\",\n"
    "                        \"column\", \"message\"}], \"sites\", \"files\"}\n"
    "\n"
    "examples:\n"
    "  subhttpd check -c server.toml\n"
    "  subhttpd check -c server.toml --json | python3 -m json.tool\n";

constexpr const char* route_help =
    "usage: subhttpd route -c server.toml URL [--method M] [--json] [--dev]\n"
    "\n"
    "Explains how one request would be served, without serving it: the site, the\n"
    "blocks merged, filename and path_info, the handler of every phase with the block\n"
    "that set it, the interpreter name and the rule that chose it.\n"
    "URL is absolute (its host picks the site) or a path (the default site).\n"
    "\n"
    "options:\n"
    "  -c, --config FILE     the main configuration file (required)\n"
    "  -m, --method M        the request method (default GET)\n"
    "  --json                the same facts as one JSON object\n"
    "  --dev                 as `run --dev` would serve it (debug and autoreload on)\n"
    "\n"
    "examples:\n"
    "  subhttpd route -c server.toml http://www.example.com/app/hello.py/extra?x=1\n"
    "  subhttpd route -c server.toml /perdir/a/x --method POST\n"
    "  subhttpd route -c server.toml http://localhost/app/ --json\n";

constexpr const char* init_help =
    "usage: subhttpd init DIR [--flask|--django] [--name NAME] [--listen ADDR]\n"
    "\n"
    "Makes a small working project in DIR (created when missing):\n"
    "  DIR/server.toml             the main file, every key commented\n"
    "  DIR/sites.d/NAME.toml       one site, every key commented\n"
    "  DIR/htdocs/index.html       a static page\n"
    "  DIR/htdocs/app/hello.py     a mod_python handler serving /app/...\n"
    "With --flask: DIR/app/ holds a Flask app (factory create_app(), a template,\n"
    "static files served through [[site.alias]]); with --django: DIR/project/ holds\n"
    "a Django project (STATIC_ROOT served through [[site.alias]]). Both use Debian's\n"
    "python3-flask / python3-django; under --dev an edit to any of their modules\n"
    "is served on the next request.\n"
    "Never overwrites: when any of these files exists, nothing is written (exit 1).\n"
    "\n"
    "options:\n"
    "  --name NAME           the site's server_name and file name (default localhost)\n"
    "  -l, --listen ADDR     the address written to server.toml (default 127.0.0.1:8080)\n"
    "\n"
    "examples:\n"
    "  subhttpd init mysite\n"
    "  subhttpd init mysite --name blog.localhost --listen 127.0.0.1:9000\n"
    "  subhttpd init --flask myapp && subhttpd run -c myapp/server.toml --dev\n"
    "  subhttpd run -c mysite/server.toml --dev\n";

const char* help_for(const std::string& command) {
    if (command == "run") {
        return run_help;
    }
    if (command == "check") {
        return check_help;
    }
    if (command == "route") {
        return route_help;
    }
    if (command == "init") {
        return init_help;
    }
    return usage_text;
}

struct args {
    std::string command = "run";
    std::string config;
    std::vector<std::string> listen;
    std::vector<std::string> positional;
    std::string method = "GET";
    std::string name = "localhost";
    std::string runtime;
    bool json = false;
    bool help = false;
    bool dev = false;
    bool flask = false;
    bool django = false;
    std::string error;
};

args parse_args(int argc, char** argv) {
    args a;
    int i = 1;
    if (i < argc && argv[i][0] != '-') {
        a.command = argv[i++];
    }
    for (; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&](const char* name) -> std::string {
            if (i + 1 >= argc) {
                a.error = std::string(name) + " needs a value";
                return "";
            }
            return argv[++i];
        };
        if (s == "-c" || s == "--config") {
            a.config = value("-c");
        } else if (s.rfind("--config=", 0) == 0) {
            a.config = s.substr(9);
        } else if (s == "--listen" || s == "-l") {
            a.listen.push_back(value("--listen"));
        } else if (s.rfind("--listen=", 0) == 0) {
            a.listen.push_back(s.substr(9));
        } else if (s == "--method" || s == "-m") {
            a.method = value("--method");
        } else if (s == "--name") {
            a.name = value("--name");
        } else if (s == "--runtime") {
            a.runtime = value("--runtime");
        } else if (s.rfind("--runtime=", 0) == 0) {
            a.runtime = s.substr(10);
        } else if (s == "--json") {
            a.json = true;
        } else if (s == "--dev") {
            a.dev = true;
        } else if (s == "--flask") {
            a.flask = true;
        } else if (s == "--django") {
            a.django = true;
        } else if (s == "--help" || s == "-h") {
            a.help = true;
        } else if (s == "--version" || s == "-V") {
            a.command = "version";
        } else if (!s.empty() && s[0] == '-') {
            a.error = "unknown option " + s;
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    args a = parse_args(argc, argv);
    if (!a.error.empty()) {
        std::cerr << "subhttpd: " << a.error << "\n\n" << usage_text;
        return 2;
    }
    if (a.help || a.command == "help") {
        // "subhttpd --help", "subhttpd route --help", "subhttpd help route"
        std::string topic = a.command == "help" ? (a.positional.empty() ? "" : a.positional[0]) : a.command;
        bool explicit_run = argc > 1 && std::string(argv[1]) == "run";
        if (topic == "run" && !explicit_run && a.command != "help") {
            topic.clear();  // "subhttpd --help": the overview
        }
        std::cout << help_for(topic);
        return 0;
    }
    if (a.command == "version") {
        // Py_GetVersion is safe before Py_Initialize: "3.11.2 (main, ...) [GCC ...]".
        std::string py = Py_GetVersion();
        std::cout << version_text << "\nPython " << py.substr(0, py.find(' ')) << " (embedded)\nlibevent "
                  << event_get_version() << "\n";
        return 0;
    }
    if (a.command == "init") {
        if (a.positional.size() != 1) {
            std::cerr << "subhttpd init: one folder is required\n\n" << init_help;
            return 2;
        }
        if (a.flask && a.django) {
            std::cerr << "subhttpd init: --flask and --django exclude each other\n";
            return 2;
        }
        subhttpd::reactor::init_options io;
        io.dir = a.positional[0];
        io.kind = a.flask    ? subhttpd::reactor::init_kind::flask
                  : a.django ? subhttpd::reactor::init_kind::django
                             : subhttpd::reactor::init_kind::modpython;
        io.name = a.name;
        if (!a.listen.empty()) {
            if (!subhttpd::conf::parse_listen(a.listen[0])) {
                std::cerr << "subhttpd init: --listen " << a.listen[0] << ": expected host:port, [v6]:port or unix:/path\n";
                return 2;
            }
            io.listen = a.listen[0];
        }
        return subhttpd::reactor::init_project(io);
    }
    if (a.command != "run" && a.command != "check" && a.command != "route") {
        std::cerr << "subhttpd: unknown command '" << a.command << "'\n\n" << usage_text;
        return 2;
    }
    if (a.config.empty()) {
        std::cerr << "subhttpd " << a.command << ": -c server.toml is required\n\n" << help_for(a.command);
        return 2;
    }
    if (a.command == "check") {
        return subhttpd::reactor::check_config(a.config, a.json);
    }
    if (a.command == "route") {
        if (a.positional.empty()) {
            std::cerr << "subhttpd route: a URL is required (e.g. http://www.example.com/app/)\n";
            return 2;
        }
        subhttpd::reactor::route_options ro;
        ro.config_path = a.config;
        ro.url = a.positional[0];
        ro.method = a.method;
        ro.json = a.json;
        ro.dev = a.dev;
        return subhttpd::reactor::explain_route(ro);
    }
    for (const auto& l : a.listen) {
        if (!subhttpd::conf::parse_listen(l)) {
            std::cerr << "subhttpd: --listen " << l << ": expected host:port, [v6]:port or unix:/path\n";
            return 2;
        }
    }
    subhttpd::reactor::server_options opts;
    opts.config_path = a.config;
    opts.listen_override = a.listen;
    opts.dev = a.dev;
    subhttpd::reactor::runtime_result rt = subhttpd::reactor::find_runtime(
        subhttpd::reactor::process_runtime_search(a.runtime), subhttpd::reactor::is_runtime_dir);
    if (rt.dir.empty()) {
        std::cerr << "subhttpd: " << rt.error << "\n";
        return 1;
    }
    opts.runtime_dir = rt.dir;
    opts.argv.assign(argv, argv + argc);
    // The one read of the config for this start: worker mode, the listeners and
    // what the workers serve all come from this snapshot.
    subhttpd::conf::load_result lr = subhttpd::conf::load(a.config);
    if (!lr.ok()) {
        std::string all;
        for (const auto& e : lr.errors) {
            all += subhttpd::conf::to_string(e) + "\n";
        }
        std::cerr << "subhttpd: " << all;
        return 1;
    }
    opts.initial = lr.cfg;
    // Socket activation: what systemd passed, matched to the listen addresses.
    opts.inherited_listeners =
        subhttpd::reactor::systemd_listeners(subhttpd::reactor::listen_addrs(*lr.cfg, a.listen));
    // A supervisor that binds and forks, also for one worker; the reactor runs in the workers.
    unsigned n = lr.cfg->server.workers;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? static_cast<unsigned>(cores) : 1;
    }
    return subhttpd::reactor::run_workers(opts, n);
}

// `subhttpd init`: the templates and the no-overwrite scaffolding.
#include "reactor/cli/init.h"

#include "reactor/cli/init_templates.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <iostream>
#include <string_view>
#include <system_error>
#include <vector>

namespace subhttpd::reactor {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view server_template = R"(# subhttpd main configuration, made by `subhttpd init`.
# Check it:  subhttpd check -c server.toml
# Serve it:  subhttpd run -c server.toml --dev
# Relative paths resolve against the folder of the file they appear in.

[server]
# Addresses to listen on: "host:port", "[::1]:port" or "unix:/path/to.sock".
# `--listen ADDR` on the command line replaces this list.
listen = ["@LISTEN@"]
# Site files: one or more [[site]] tables each. Globs are re-read on reload.
sites = ["sites.d/*.toml"]
# "watch": reload when a config file changes (and on SIGHUP); "signal": SIGHUP only; "off".
reload = "watch"
# Access log: a path, "-" (stderr) or "off"; the format "combined" or "common"
# (Apache's, + interpreter + microseconds) or "json" (one object per line).
# Times are UTC whatever TZ a handler sets.
access_log = "-"
access_log_format = "combined"
error_log = "-"
# true: share the port with another process (SO_REUSEPORT), which then splits
# the connections; false: a busy port stops the start ("address already in use").
reuse_port = false
# Seconds a graceful stop (SIGTERM) waits for requests in flight.
shutdown_grace = 10
# A status page for loopback clients (HTML, ?json, ?metrics). Remove to disable.
status = "/server-status"
# Development mode, the same as `run --dev`: debug and autoreload on, reload on
# file change, a start-up banner and short coloured access lines.
# dev = true

[limits]
max_body_bytes = "10MB"     # larger request bodies get 413; the handler never runs
handler_timeout = 10        # seconds an inline handler may hold the loop (0 = never)

[python]
path = []                   # prepended to sys.path in every interpreter (PythonPath)
debug = false               # PythonDebug: tracebacks in 500 pages (on with --dev)
autoreload = true           # PythonAutoReload: re-import handler modules whose file changed
)";

constexpr std::string_view site_template = R"(# The site @NAME@, made by `subhttpd init`. A file may hold several [[site]] tables.
[[site]]
# Required and unique. Also the default interpreter name of this site
# (mod_python: one interpreter per virtual host).
server_name = "@NAME@"
# Other Host headers this site answers; "*.example.org" matches sub-domains.
aliases = ["127.0.0.1"]
# This site answers Host headers no other site claims.
default = true
# Where URLs map to files; relative to this file.
document_root = "../htdocs"
# Files tried for a directory URL (DirectoryIndex).
index = ["index.html"]
# PythonOption values; a handler reads them with req.get_options().
options = { greeting = "Hello" }
# More keys: python_path = ["lib"], import = ["module"], env = { KEY = "value" },
# interpreter = "NAME" (one named interpreter for the whole site).

# Every URL under /app runs the handler (SetHandler mod_python + PythonHandler),
# whether or not a file exists there. Try http://@HOSTPORT@/app/hello
[[site.directory]]
path = "app"                # relative to document_root
handler = "hello"           # htdocs/app/hello.py, callable `handler` ("module::callable")
# interp_per_directory = true   # one interpreter per directory of the requested file
# interp_per_directive = true   # one interpreter per block that set the handler
# offload = true                # run on the worker pool instead of the loop
# debug = true                  # tracebacks in the 500 page for this block only

# A WSGI app on a URL prefix (SCRIPT_NAME = "/wsgi"):
# [[site.location]]
# path = "/wsgi"
# wsgi = "myapp:application"
)";

constexpr std::string_view hello_template = R"("""A mod_python handler: subhttpd runs it unchanged, as Apache would.

Edit this file and reload the page: autoreload picks the change up.
"""
from mod_python import apache


def handler(req):
    greeting = req.get_options().get("greeting", "Hello")
    req.content_type = "text/plain; charset=utf-8"
    req.write("%s from %s!\n" % (greeting, req.interpreter))
    req.write("uri=%s path_info=%s\n" % (req.uri, req.path_info))
    return apache.OK
)";

constexpr std::string_view index_template = R"(<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>subhttpd</title></head>
<body>
<h1>It works</h1>
<p>This static page is <code>htdocs/index.html</code>.
The handler <a href="/app/hello">/app/hello</a> is <code>htdocs/app/hello.py</code>.</p>
</body>
</html>
)";

// Django's SECRET_KEY: random per project, never a shared sample value.
std::string make_secret() {
    static constexpr char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::string out;
    for (int i = 0; i < 50; ++i) {
        out.push_back(digits[rd() % (sizeof digits - 1)]);
    }
    return out;
}

void replace_all(std::string& text, std::string_view key, std::string_view value) {
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
        text.replace(at, key.size(), value);
    }
}

std::string fill(std::string_view text, const init_options& o) {
    std::string host_port = o.listen;
    if (host_port.rfind("unix:", 0) == 0) {
        host_port = "localhost";
    } else if (host_port.rfind("0.0.0.0:", 0) == 0) {
        host_port = "127.0.0.1" + host_port.substr(7);
    }
    std::string out(text);
    const std::pair<std::string_view, std::string> subs[] = {
        {"@LISTEN@", o.listen}, {"@NAME@", o.name}, {"@HOSTPORT@", host_port},
        {"@SECRET@", text.find("@SECRET@") == std::string_view::npos ? std::string() : make_secret()}};
    for (const auto& [key, value] : subs) {
        replace_all(out, key, value);
    }
    return out;
}

std::string app_index(std::string_view templates_dir, std::string_view code_dir) {
    std::string out(templates::app_index);
    replace_all(out, "@TEMPLATES@", templates_dir);
    replace_all(out, "@CODE@", code_dir);
    return out;
}

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 253 || n.front() == '.' || n.front() == '-') {
        return false;
    }
    for (char c : n) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool write_file(const fs::path& p, const std::string& text, std::string& err) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        err = "cannot write " + p.string();
        return false;
    }
    return true;
}

}  // namespace

int init_project(const init_options& opts) {
    if (opts.dir.empty()) {
        std::cerr << "subhttpd init: a folder is required (e.g. subhttpd init mysite)\n";
        return 2;
    }
    if (!valid_name(opts.name)) {
        std::cerr << "subhttpd init: --name " << opts.name
                  << ": expected a lower-case host name (letters, digits, '-', '.')\n";
        return 2;
    }
    const fs::path root(opts.dir);
    struct planned {
        fs::path rel;
        std::string text;
    };
    namespace t = templates;
    const fs::path site_file = fs::path("sites.d") / (opts.name + ".toml");
    std::vector<planned> files;
    files.push_back({"server.toml", fill(server_template, opts)});
    switch (opts.kind) {
        case init_kind::modpython:
            files.push_back({site_file, fill(site_template, opts)});
            files.push_back({fs::path("htdocs") / "index.html", fill(index_template, opts)});
            files.push_back({fs::path("htdocs") / "app" / "hello.py", fill(hello_template, opts)});
            break;
        case init_kind::flask:
            files.push_back({site_file, fill(t::flask_site, opts)});
            files.push_back({fs::path("app") / "app.py", std::string(t::flask_app)});
            files.push_back({fs::path("app") / "views.py", std::string(t::flask_views)});
            files.push_back({fs::path("app") / "greetings.py", std::string(t::flask_greetings)});
            files.push_back({fs::path("app") / "templates" / "index.html", app_index("app", "app")});
            files.push_back({fs::path("app") / "static" / "style.css", std::string(t::style_css)});
            break;
        case init_kind::django:
            files.push_back({site_file, fill(t::django_site, opts)});
            files.push_back({fs::path("project") / "manage.py", std::string(t::django_manage)});
            files.push_back({fs::path("project") / "mysite" / "__init__.py", ""});
            files.push_back({fs::path("project") / "mysite" / "settings.py", fill(t::django_settings, opts)});
            files.push_back({fs::path("project") / "mysite" / "urls.py", std::string(t::django_urls)});
            files.push_back({fs::path("project") / "mysite" / "views.py", std::string(t::django_views)});
            files.push_back({fs::path("project") / "mysite" / "greetings.py", std::string(t::django_greetings)});
            files.push_back({fs::path("project") / "mysite" / "wsgi.py", std::string(t::django_wsgi)});
            files.push_back({fs::path("project") / "templates" / "index.html", app_index("project", "project/mysite")});
            files.push_back({fs::path("project") / "static" / "style.css", std::string(t::style_css)});
            // What collectstatic would put there, so /static works before it is run.
            files.push_back({fs::path("project") / "collected-static" / "style.css", std::string(t::style_css)});
            break;
    }
    std::error_code ec;
    if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
        std::cerr << "subhttpd init: " << root.string() << " exists and is not a folder\n";
        return 1;
    }
    // Check everything first: a refusal leaves the folder exactly as it was.
    for (const planned& f : files) {
        fs::path p = root / f.rel;
        if (fs::symlink_status(p, ec).type() != fs::file_type::not_found) {
            std::cerr << "subhttpd init: " << p.string()
                      << " already exists; not overwriting anything (nothing was written)\n";
            return 1;
        }
    }
    for (const planned& f : files) {
        fs::path p = root / f.rel;
        fs::create_directories(p.parent_path(), ec);
        if (ec) {
            std::cerr << "subhttpd init: cannot make " << p.parent_path().string() << ": " << ec.message() << "\n";
            return 1;
        }
        std::string err;
        if (!write_file(p, f.text, err)) {
            std::cerr << "subhttpd init: " << err << "\n";
            return 1;
        }
    }
    std::string config = (root / "server.toml").string();
    bool unix_socket = opts.listen.rfind("unix:", 0) == 0;
    std::string curl = unix_socket ? "curl --unix-socket " + opts.listen.substr(5) + " http://" + opts.name
                                   : "curl http://" + fill("@HOSTPORT@", opts);
    std::cout << "Made a subhttpd project in " << root.string() << ":\n";
    for (const planned& f : files) {
        std::cout << "  " << (root / f.rel).string() << "\n";
    }
    if (opts.kind != init_kind::modpython) {
        const bool flask = opts.kind == init_kind::flask;
        const std::string edit = (root / (flask ? "app/greetings.py" : "project/mysite/greetings.py")).string();
        std::cout << "\nNext steps (needs Debian's " << (flask ? "python3-flask" : "python3-django") << "):\n"
                  << "  subhttpd run -c " << config << " --dev\n"
                  << "then open http://" << fill("@HOSTPORT@", opts) << "/ , edit " << edit
                  << "\nand reload: the next request is served by the changed code.\n";
        return 0;
    }
    std::cout << "\nNext steps:\n"
              << "  subhttpd check -c " << config << "\n"
              << "  subhttpd run -c " << config << " --dev\n"
              << "then, from another terminal:\n"
              << "  " << curl << "/app/hello     (the handler: htdocs/app/hello.py)\n"
              << "  " << curl << "/              (the static page: htdocs/index.html)\n"
              << "  subhttpd route -c " << config << " /app/hello\n";
    return 0;
}

}  // namespace subhttpd::reactor

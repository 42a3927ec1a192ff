// Loading valid trees: every key, the defaults, site discovery, path resolution.
#include "tree.h"

namespace subhttpd::conf::testing {
namespace {

using std::chrono::milliseconds;

using config_load = tree;

TEST_F(config_load, defaults_when_keys_are_omitted) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "example.com"
document_root = "htdocs"
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const config& c = *r.cfg;
    EXPECT_EQ(c.main_file, path("server.toml"));
    ASSERT_EQ(c.server.listen.size(), 1u);
    EXPECT_EQ(c.server.listen[0].text, "127.0.0.1:8080");
    EXPECT_TRUE(c.server.site_globs.empty());
    EXPECT_EQ(c.server.workers, 1u);
    EXPECT_EQ(c.server.pool_threads, 4u);
    EXPECT_EQ(c.server.reload, reload_mode::watch);
    EXPECT_EQ(c.server.access_log, "-");
    EXPECT_EQ(c.server.error_log, "-");
    EXPECT_EQ(c.server.shutdown_grace, milliseconds(10000));
    EXPECT_FALSE(c.server.status);
    EXPECT_EQ(c.server.trusted_proxies, std::vector<std::string>{"127.0.0.1"});
    EXPECT_FALSE(c.server.dev);
    EXPECT_EQ(c.limits.max_header_bytes, 64u * 1024);
    EXPECT_EQ(c.limits.max_body_bytes, 10u * 1024 * 1024);
    EXPECT_EQ(c.limits.max_connections, 10000u);
    EXPECT_EQ(c.limits.read_timeout, milliseconds(30000));
    EXPECT_EQ(c.limits.write_timeout, milliseconds(30000));
    EXPECT_EQ(c.limits.handler_timeout, milliseconds(10000));
    EXPECT_TRUE(c.python.path.empty());
    EXPECT_FALSE(c.python.debug);
    EXPECT_TRUE(c.python.autoreload);
    EXPECT_EQ(c.python.optimize, 0);

    ASSERT_EQ(c.sites.size(), 1u);
    const site& s = c.sites[0];
    EXPECT_EQ(s.server_name, "example.com");
    EXPECT_TRUE(s.aliases.empty());
    EXPECT_FALSE(s.is_default);
    EXPECT_EQ(s.document_root, path("htdocs"));
    EXPECT_EQ(s.index, std::vector<std::string>{"index.html"});
    EXPECT_TRUE(s.python_path.empty());
    EXPECT_TRUE(s.imports.empty());
    EXPECT_TRUE(s.env.empty());
    EXPECT_TRUE(s.directories.empty());
    EXPECT_TRUE(s.locations.empty());
    EXPECT_EQ(s.file, path("server.toml"));
    EXPECT_EQ(s.where.line, 1);
    EXPECT_EQ(s.where.column, 1);
    for (const auto& h : s.settings.handlers) {
        EXPECT_FALSE(h);
    }
    EXPECT_FALSE(s.settings.interpreter);
    EXPECT_FALSE(s.settings.offload);
    EXPECT_TRUE(s.settings.options.empty());
    EXPECT_EQ(c.files, std::vector<std::string>{path("server.toml")});
    EXPECT_TRUE(c.watch_dirs.empty());
}

TEST_F(config_load, an_empty_main_file_is_a_server_without_sites) {
    write("server.toml", "");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_TRUE(r.cfg->sites.empty());
    ASSERT_EQ(r.cfg->server.listen.size(), 1u);
    EXPECT_EQ(r.cfg->server.listen[0].port, 8080);
}

TEST_F(config_load, every_main_file_key) {
    mkdir("lib");
    write("server.toml", R"([server]
listen = ["127.0.0.1:8080", "[::1]:8081", "unix:/run/x.sock", "unix:run/y.sock"]
sites = ["sites.d/*.toml"]
workers = "auto"
pool_threads = 8
reload = "signal"
access_log = "logs/access.log"
error_log = "off"
shutdown_grace = "1.5s"
status = "/server-status"
trusted_proxies = ["10.0.0.1", "10.0.0.2"]
dev = true

[limits]
max_header_bytes = "8KB"
max_body_bytes = 2048
max_connections = 50
read_timeout = "250ms"
write_timeout = 2.5
handler_timeout = 0

[python]
path = ["lib", "/opt/py"]
debug = true
autoreload = false
optimize = 2
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const config& c = *r.cfg;
    ASSERT_EQ(c.server.listen.size(), 4u);
    EXPECT_EQ(c.server.listen[0].host, "127.0.0.1");
    EXPECT_EQ(c.server.listen[1].host, "::1");
    EXPECT_EQ(c.server.listen[1].port, 8081);
    EXPECT_EQ(c.server.listen[2].type, listen_addr::kind::unix_socket);
    EXPECT_EQ(c.server.listen[2].path, "/run/x.sock");
    // A relative socket path is relative to the main file, like every path.
    EXPECT_EQ(c.server.listen[3].path, path("run/y.sock"));
    EXPECT_EQ(c.server.listen[3].text, "unix:run/y.sock");
    EXPECT_EQ(c.server.site_globs, std::vector<std::string>{path("sites.d/*.toml")});
    EXPECT_EQ(c.server.workers, 0u);
    EXPECT_EQ(c.server.pool_threads, 8u);
    EXPECT_EQ(c.server.reload, reload_mode::signal);
    EXPECT_EQ(c.server.access_log, path("logs/access.log"));
    EXPECT_EQ(c.server.error_log, "off");
    EXPECT_EQ(c.server.shutdown_grace, milliseconds(1500));
    EXPECT_EQ(c.server.status, "/server-status");
    EXPECT_EQ(c.server.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    EXPECT_TRUE(c.server.dev);
    EXPECT_EQ(c.limits.max_header_bytes, 8u * 1024);
    EXPECT_EQ(c.limits.max_body_bytes, 2048u);
    EXPECT_EQ(c.limits.max_connections, 50u);
    EXPECT_EQ(c.limits.read_timeout, milliseconds(250));
    EXPECT_EQ(c.limits.write_timeout, milliseconds(2500));
    EXPECT_EQ(c.limits.handler_timeout, milliseconds(0));
    EXPECT_EQ(c.python.path, (std::vector<std::string>{path("lib"), "/opt/py"}));
    EXPECT_TRUE(c.python.debug);
    EXPECT_FALSE(c.python.autoreload);
    EXPECT_EQ(c.python.optimize, 2);
    EXPECT_EQ(c.watch_dirs, std::vector<std::string>{path("sites.d")});
}

TEST_F(config_load, workers_and_listen_variants) {
    write("server.toml", R"([server]
workers = 3
listen = []
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.cfg->server.workers, 3u);
    // An explicit empty list means "only what --listen adds".
    EXPECT_TRUE(r.cfg->server.listen.empty());
}

TEST_F(config_load, every_site_key) {
    mkdir("www/htdocs/app/sub");
    mkdir("www/lib");
    mkdir("shared");
    write("server.toml", R"([server]
sites = ["sites.d/*.toml"]
)");
    write("sites.d/www.toml", R"([[site]]
server_name = "WWW.Example.COM"
aliases = ["Example.com", "*.example.org"]
default = true
document_root = "../www/htdocs/"
index = ["index.html", "index.py"]
python_path = ["../www/lib"]
options = { db = "sqlite:///x", retries = 3, ratio = 0.5, on = true }
import = ["warmup", "db::connect"]
env = { DJANGO_SETTINGS_MODULE = "mysite.settings" }
interpreter = "shared"
handler = "site_handler"
debug = true

[[site.directory]]
path = "app"
handler = "hello"
access_handler = ["acl::check", "acl::log"]
authen_handler = "auth::authen"
authz_handler = "auth::authz"
fixup_handler = "auth::fixup"
log_handler = "logger"
cleanup_handler = "cleanup | .py .html"
interp_per_directory = true
interp_per_directive = false
interpreter = "main_interpreter"
offload = true
handler_timeout = 30
options = { mode = "dev", db = "" }
debug = true
autoreload = false
auth_type = "Basic"
auth_name = "Restricted"

[[site.directory]]
path = "SHARED_DIR"

[[site.location]]
path = "/api/"
wsgi = "myapp.wsgi:application"
handler_timeout = "2m"

[[site.location]]
path = "/"
)");
    // The absolute directory block path is only known at run time.
    {
        std::ifstream in(path("sites.d/www.toml"));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        text.replace(text.find("SHARED_DIR"), 10, path("shared") + "/");
        write("sites.d/www.toml", text);
    }
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    ASSERT_EQ(r.cfg->sites.size(), 1u);
    const site& s = r.cfg->sites[0];
    EXPECT_EQ(s.server_name, "www.example.com");
    EXPECT_EQ(s.aliases, (std::vector<std::string>{"example.com", "*.example.org"}));
    EXPECT_TRUE(s.is_default);
    EXPECT_EQ(s.document_root, path("www/htdocs"));
    EXPECT_EQ(s.index, (std::vector<std::string>{"index.html", "index.py"}));
    EXPECT_EQ(s.python_path, std::vector<std::string>{path("www/lib")});
    EXPECT_EQ(s.imports, (std::vector<std::string>{"warmup", "db::connect"}));
    EXPECT_EQ(s.env, (std::map<std::string, std::string>{
                         {"DJANGO_SETTINGS_MODULE", "mysite.settings"}}));
    EXPECT_EQ(s.settings.options, (options_map{{"db", "sqlite:///x"},
                                               {"retries", "3"},
                                               {"ratio", "0.5"},
                                               {"on", "true"}}));
    EXPECT_EQ(s.settings.interpreter, "shared");
    EXPECT_EQ(s.settings.handlers[static_cast<std::size_t>(phase::content)],
              std::vector<std::string>{"site_handler"});
    EXPECT_EQ(s.settings.debug, true);
    EXPECT_FALSE(s.settings.autoreload);
    EXPECT_EQ(s.file, path("sites.d/www.toml"));
    EXPECT_EQ(s.where.file, path("sites.d/www.toml"));
    EXPECT_EQ(s.where.line, 1);

    ASSERT_EQ(s.directories.size(), 2u);
    const directory_block& d = s.directories[0];
    EXPECT_EQ(d.path, path("www/htdocs/app"));
    const block& b = d.settings;
    auto handlers = [&](phase p) { return b.handlers[static_cast<std::size_t>(p)]; };
    EXPECT_EQ(handlers(phase::content), std::vector<std::string>{"hello"});
    EXPECT_EQ(handlers(phase::access), (std::vector<std::string>{"acl::check", "acl::log"}));
    EXPECT_EQ(handlers(phase::authen), std::vector<std::string>{"auth::authen"});
    EXPECT_EQ(handlers(phase::authz), std::vector<std::string>{"auth::authz"});
    EXPECT_EQ(handlers(phase::fixup), std::vector<std::string>{"auth::fixup"});
    EXPECT_EQ(handlers(phase::log), std::vector<std::string>{"logger"});
    EXPECT_EQ(handlers(phase::cleanup), std::vector<std::string>{"cleanup | .py .html"});
    EXPECT_EQ(b.interp_per_directory, true);
    EXPECT_EQ(b.interp_per_directive, false);
    EXPECT_EQ(b.interpreter, "main_interpreter");
    EXPECT_EQ(b.offload, true);
    EXPECT_EQ(b.handler_timeout, milliseconds(30000));
    // "" survives loading: it removes the site's key when blocks are merged.
    EXPECT_EQ(b.options, (options_map{{"mode", "dev"}, {"db", ""}}));
    EXPECT_EQ(b.debug, true);
    EXPECT_EQ(b.autoreload, false);
    EXPECT_EQ(b.auth_type, "Basic");
    EXPECT_EQ(b.auth_name, "Restricted");
    EXPECT_FALSE(b.wsgi);
    EXPECT_EQ(b.where.file, path("sites.d/www.toml"));
    EXPECT_EQ(b.where.line, 15);
    EXPECT_EQ(b.where.column, 1);

    EXPECT_EQ(s.directories[1].path, path("shared"));
    EXPECT_EQ(s.directories[1].settings.where.line, 35);

    ASSERT_EQ(s.locations.size(), 2u);
    EXPECT_EQ(s.locations[0].path, "/api");
    EXPECT_EQ(s.locations[0].settings.wsgi, "myapp.wsgi:application");
    EXPECT_EQ(s.locations[0].settings.handler_timeout, milliseconds(120000));
    EXPECT_EQ(s.locations[0].settings.where.line, 38);
    EXPECT_EQ(s.locations[1].path, "/");
}

TEST_F(config_load, handler_module_fills_every_phase_the_block_leaves_open) {
    mkdir("htdocs/app");
    write("server.toml", R"([server]
[[site]]
server_name = "a"
document_root = "htdocs"
handler_module = "m"
log_handler = "own"

[[site.directory]]
path = "app"
handler_module = "pkg.m"
wsgi = "app:application"
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const block& site_block = r.cfg->sites.at(0).settings;
    for (phase p : all_phases) {
        const auto i = static_cast<std::size_t>(p);
        if (p == phase::log) {
            EXPECT_EQ(site_block.handlers[i], std::vector<std::string>{"own"});
            EXPECT_FALSE(site_block.silent[i]);
        } else {
            EXPECT_EQ(site_block.handlers[i], std::vector<std::string>{"m"}) << phase_key(p);
            EXPECT_TRUE(site_block.silent[i]) << phase_key(p);
        }
    }
    // in a directory: not the site-level-only phases, and wsgi keeps the content phase
    const block& dir = r.cfg->sites.at(0).directories.at(0).settings;
    EXPECT_FALSE(dir.handlers[static_cast<std::size_t>(phase::trans)]);
    EXPECT_FALSE(dir.handlers[static_cast<std::size_t>(phase::postreadrequest)]);
    EXPECT_FALSE(dir.handlers[static_cast<std::size_t>(phase::content)]);
    EXPECT_EQ(dir.handlers[static_cast<std::size_t>(phase::fixup)], std::vector<std::string>{"pkg.m"});
}

TEST_F(config_load, relative_paths_resolve_against_their_own_file) {
    mkdir("conf/sites/root");
    mkdir("conf/sites/root/static");
    write("conf/server.toml", R"([server]
sites = ["sites/*.toml"]
[python]
path = ["./pylib/../pylib2"]
)");
    write("conf/sites/one.toml", R"([[site]]
server_name = "one"
document_root = "root"
python_path = ["lib", "../shared/"]
[[site.directory]]
path = "static/"
)");
    auto r = load_main("conf/server.toml");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.cfg->python.path, std::vector<std::string>{path("conf/pylib2")});
    const site& s = r.cfg->sites.at(0);
    EXPECT_EQ(s.document_root, path("conf/sites/root"));
    EXPECT_EQ(s.python_path,
              (std::vector<std::string>{path("conf/sites/lib"), path("conf/shared")}));
    EXPECT_EQ(s.directories.at(0).path, path("conf/sites/root/static"));
}

TEST_F(config_load, a_relative_main_file_is_made_absolute) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a"
document_root = "htdocs"
)");
    auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(root_);
    auto r = load("./server.toml");
    std::filesystem::current_path(cwd);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_EQ(r.cfg->main_file, path("server.toml"));
    EXPECT_EQ(r.cfg->sites.at(0).document_root, path("htdocs"));
}

TEST_F(config_load, site_files_in_glob_order_after_inline_sites) {
    mkdir("htdocs");
    write("server.toml", R"([server]
sites = ["sites.d/*.toml", "extra/*.toml", "missing/*.toml", "sites.d/b.toml"]

[[site]]
server_name = "inline"
document_root = "htdocs"
)");
    auto site_file = [&](const std::string& rel, const std::string& name) {
        write(rel, "[[site]]\nserver_name = \"" + name + "\"\ndocument_root = \"../htdocs\"\n");
    };
    site_file("sites.d/b.toml", "b");
    site_file("sites.d/a.toml", "a");
    site_file("sites.d/C.toml", "c");
    write("sites.d/ignored.txt", "not toml at all [");
    site_file("extra/z.toml", "z");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    std::vector<std::string> names;
    for (const auto& s : r.cfg->sites) {
        names.push_back(s.server_name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"inline", "c", "a", "b", "z"}));
    // b.toml is named by two globs and read once.
    EXPECT_EQ(r.cfg->files,
              (std::vector<std::string>{path("server.toml"), path("sites.d/C.toml"),
                                        path("sites.d/a.toml"), path("sites.d/b.toml"),
                                        path("extra/z.toml")}));
    EXPECT_EQ(r.cfg->watch_dirs, (std::vector<std::string>{path("sites.d"), path("extra"),
                                                           path("missing")}));
}

TEST_F(config_load, several_sites_in_one_file) {
    mkdir("htdocs");
    write("server.toml", R"([server]
sites = "sites.d/*.toml"
)");
    write("sites.d/all.toml", R"([[site]]
server_name = "one"
document_root = "../htdocs"

[[site]]
server_name = "two"
document_root = "../htdocs"
default = true
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    ASSERT_EQ(r.cfg->sites.size(), 2u);
    EXPECT_EQ(r.cfg->sites[1].server_name, "two");
    EXPECT_EQ(r.cfg->sites[1].where.line, 5);
    EXPECT_TRUE(r.cfg->sites[1].is_default);
    EXPECT_FALSE(r.cfg->sites[0].is_default);
}

TEST_F(config_load, wildcard_folders_in_globs) {
    mkdir("htdocs");
    write("server.toml", "[server]\nsites = [\"vhosts/*/site.toml\"]\n");
    write("vhosts/b/site.toml", "[[site]]\nserver_name = \"b\"\ndocument_root = \"../../htdocs\"\n");
    write("vhosts/a/site.toml", "[[site]]\nserver_name = \"a\"\ndocument_root = \"../../htdocs\"\n");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    ASSERT_EQ(r.cfg->sites.size(), 2u);
    EXPECT_EQ(r.cfg->sites[0].server_name, "a");
    EXPECT_EQ(r.cfg->watch_dirs, std::vector<std::string>{path("vhosts")});
}

TEST_F(config_load, handler_lists_and_location_paths) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a"
document_root = "htdocs"
handler = ["first", "second::run | .py"]
[[site.location]]
path = "/a/b///"
handler = []
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const site& s = r.cfg->sites.at(0);
    EXPECT_EQ(s.settings.handlers[static_cast<std::size_t>(phase::content)],
              (std::vector<std::string>{"first", "second::run | .py"}));
    ASSERT_EQ(s.locations.size(), 1u);
    EXPECT_EQ(s.locations[0].path, "/a/b");
    ASSERT_TRUE(s.locations[0].settings.handlers[static_cast<std::size_t>(phase::content)]);
    EXPECT_TRUE(s.locations[0].settings.handlers[static_cast<std::size_t>(phase::content)]->empty());
}

TEST_F(config_load, host_index_names_every_exact_host_and_the_wildcard_sites) {
    mkdir("a");
    mkdir("b");
    write("server.toml", R"([[site]]
server_name = "a.example.com"
aliases = ["www.a.example.com", "*.a.example.org"]
document_root = "a"

[[site]]
server_name = "b.example.com"
aliases = ["b.example.net"]
document_root = "b"
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const config& c = *r.cfg;
    EXPECT_EQ(c.host_index.size(), 4u);
    EXPECT_EQ(c.host_index.at("a.example.com"), 0u);
    EXPECT_EQ(c.host_index.at("www.a.example.com"), 0u);
    EXPECT_EQ(c.host_index.at("b.example.com"), 1u);
    EXPECT_EQ(c.host_index.at("b.example.net"), 1u);
    EXPECT_EQ(c.host_index.count("*.a.example.org"), 0u);
    EXPECT_EQ(c.wildcard_sites, std::vector<std::size_t>{0});
}

}  // namespace
}  // namespace subhttpd::conf::testing

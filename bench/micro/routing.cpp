// Micro-benchmarks of hosts::resolve, the routing every request goes through:
// one site with a site-level handler, a site with nested directory and location
// blocks, and Host lookup among 100 and 1,000 sites. The filesystem is a fake
// in-memory fs_view, so the figures are routing alone (no stat(2)); one case
// uses the real filesystem to show what the stat calls add.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "conf/config.h"
#include "hosts/route.h"

namespace {

using namespace subhttpd;

class fake_fs final : public hosts::fs_view {
public:
    void add(const std::string& path, hosts::file_kind k) { entries_[path] = k; }
    hosts::file_kind stat(const std::string& path) const override {
        auto it = entries_.find(path);
        return it == entries_.end() ? hosts::file_kind::missing : it->second;
    }
    std::string real_path(const std::string& path) const override {
        return entries_.count(path) ? path : std::string();
    }

private:
    std::map<std::string, hosts::file_kind> entries_;
};

void set_handler(conf::block& b, const char* module) {
    b.handlers[static_cast<std::size_t>(conf::phase::content)] = std::vector<std::string>{module};
}

conf::site make_site(const std::string& name, const std::string& root) {
    conf::site s;
    s.server_name = name;
    s.document_root = root;
    s.python_path = {"/srv/app"};
    set_handler(s.settings, "hello");
    s.file = "/etc/subhttpd/sites.toml";
    return s;
}

conf::config one_site() {
    conf::config c;
    c.main_file = "/etc/subhttpd/server.toml";
    c.sites.push_back(make_site("bench.test", "/srv/www"));
    return c;
}

// A site shaped like a real mod_python application: static files at the root,
// handlers in nested directories with per-directory interpreters, and locations.
conf::config nested_site() {
    conf::config c;
    c.main_file = "/etc/subhttpd/server.toml";
    conf::site s = make_site("bench.test", "/srv/www");
    s.settings.handlers = {};
    s.index = {"index.html", "index.py"};
    std::string path = "/srv/www";
    for (const char* d : {"app", "v1", "users", "admin"}) {
        path += "/";
        path += d;
        conf::directory_block blk;
        blk.path = path;
        set_handler(blk.settings, "hello");
        blk.settings.interp_per_directory = true;
        blk.settings.options["level"] = d;
        s.directories.push_back(blk);
    }
    for (const char* l : {"/api", "/api/v2", "/status"}) {
        conf::location_block blk;
        blk.path = l;
        blk.settings.wsgi = "hello_wsgi:application";
        s.locations.push_back(blk);
    }
    c.sites.push_back(std::move(s));
    return c;
}

conf::config many_sites(int n) {
    conf::config c;
    c.main_file = "/etc/subhttpd/server.toml";
    for (int i = 1; i <= n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "v%04d.bench.test", i);
        c.sites.push_back(make_site(name, "/srv/www"));
    }
    return c;
}

fake_fs& fs() {
    static fake_fs f = [] {
        fake_fs f;
        for (const char* d : {"/srv", "/srv/www", "/srv/www/app", "/srv/www/app/v1",
                              "/srv/www/app/v1/users", "/srv/www/app/v1/users/admin", "/srv/app"})
            f.add(d, hosts::file_kind::directory);
        for (const char* p : {"/srv/www/hello.txt", "/srv/www/index.html", "/srv/www/app/v1/users/admin/page.py"})
            f.add(p, hosts::file_kind::file);
        return f;
    }();
    return f;
}

// Routes to the kind expected, or the benchmark reports an error: a benchmark
// that quietly measured a 404 path would be worse than none.
bool expect(benchmark::State& state, const hosts::route& r, hosts::route_kind want) {
    if (r.kind == want) return true;
    state.SkipWithError(("routed to " + std::string(hosts::kind_name(r.kind)) + ", expected " +
                         std::string(hosts::kind_name(want))).c_str());
    return false;
}

void run(benchmark::State& state, const conf::config& cfg, std::string_view host, std::string_view target,
         hosts::route_kind want = hosts::route_kind::handler) {
    hosts::request_line req{host, "GET", target};
    if (!expect(state, hosts::resolve(cfg, req, fs()), want)) return;
    for (auto _ : state) {
        hosts::route r = hosts::resolve(cfg, req, fs());
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}

void bm_resolve_site_handler(benchmark::State& state) {
    static const conf::config cfg = one_site();
    run(state, cfg, "bench.test", "/");
}
BENCHMARK(bm_resolve_site_handler);

void bm_resolve_site_handler_query(benchmark::State& state) {
    static const conf::config cfg = one_site();
    run(state, cfg, "bench.test:8080", "/some/path/info?a=1&b=%20two");
}
BENCHMARK(bm_resolve_site_handler_query);

void bm_resolve_nested_directory(benchmark::State& state) {
    static const conf::config cfg = nested_site();
    run(state, cfg, "bench.test", "/app/v1/users/admin/page.py/extra/path");
}
BENCHMARK(bm_resolve_nested_directory);

void bm_resolve_location_wsgi(benchmark::State& state) {
    static const conf::config cfg = nested_site();
    run(state, cfg, "bench.test", "/api/v2/items/42");
}
BENCHMARK(bm_resolve_location_wsgi);

void bm_resolve_static(benchmark::State& state) {
    static const conf::config cfg = nested_site();
    run(state, cfg, "bench.test", "/hello.txt", hosts::route_kind::static_file);
}
BENCHMARK(bm_resolve_static);

// Host lookup among N sites, hit round-robin (the 100-vhost load benchmark).
void bm_find_site_round_robin(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const conf::config cfg = many_sites(n);
    std::vector<std::string> hosts;
    for (int i = 1; i <= n; ++i) {
        char name[40];
        std::snprintf(name, sizeof name, "V%04d.Bench.Test:8080", i);
        hosts.emplace_back(name);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        const conf::site* s = hosts::find_site(cfg, hosts[i]);
        benchmark::DoNotOptimize(s);
        if (++i == hosts.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_find_site_round_robin)->Arg(1)->Arg(100)->Arg(1000);

void bm_resolve_round_robin(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const conf::config cfg = many_sites(n);
    std::vector<std::string> hosts;
    for (int i = 1; i <= n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "v%04d.bench.test", i);
        hosts.emplace_back(name);
    }
    if (!expect(state, hosts::resolve(cfg, {hosts.back(), "GET", "/"}, fs()), hosts::route_kind::handler)) return;
    std::size_t i = 0;
    for (auto _ : state) {
        hosts::route r = hosts::resolve(cfg, {hosts[i], "GET", "/"}, fs());
        benchmark::DoNotOptimize(r);
        if (++i == hosts.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_resolve_round_robin)->Arg(100)->Arg(1000);

// The same request against the real filesystem: what stat(2)/realpath(3) add.
void bm_resolve_real_fs(benchmark::State& state) {
    namespace fsys = std::filesystem;
    static const fsys::path root = [] {
        fsys::path p = fsys::temp_directory_path() / "subhttpd-micro-bench";
        fsys::create_directories(p / "app");
        std::ofstream(p / "hello.txt") << "Hello, world!\n";
        return p;
    }();
    static const conf::config cfg = [] {
        conf::config c;
        c.main_file = "/etc/subhttpd/server.toml";
        c.sites.push_back(make_site("bench.test", root.string()));
        return c;
    }();
    hosts::request_line req{"bench.test", "GET", "/app/hello/world"};
    if (!expect(state, hosts::resolve(cfg, req, hosts::real_fs()), hosts::route_kind::handler)) return;
    for (auto _ : state) {
        hosts::route r = hosts::resolve(cfg, req, hosts::real_fs());
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_resolve_real_fs);

}  // namespace

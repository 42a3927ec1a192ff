// dev mode: the overrides (a copy, every block forced on), the banner's URLs
// and interpreter rules, and the short access line (durations, colour, escapes).
#include "reactor/cli/dev.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "../../hosts/fixtures.h"

namespace subhttpd::reactor::dev {
namespace {

conf::listen_addr tcp(const std::string& host, std::uint16_t port) {
    conf::listen_addr a;
    a.host = host;
    a.port = port;
    a.text = host + ":" + std::to_string(port);
    return a;
}

TEST(dev_overrides, off_unless_forced_or_configured) {
    auto cfg = std::make_shared<const conf::config>();
    EXPECT_EQ(with_dev_overrides(cfg, false).get(), cfg.get());
    EXPECT_EQ(with_dev_overrides(nullptr, true), nullptr);
}

TEST(dev_overrides, a_copy_with_everything_on_and_block_settings_cleared) {
    auto base = std::make_shared<conf::config>();
    base->server.reload = conf::reload_mode::off;
    conf::site s = hosts::testing::make_site("www.example.com");
    s.settings.debug = false;
    conf::directory_block& d = hosts::testing::add_dir(s, "/srv/www/app");
    d.settings.autoreload = false;
    d.settings.autoreload_app = false;
    conf::location_block& l = hosts::testing::add_loc(s, "/api");
    l.settings.debug = false;
    base->sites = {s};
    std::shared_ptr<const conf::config> cfg = base;

    auto dev = with_dev_overrides(cfg, true);
    ASSERT_NE(dev.get(), cfg.get());
    EXPECT_TRUE(dev->server.dev);
    EXPECT_EQ(dev->server.reload, conf::reload_mode::watch);
    EXPECT_TRUE(dev->python.debug);
    EXPECT_TRUE(dev->python.autoreload);
    EXPECT_TRUE(dev->python.autoreload_app);
    EXPECT_FALSE(dev->sites[0].settings.debug.has_value());
    EXPECT_FALSE(dev->sites[0].directories[0].settings.autoreload.has_value());
    EXPECT_FALSE(dev->sites[0].directories[0].settings.autoreload_app.has_value());
    EXPECT_FALSE(dev->sites[0].locations[0].settings.debug.has_value());
    // The published snapshot is untouched.
    EXPECT_FALSE(cfg->server.dev);
    EXPECT_EQ(cfg->server.reload, conf::reload_mode::off);
    EXPECT_EQ(cfg->sites[0].settings.debug, std::optional<bool>(false));

    base->server.dev = true;  // [server] dev = true alone is enough
    EXPECT_NE(with_dev_overrides(cfg, false).get(), cfg.get());
}

TEST(dev_banner, no_sites) {
    conf::config cfg;
    cfg.main_file = "/etc/subhttpd/server.toml";
    std::string b = banner(cfg, {tcp("127.0.0.1", 8080)});
    EXPECT_NE(b.find("config: /etc/subhttpd/server.toml\n"), std::string::npos);
    EXPECT_NE(b.find("no sites: every request gets 404\n"), std::string::npos);
}

TEST(dev_banner, urls_per_listen_address) {
    conf::config cfg;
    conf::site local = hosts::testing::make_site("app.localhost", "/srv/a");
    conf::site other = hosts::testing::make_site("other.test", "/srv/b");
    other.aliases = {"www.other.test"};
    cfg.sites = {local, other};
    conf::listen_addr sock;
    sock.type = conf::listen_addr::kind::unix_socket;
    sock.path = "/run/x.sock";
    std::string b = banner(cfg, {tcp("0.0.0.0", 8080), tcp("::", 8081), sock});
    // The first site is the default; a *.localhost name resolves locally.
    EXPECT_NE(b.find("site app.localhost  [default]\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  url:   http://app.localhost:8080/\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  url:   http://app.localhost:8081/\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  url:   unix:/run/x.sock (curl --unix-socket /run/x.sock http://app.localhost/)\n"),
              std::string::npos);
    // Another name needs a Host header unless it is the default.
    EXPECT_NE(b.find("site other.test  aliases: www.other.test\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  url:   http://127.0.0.1:8080/  (with Host: other.test)\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  url:   http://[::1]:8081/  (with Host: other.test)\n"), std::string::npos) << b;
    EXPECT_NE(b.find("  handlers: none (static files only)\n"), std::string::npos);
}

TEST(dev_banner, an_explicit_default_site_has_plain_urls) {
    conf::config cfg;
    conf::site a = hosts::testing::make_site("a.test", "/srv/a");
    conf::site b = hosts::testing::make_site("b.test", "/srv/b");
    b.is_default = true;
    cfg.sites = {a, b};
    std::string text = banner(cfg, {tcp("192.0.2.1", 80)});
    EXPECT_NE(text.find("site b.test  [default]\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  url:   http://192.0.2.1:80/\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  url:   http://192.0.2.1:80/  (with Host: a.test)\n"), std::string::npos) << text;
}

class dev_banner_handlers : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dev_banner.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = std::filesystem::canonical(tmpl).string();
        std::filesystem::create_directory(root_ + "/app");
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    std::string root_;
};

TEST_F(dev_banner_handlers, each_block_names_its_handler_and_interpreter_rule) {
    conf::config cfg;
    conf::site s = hosts::testing::make_site("www.example.com", root_);
    conf::directory_block& d = hosts::testing::add_dir(s, root_ + "/app", 12);
    hosts::testing::set_handler(d.settings, {"hello"});
    d.settings.interpreter = "shared";
    conf::location_block& l = hosts::testing::add_loc(s, "/wsgi", 30);
    l.settings.wsgi = "app:application";
    conf::directory_block& outside = hosts::testing::add_dir(s, "/opt/elsewhere", 40);
    hosts::testing::set_handler(outside.settings, {"h"});
    outside.settings.interp_per_directory = true;
    s.imports = {"warmup"};
    cfg.sites = {s};
    std::string b = banner(cfg, {tcp("127.0.0.1", 8080)});
    EXPECT_NE(b.find("  handlers:\n"), std::string::npos) << b;
    EXPECT_NE(b.find("    /app/  "), std::string::npos) << b;
    EXPECT_NE(b.find("handler hello  ->  interpreter shared (rule: interpreter)\n"), std::string::npos) << b;
    EXPECT_NE(b.find("    /wsgi  "), std::string::npos) << b;
    EXPECT_NE(b.find("wsgi app:application  ->  interpreter www.example.com (rule: server_name)\n"),
              std::string::npos)
        << b;
    EXPECT_NE(b.find("(no URL: outside the document root)"), std::string::npos) << b;
    EXPECT_NE(b.find("interpreter /opt/elsewhere/... (rule: interp_per_directory"), std::string::npos) << b;
    EXPECT_NE(b.find("  import at start: warmup\n"), std::string::npos);
}

TEST(dev_access_line, durations_in_three_precisions) {
    EXPECT_EQ(access_line("GET", "/", 200, 0.0012, "site", false), "GET / 200 1.2ms site");
    EXPECT_EQ(access_line("GET", "/", 200, 0.0456, "", false), "GET / 200 46ms");
    EXPECT_EQ(access_line("POST", "/x", 500, 2.5, "main_interpreter", false), "POST /x 500 2.50s main_interpreter");
    EXPECT_EQ(access_line("GET", "/", 200, 0.00999, "", false), "GET / 200 10.0ms");
}

TEST(dev_access_line, colour_by_status_class_and_always_reset) {
    EXPECT_EQ(access_line("GET", "/", 200, 0, "", true), "\x1b[32mGET / 200 0.0ms\x1b[0m");
    EXPECT_EQ(access_line("GET", "/", 301, 0, "", true).substr(0, 5), "\x1b[36m");
    EXPECT_EQ(access_line("GET", "/", 404, 0, "", true).substr(0, 5), "\x1b[33m");
    EXPECT_EQ(access_line("GET", "/", 503, 0, "", true).substr(0, 5), "\x1b[31m");
    // No colour for 1xx, so no reset either.
    EXPECT_EQ(access_line("GET", "/", 101, 0, "", true), "GET / 101 0.0ms");
}

TEST(dev_access_line, control_bytes_from_the_client_are_escaped) {
    std::string line = access_line("GET", std::string("/a\x1b[2J\nb\x7f", 10), 200, 0, "", false);
    EXPECT_EQ(line, "GET /a\\x1B[2J\\x0Ab\\x7F\\x00 200 0.0ms");  // NUL too
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
}

TEST(dev_colour, no_color_set_turns_it_off) {
    setenv("NO_COLOR", "1", 1);
    EXPECT_FALSE(colour_wanted());
    unsetenv("NO_COLOR");
}

}  // namespace
}  // namespace subhttpd::reactor::dev

// Broken configs: each mistake is reported as "file:line:col: message" at the
// TOML node that causes it, every mistake at once, and no snapshot comes back.
#include "tree.h"

namespace subhttpd::conf::testing {
namespace {

using strings = std::vector<std::string>;
using config_errors = tree;

TEST_F(config_errors, unknown_keys_everywhere) {
    mkdir("htdocs/app");
    write("server.toml", R"(colour = "blue"
[server]
listen = ["127.0.0.1:8080"]
lisen = ["127.0.0.1:8081"]
[limits]
max_bodies = 1
[python]
paths = []
[[site]]
server_name = "a"
document_root = "htdocs"
root = "x"
[[site.directory]]
path = "app"
handlr = "x"
[[site.location]]
path = "/x"
document_root = "y"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:1:10: unknown key 'colour' in the main file",
                             "@/server.toml:4:9: unknown key 'lisen' in [server]",
                             "@/server.toml:6:14: unknown key 'max_bodies' in [limits]",
                             "@/server.toml:8:9: unknown key 'paths' in [python]",
                             "@/server.toml:12:8: unknown key 'root' in [site]",
                             "@/server.toml:15:10: unknown key 'handlr' in [site.directory]",
                             "@/server.toml:18:17: unknown key 'document_root' in [site.location]",
                         }));
}

TEST_F(config_errors, site_files_hold_only_sites) {
    write("server.toml", "[server]\nsites = [\"sites.d/*.toml\"]\n");
    write("sites.d/a.toml", "[server]\nworkers = 2\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r),
              (strings{"@/sites.d/a.toml:1:1: unknown key 'server' in a site file (only [[site]] "
                       "tables belong there)"}));
}

TEST_F(config_errors, wrong_types) {
    write("server.toml", R"([server]
workers = "many"
pool_threads = "4"
dev = "yes"
trusted_proxies = "127.0.0.1"
listen = [8080]
[limits]
max_connections = 1.5
[python]
optimize = 3
[[site]]
server_name = 42
document_root = ["htdocs"]
index = ["index.html", 7]
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:2:11: 'workers' must be a positive integer or \"auto\", got 'many'",
                  "@/server.toml:3:16: expected an integer for 'pool_threads', got string",
                  "@/server.toml:4:7: expected a boolean (true or false) for 'dev', got string",
                  "@/server.toml:5:19: expected an array of strings for 'trusted_proxies', got string",
                  "@/server.toml:6:11: expected a string in 'listen', got integer",
                  "@/server.toml:8:19: expected an integer for 'max_connections', got float",
                  "@/server.toml:10:12: 'optimize' must be between 0 and 2, got 3",
                  "@/server.toml:12:15: expected a string for 'server_name', got integer",
                  "@/server.toml:13:17: expected a string for 'document_root', got array",
                  "@/server.toml:14:24: expected a string in 'index', got integer",
              }));
}

TEST_F(config_errors, bad_values) {
    mkdir("htdocs");
    write("server.toml", R"([server]
listen = ["127.0.0.1:99999", "localhost:80"]
reload = "sometimes"
status = "server-status"
shutdown_grace = "soon"
workers = 0
[limits]
max_header_bytes = "64 parsecs"
max_body_bytes = -1
read_timeout = "10d"
write_timeout = -3
[[site]]
server_name = "a"
document_root = "htdocs"
handler_timeout = true
options = { list = [1] }
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:2:11: invalid listen address '127.0.0.1:99999' (expected "
                  "\"host:port\", \"[::1]:port\" or \"unix:/path\")",
                  "@/server.toml:3:10: invalid reload mode 'sometimes' (expected \"watch\", "
                  "\"signal\" or \"off\")",
                  "@/server.toml:4:10: 'status' must be a URL path starting with '/', got "
                  "'server-status'",
                  "@/server.toml:5:18: invalid duration 'soon' for 'shutdown_grace' (expected "
                  "seconds, or a number with ms, s, m or h)",
                  "@/server.toml:6:11: 'workers' must be between 1 and 1024, got 0",
                  "@/server.toml:8:20: invalid size '64 parsecs' for 'max_header_bytes' (expected "
                  "bytes or a number with K, KB, KiB, M, MB, MiB, G, GB, GiB)",
                  "@/server.toml:9:18: 'max_body_bytes' must not be negative",
                  "@/server.toml:10:16: invalid duration '10d' for 'read_timeout' (expected "
                  "seconds, or a number with ms, s, m or h)",
                  "@/server.toml:11:17: 'write_timeout' must be a non-negative number of seconds",
                  "@/server.toml:15:19: expected a duration (seconds, or a string like \"250ms\") "
                  "for 'handler_timeout', got boolean",
                  "@/server.toml:16:20: expected a string for 'options.list', got array",
              }));
}

TEST_F(config_errors, duplicate_server_name_across_site_files) {
    mkdir("htdocs");
    write("server.toml", "[server]\nsites = [\"sites.d/*.toml\"]\n");
    write("sites.d/a.toml", "[[site]]\nserver_name = \"example.com\"\ndocument_root = \"../htdocs\"\n");
    write("sites.d/b.toml",
          "[[site]]\ndocument_root = \"../htdocs\"\n  server_name = \"Example.COM\"\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{"@/sites.d/b.toml:3:17: duplicate server_name 'example.com' "
                                  "(first defined at @/sites.d/a.toml:2:15)"}));
}

TEST_F(config_errors, alias_clashing_with_another_site) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a.org"
aliases = ["www.a.org", "*.a.org"]
document_root = "htdocs"
[[site]]
server_name = "b.org"
aliases = ["b.org", "A.ORG", "*.a.org"]
document_root = "htdocs"
[[site]]
server_name = "www.a.org"
document_root = "htdocs"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:7:21: alias 'a.org' is already the server_name of site 'a.org' "
                  "(@/server.toml:2:15)",
                  "@/server.toml:7:30: alias '*.a.org' is already an alias of site 'a.org' "
                  "(@/server.toml:3:25)",
                  "@/server.toml:10:15: server_name 'www.a.org' is already an alias of site "
                  "'a.org' (@/server.toml:3:12)",
              }));
}

TEST_F(config_errors, bad_names) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a b"
aliases = ["x.*.org"]
document_root = "htdocs"
[[site]]
server_name = ""
document_root = "htdocs"
)");
    auto r = load_main();
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:2:15: invalid server_name 'a b'",
                             "@/server.toml:3:12: invalid alias 'x.*.org' (a host name, or '*.' "
                             "followed by a domain)",
                             "@/server.toml:6:15: 'server_name' must not be empty",
                         }));
}

TEST_F(config_errors, missing_required_keys_point_at_the_table) {
    write("server.toml", R"([server]
sites = ["sites.d/*.toml"]
)");
    write("sites.d/a.toml", R"(
[[site]]
server_name = "a"

  [[site]]
  document_root = "/"

[[site]]
server_name = "c"
document_root = "/"
[[site.directory]]
handler = "x"
[[site.location]]
wsgi = "app:application"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/sites.d/a.toml:2:1: missing required key 'document_root' in [site]",
                             "@/sites.d/a.toml:5:3: missing required key 'server_name' in [site]",
                             "@/sites.d/a.toml:11:1: missing required key 'path' in [site.directory]",
                             "@/sites.d/a.toml:13:1: missing required key 'path' in [site.location]",
                         }));
}

TEST_F(config_errors, missing_directories) {
    write("plain-file", "");
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a"
document_root = "nowhere"
[[site]]
server_name = "b"
document_root = "plain-file"
[[site]]
server_name = "c"
document_root = "htdocs"
[[site.directory]]
path = "app"
[[site.directory]]
path = "/definitely/not/here"
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:3:17: document_root '@/nowhere' does not exist",
                             "@/server.toml:6:17: document_root '@/plain-file' is not a directory",
                             "@/server.toml:11:8: directory '@/htdocs/app' does not exist",
                             "@/server.toml:13:8: directory '/definitely/not/here' does not exist",
                         }));
}

TEST_F(config_errors, two_defaults) {
    mkdir("htdocs");
    write("server.toml", "[server]\nsites = [\"sites.d/*.toml\"]\n");
    write("sites.d/a.toml",
          "[[site]]\nserver_name = \"a\"\ndocument_root = \"../htdocs\"\ndefault = true\n");
    write("sites.d/b.toml",
          "[[site]]\nserver_name = \"b\"\ndocument_root = \"../htdocs\"\ndefault = false\n"
          "[[site]]\nserver_name = \"c\"\ndocument_root = \"../htdocs\"\ndefault = true\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{"@/sites.d/b.toml:8:11: site 'c' is marked default, but site "
                                  "'a' already is (@/sites.d/a.toml:4:11)"}));
}

TEST_F(config_errors, bad_location_paths) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a"
document_root = "htdocs"
[[site.location]]
path = "api"
[[site.location]]
path = 3
)");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:5:8: location path 'api' must start with '/'",
                             "@/server.toml:7:8: expected a string for 'path', got integer",
                         }));
}

TEST_F(config_errors, blocks_written_as_single_tables) {
    mkdir("htdocs");
    write("server.toml", R"([site]
server_name = "a"
)");
    auto r = load_main();
    EXPECT_EQ(errors(r), (strings{"@/server.toml:1:1: expected an array of tables for 'site' "
                                  "(write [[site]]), got table"}));
}

TEST_F(config_errors, block_key_types) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a"
document_root = "htdocs"
handler = 5
interpreter = ""
offload = "yes"
fixup_handler = ["ok", 1]
log_handler = ""
)");
    auto r = load_main();
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:4:11: expected a string or an array of strings for 'handler', got "
                  "integer",
                  "@/server.toml:5:15: 'interpreter' must not be empty",
                  "@/server.toml:6:11: expected a boolean (true or false) for 'offload', got string",
                  "@/server.toml:7:24: expected a string in 'fixup_handler', got integer",
                  "@/server.toml:8:15: 'log_handler' has an empty handler",
              }));
}

TEST_F(config_errors, site_level_phases_and_filters) {
    mkdir("htdocs");
    mkdir("htdocs/a");
    write("server.toml", R"([[site]]
server_name = "a"
document_root = "htdocs"
trans_handler = "t"
output_filter = ["gz", "up::shout"]

[[site.directory]]
path = "a"
trans_handler = "t"
postreadrequest_handler = "p"
type_handler = "ty"
input_filter = "bad filter"
)");
    auto r = load_main();
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:9:17: 'trans_handler' may only be set at site level (it runs before the URL "
                  "is mapped to a block)",
                  "@/server.toml:10:27: 'postreadrequest_handler' may only be set at site level (it runs "
                  "before the URL is mapped to a block)",
                  "@/server.toml:12:16: 'input_filter' entry 'bad filter' is not \"module\" or "
                  "\"module::callable\"",
              }));
}

TEST_F(config_errors, every_error_of_every_file_at_once_in_file_order) {
    mkdir("htdocs");
    write("server.toml", R"([server]
sites = ["sites.d/*.toml"]
workers = -2
[limits]
read_timeout = "x"
)");
    write("sites.d/1.toml", "[[site]]\nserver_name = \"one\"\ndocument_root = \"../nope\"\n");
    write("sites.d/2.toml", "[[site]]\nserver_name = \"two\"\nbogus = 1\ndocument_root = 2\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r),
              (strings{
                  "@/server.toml:3:11: 'workers' must be between 1 and 1024, got -2",
                  "@/server.toml:5:16: invalid duration 'x' for 'read_timeout' (expected seconds, "
                  "or a number with ms, s, m or h)",
                  "@/sites.d/1.toml:3:17: document_root '@/nope' does not exist",
                  "@/sites.d/2.toml:3:9: unknown key 'bogus' in [site]",
                  "@/sites.d/2.toml:4:17: expected a string for 'document_root', got integer",
              }));
    // Broken files are still files to watch, so that fixing them reloads.
    EXPECT_EQ(r.files, (strings{path("server.toml"), path("sites.d/1.toml"),
                                path("sites.d/2.toml")}));
    EXPECT_EQ(r.watch_dirs, strings{path("sites.d")});
}

TEST_F(config_errors, toml_syntax_errors_name_the_place) {
    mkdir("htdocs");
    write("server.toml", "[server]\nsites = [\"sites.d/*.toml\"]\n");
    write("sites.d/a.toml", "[[site]]\nserver_name = \"a\"\nserver_name = \"b\"\n");
    write("sites.d/b.toml", "[[site]]\nserver_name = \"b\n");
    write("sites.d/c.toml", "[[site]]\nserver_name = \"c\"\ndocument_root = \"../htdocs\"\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    auto e = errors(r);
    ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
    EXPECT_TRUE(e[0].starts_with("@/sites.d/a.toml:3:15: ")) << e[0];
    EXPECT_NE(e[0].find("already exists"), std::string::npos) << e[0];
    EXPECT_TRUE(e[1].starts_with("@/sites.d/b.toml:2:")) << e[1];
    for (const auto& line : e) {
        EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    }
}

TEST_F(config_errors, a_broken_main_file_still_reports) {
    write("server.toml", "[server\nlisten = 1\n");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].where.file, path("server.toml"));
    EXPECT_GE(r.errors[0].where.line, 1);
}

// Found by tests/fuzz/fuzz_config: toml11's note is cut at a NUL in the source
// line, which left "file:line:col: " with no message at all.
TEST_F(config_errors, a_syntax_error_always_has_a_message) {
    const char text[] = "[python]\ndebug = fgone = true\x17\0\0\0x = 0\n";
    write("server.toml", std::string(text, sizeof text - 1));
    auto r = load_main();
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].where.line, 2);
    EXPECT_FALSE(r.errors[0].message.empty());
}

// Found by tests/fuzz/fuzz_config: toml11 3.7 reads out of bounds on a bad byte
// in a literal string, so the loader checks the encoding first.
TEST_F(config_errors, invalid_utf8_is_reported_where_it_is) {
    const std::string msg = ": invalid UTF-8 (a TOML file must be UTF-8)";
    write("server.toml", "[server]\nstatus = '/st\xff'\n");
    write("b.toml", "a = '''ok \xc3\xa9\n\xc0\xae'''\n");  // overlong "."
    write("c.toml", "a = \"\xed\xa0\x80\"\n");              // a UTF-16 surrogate
    EXPECT_EQ(errors(load_main()), (strings{"@/server.toml:2:14" + msg}));
    EXPECT_EQ(errors(load_main("b.toml")), (strings{"@/b.toml:2:1" + msg}));
    EXPECT_EQ(errors(load_main("c.toml")), (strings{"@/c.toml:1:6" + msg}));
}

TEST_F(config_errors, a_missing_main_file) {
    auto r = load_main("nothing.toml");
    EXPECT_FALSE(r.cfg);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(errors(r)[0], "@/nothing.toml:1:1: cannot open file: No such file or directory");
}

TEST_F(config_errors, sections_must_be_tables) {
    write("server.toml", "server = 5\nlimits = []\n");
    auto r = load_main();
    EXPECT_EQ(errors(r), (strings{"@/server.toml:1:10: expected a table for 'server', got integer",
                                  "@/server.toml:2:10: expected a table for 'limits', got array"}));
}

TEST_F(config_errors, a_site_may_repeat_its_own_names) {
    mkdir("htdocs");
    write("server.toml", R"([[site]]
server_name = "a.org"
aliases = ["a.org", "www.a.org", "WWW.a.org"]
document_root = "htdocs"
)");
    auto r = load_main();
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
}

TEST_F(config_errors, duplicate_listen_addresses) {
    write("server.toml", R"([server]
listen = ["127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1:0", "127.0.0.1:0"]
)");
    auto r = load_main();
    EXPECT_EQ(errors(r),
              (strings{"@/server.toml:2:29: duplicate listen address '127.0.0.1:8080'"}));
}

}  // namespace
}  // namespace subhttpd::conf::testing

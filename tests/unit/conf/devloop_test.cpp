// [[site.alias]], autoreload = "app" and the `wsgi` forms (module:callable,
// module:factory(literal args), script paths), valid and broken.
#include "conf/wsgi_spec.h"
#include "tree.h"

namespace subhttpd::conf::testing {
namespace {

using strings = std::vector<std::string>;
using devloop_conf = tree;

TEST_F(devloop_conf, alias_paths_resolve_against_the_site_file) {
    mkdir("htdocs");
    mkdir("sites.d/collected");
    write("server.toml", "[server]\nsites = [\"sites.d/*.toml\"]\n");
    write("sites.d/a.toml", R"([[site]]
server_name = "a"
document_root = "../htdocs"
[[site.alias]]
url = "/static/"
path = "collected"
)");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    const auto& s = r.cfg->sites[0];
    ASSERT_EQ(s.url_aliases.size(), 1u);
    EXPECT_EQ(s.url_aliases[0].url, "/static");
    EXPECT_EQ(s.url_aliases[0].path, path("sites.d/collected"));
    EXPECT_EQ(s.url_aliases[0].where.line, 4);
}

TEST_F(devloop_conf, alias_mistakes_name_file_line_col) {
    mkdir("htdocs");
    mkdir("c");
    write("server.toml", R"toml([[site]]
server_name = "a"
document_root = "htdocs"
[[site.alias]]
url = "static"
path = "c"
[[site.alias]]
url = "/s"
path = "missing"
[[site.alias]]
url = "/t/../u"
path = "c"
[[site.alias]]
path = "c"
[[site.alias]]
url = "/v"
path = "c"
colour = 1
[[site.alias]]
url = "/v/"
path = "c"
)toml");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:5:7: alias url 'static' must start with '/'",
                             "@/server.toml:9:8: alias path '@/missing' does not exist",
                             "@/server.toml:11:7: alias url '/t/../u' must be a plain URL prefix below '/' (no '.', '..', '%' or empty segments)",
                             "@/server.toml:13:1: missing required key 'url' in [site.alias]",
                             "@/server.toml:18:10: unknown key 'colour' in [site.alias]",
                             "@/server.toml:20:7: alias url '/v' is already mapped at @/server.toml:15:1",
                         }));
}

TEST_F(devloop_conf, autoreload_app_everywhere) {
    mkdir("htdocs/app");
    write("server.toml", R"([python]
autoreload = "app"
[[site]]
server_name = "a"
document_root = "htdocs"
autoreload = "app"
[[site.directory]]
path = "app"
autoreload = true
[[site.location]]
path = "/x"
autoreload = "sometimes"
)");
    auto r = load_main();
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:12:14: 'autoreload' must be true, false or \"app\", got \"sometimes\"",
                         }));
    write("server.toml", R"([python]
autoreload = "app"
[[site]]
server_name = "a"
document_root = "htdocs"
[[site.directory]]
path = "app"
autoreload = true
)");
    r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
    EXPECT_TRUE(r.cfg->python.autoreload);
    EXPECT_TRUE(r.cfg->python.autoreload_app);
    EXPECT_EQ(r.cfg->sites[0].directories[0].settings.autoreload_app, false);
}

TEST_F(devloop_conf, wsgi_forms_that_check_accepts) {
    mkdir("htdocs/mysite");
    write("htdocs/app.wsgi", "application = None\n");
    write("server.toml", R"toml([[site]]
server_name = "a"
document_root = "htdocs"
wsgi = "mysite.wsgi:application"
[[site.location]]
path = "/a"
wsgi = "app.wsgi"
[[site.location]]
path = "/b"
wsgi = "myapp:create_app()"
[[site.location]]
path = "/c"
wsgi = "myapp:create_app('dev', debug=True, n=-1.5e3, opts={'a': [1, (2,)], 'b': None}, s=b'x' r'y')"
[[site.location]]
path = "/d"
wsgi = "pkg.mod:obj.app"
)toml");
    auto r = load_main();
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
}

TEST_F(devloop_conf, wsgi_forms_that_cannot_work) {
    mkdir("htdocs");
    write("server.toml", R"toml([[site]]
server_name = "a"
document_root = "htdocs"
[[site.location]]
path = "/a"
wsgi = "myapp:create_app(os.environ)"
[[site.location]]
path = "/b"
wsgi = "myapp:create_app("
[[site.location]]
path = "/c"
wsgi = "./missing.wsgi"
[[site.location]]
path = "/d"
wsgi = "sub/app.py:application"
[[site.location]]
path = "/e"
wsgi = "myapp:2app"
[[site.location]]
path = "/f"
wsgi = "myapp:f(a=1, 2)"
)toml");
    auto r = load_main();
    EXPECT_FALSE(r.cfg);
    EXPECT_EQ(errors(r), (strings{
                             "@/server.toml:6:8: wsgi 'myapp:create_app(os.environ)' factory arguments 'os.environ': 'os' is not a literal (arguments may be numbers, strings, True, False, None, and tuples, lists, dicts or sets of those)",
                             "@/server.toml:9:8: wsgi 'myapp:create_app(' factory call 'create_app(' must end with ')'",
                             "@/server.toml:12:8: wsgi script '@/htdocs/missing.wsgi' does not exist",
                             "@/server.toml:15:8: wsgi script '@/htdocs/sub/app.py' does not exist",
                             "@/server.toml:18:8: wsgi 'myapp:2app' '2app' is not a Python name (expected callable, obj.attr or factory(...))",
                             "@/server.toml:21:8: wsgi 'myapp:f(a=1, 2)' factory arguments 'a=1, 2': a positional argument follows a keyword argument",
                         }));
}

TEST(wsgi_spec_parse, splits_target_attr_and_args) {
    wsgi_spec s;
    EXPECT_EQ(parse_wsgi_spec("myapp:create_app(1, k='a:b')", s), "");
    EXPECT_EQ(s.target, "myapp");
    EXPECT_EQ(s.attr, "create_app");
    EXPECT_TRUE(s.call);
    EXPECT_EQ(s.args, "1, k='a:b'");
    EXPECT_EQ(parse_wsgi_spec("/srv/app.wsgi", s), "");
    EXPECT_TRUE(s.is_file);
    EXPECT_EQ(s.attr, "application");
    EXPECT_EQ(parse_wsgi_spec("mysite.wsgi", s), "");
    EXPECT_FALSE(s.is_file);
    EXPECT_NE(parse_wsgi_spec("myapp:", s), "");
    EXPECT_NE(parse_wsgi_spec("f()", s), "");
}

TEST(wsgi_spec_parse, literal_arguments) {
    EXPECT_EQ(check_literal_args(""), "");
    EXPECT_EQ(check_literal_args("1, 2.5, -3, 0x1f, 1_000, 1e-3, 2j, 1+2j"), "");
    EXPECT_EQ(check_literal_args("'a', \"b\", '''c''', b'd', 'e' 'f', 'it\\'s'"), "");
    EXPECT_EQ(check_literal_args("[1, 2,], (), (1,), {}, {1: 2}, {1, 2}"), "");
    EXPECT_EQ(check_literal_args("x=True, y=None, z=False"), "");
    EXPECT_NE(check_literal_args("x=1, x=2"), "");
    EXPECT_NE(check_literal_args("len('a')"), "");
    EXPECT_NE(check_literal_args("'open"), "");
    EXPECT_NE(check_literal_args("[1, 2"), "");
    EXPECT_NE(check_literal_args("{1: 2, 3}"), "");
    EXPECT_NE(check_literal_args("1 2"), "");
}

}  // namespace
}  // namespace subhttpd::conf::testing

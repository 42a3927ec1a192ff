// The four naming rules as one function, as the dev banner and PythonImport
// ask them (the routed cases are in interp_test.cpp).
#include "hosts/naming.h"

#include <gtest/gtest.h>

namespace subhttpd::hosts {
namespace {

naming_input base() {
    naming_input in;
    in.file_dir = "/srv/site/app";
    in.from = block_ref::kind::directory;
    in.from_path = "/srv/site";
    in.server_name = "www.example.com";
    return in;
}

TEST(Naming, InterpreterWinsOverEverything) {
    naming_input in = base();
    in.interpreter = "shared";
    in.per_directory = true;
    in.per_directive = true;
    interp_choice c = name_interpreter(in);
    EXPECT_EQ(c.name, "shared");
    EXPECT_EQ(c.rule, interp_rule::interpreter);
}

TEST(Naming, PerDirectoryUsesTheFilesDirectoryWithSlash) {
    naming_input in = base();
    in.per_directory = true;
    in.per_directive = true;
    interp_choice c = name_interpreter(in);
    EXPECT_EQ(c.name, "/srv/site/app/");
    EXPECT_EQ(c.rule, interp_rule::per_directory);
    in.file_dir = "/srv/site/app/";
    EXPECT_EQ(name_interpreter(in).name, "/srv/site/app/");
}

TEST(Naming, PerDirectiveUsesTheBlockPath) {
    naming_input in = base();
    in.per_directive = true;
    interp_choice c = name_interpreter(in);
    EXPECT_EQ(c.name, "/srv/site/");
    EXPECT_EQ(c.rule, interp_rule::per_directive);
    in.from = block_ref::kind::location;
    in.from_path = "/";
    EXPECT_EQ(name_interpreter(in).name, "/");
}

TEST(Naming, PerDirectiveAtSiteLevelIsTheMainInterpreter) {
    naming_input in = base();
    in.per_directive = true;
    in.from = block_ref::kind::site;
    in.from_path = "";
    interp_choice c = name_interpreter(in);
    EXPECT_EQ(c.name, main_interpreter_name);
    EXPECT_EQ(c.rule, interp_rule::per_directive_site);
}

TEST(Naming, DefaultIsServerName) {
    interp_choice c = name_interpreter(base());
    EXPECT_EQ(c.name, "www.example.com");
    EXPECT_EQ(c.rule, interp_rule::server_name);
}

TEST(Naming, ImportsRunInTheSitesInterpreterOrServerName) {
    conf::site s;
    s.server_name = "www.example.com";
    EXPECT_EQ(import_interpreter(s), "www.example.com");
    s.settings.interp_per_directive = true;  // no request yet: rules 2 and 3 do not apply
    EXPECT_EQ(import_interpreter(s), "www.example.com");
    s.settings.interpreter = "shared";
    EXPECT_EQ(import_interpreter(s), "shared");
}

}  // namespace
}  // namespace subhttpd::hosts

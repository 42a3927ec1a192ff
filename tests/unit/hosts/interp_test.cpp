// Interpreter naming (DESIGN.md "Interpreter naming"), rule by rule, plus the
// examples of mod_python's Doc/directives.rst for PythonInterpPerDirectory,
// PythonInterpPerDirective and PythonInterpreter.
#include <gtest/gtest.h>

#include "fixtures.h"

namespace subhttpd::hosts {
namespace {

using conf::phase;
using testing::add_dir;
using testing::add_loc;
using testing::fake_fs;
using testing::get;
using testing::make_site;
using testing::set_handler;

class interp_test : public ::testing::Test {
protected:
    void SetUp() override {
        cfg_.sites = {make_site("www.example.com", "/srv/site")};
        fs_.file("/srv/site/top.py")
            .file("/srv/site/directory/a.py")
            .file("/srv/site/directory/subdirectory/b.py")
            .dir("/srv/site/sub");
    }
    conf::site& site() { return cfg_.sites[0]; }
    route at(std::string_view target) const { return get(cfg_, target, fs_); }
    // A copy: several calls may stand in one expression.
    phase_route content(std::string_view target) {
        last_ = at(target);
        return last_.at(phase::content);
    }
    conf::config cfg_;
    fake_fs fs_;
    route last_;
};

TEST_F(interp_test, default_is_server_name) {
    set_handler(site().settings, {"h"});
    const auto c = content("/top.py");
    EXPECT_EQ(c.interpreter, "www.example.com");
    EXPECT_EQ(c.rule, interp_rule::server_name);
}

TEST_F(interp_test, interpreter_key_wins_over_everything) {
    set_handler(site().settings, {"h"});
    site().settings.interp_per_directory = true;
    site().settings.interp_per_directive = true;
    site().settings.interpreter = "shared";
    const auto c = content("/directory/a.py");
    EXPECT_EQ(c.interpreter, "shared");
    EXPECT_EQ(c.rule, interp_rule::interpreter);
}

TEST_F(interp_test, main_interpreter_is_just_a_name) {
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    d.settings.interpreter = "main_interpreter";
    const auto c = content("/directory/a.py");
    EXPECT_EQ(c.interpreter, "main_interpreter");
    EXPECT_EQ(c.rule, interp_rule::interpreter);
}

TEST_F(interp_test, per_directory_uses_directory_of_filename) {
    set_handler(site().settings, {"h"});
    site().settings.interp_per_directory = true;
    EXPECT_EQ(content("/directory/a.py").interpreter, "/srv/site/directory/");
    EXPECT_EQ(last_.at(phase::content).rule, interp_rule::per_directory);
    EXPECT_EQ(content("/top.py").interpreter, "/srv/site/");
    EXPECT_EQ(content("/directory/a.py/path/info").interpreter, "/srv/site/directory/");
}

TEST_F(interp_test, per_directory_directory_with_and_without_slash_agree) {
    set_handler(site().settings, {"h"});
    site().settings.interp_per_directory = true;
    EXPECT_EQ(content("/sub").interpreter, "/srv/site/sub/");
    EXPECT_EQ(content("/sub/").interpreter, "/srv/site/sub/");
    EXPECT_EQ(content("/").interpreter, "/srv/site/");
    EXPECT_EQ(content("/sub/missing/x").interpreter, "/srv/site/sub/");
}

TEST_F(interp_test, per_directory_with_index_file) {
    fs_.file("/srv/site/sub/index.html");
    set_handler(site().settings, {"h"});
    site().settings.interp_per_directory = true;
    EXPECT_EQ(content("/sub/").interpreter, "/srv/site/sub/");
    EXPECT_EQ(last_.filename, "/srv/site/sub/index.html");
}

TEST_F(interp_test, per_directory_in_a_mounted_location) {
    auto& l = add_loc(site(), "/api");
    l.settings.wsgi = "app:application";
    l.settings.interp_per_directory = true;
    EXPECT_EQ(content("/api/users/7").interpreter, "/srv/site/api/users/");
    fs_.dir("/srv/site/api/users/7");
    EXPECT_EQ(content("/api/users/7").interpreter, "/srv/site/api/users/7/");
}

TEST_F(interp_test, per_directive_names_the_block_that_set_the_handler) {
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    d.settings.interp_per_directive = true;
    const auto c = content("/directory/subdirectory/b.py");
    EXPECT_EQ(c.interpreter, "/srv/site/directory/");
    EXPECT_EQ(c.rule, interp_rule::per_directive);
}

TEST_F(interp_test, per_directive_at_site_level_is_main_interpreter) {
    set_handler(site().settings, {"h"});
    site().settings.interp_per_directive = true;
    const auto c = content("/directory/a.py");
    EXPECT_EQ(c.interpreter, "main_interpreter");
    EXPECT_EQ(c.rule, interp_rule::per_directive_site);
}

TEST_F(interp_test, per_directive_location_gives_url_prefix) {
    site().settings.interp_per_directive = true;
    add_loc(site(), "/api").settings.wsgi = "api:app";
    EXPECT_EQ(content("/api/x").interpreter, "/api/");
    EXPECT_EQ(last_.at(phase::content).rule, interp_rule::per_directive);
    add_loc(site(), "/").settings.wsgi = "root:app";
    EXPECT_EQ(content("/other").interpreter, "/");
    EXPECT_EQ(content("/api").interpreter, "/api/");
}

TEST_F(interp_test, per_directive_is_evaluated_per_phase) {
    site().settings.interp_per_directive = true;
    set_handler(site().settings, {"auth"}, phase::authen);
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    auto& l = add_loc(site(), "/directory");
    set_handler(l.settings, {"logger"}, phase::log);
    const route r = at("/directory/a.py");
    EXPECT_EQ(r.at(phase::authen).interpreter, "main_interpreter");
    EXPECT_EQ(r.at(phase::content).interpreter, "/srv/site/directory/");
    EXPECT_EQ(r.at(phase::log).interpreter, "/directory/");
}

TEST_F(interp_test, per_directory_beats_per_directive) {
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    d.settings.interp_per_directive = true;
    d.settings.interp_per_directory = true;
    EXPECT_EQ(content("/directory/subdirectory/b.py").interpreter, "/srv/site/directory/subdirectory/");
    EXPECT_EQ(last_.at(phase::content).rule, interp_rule::per_directory);
}

TEST_F(interp_test, later_false_cancels_earlier_true) {
    set_handler(site().settings, {"h"});
    site().settings.interp_per_directory = true;
    auto& d = add_dir(site(), "/srv/site/directory");
    d.settings.interp_per_directory = false;
    EXPECT_EQ(content("/directory/a.py").interpreter, "www.example.com");
    EXPECT_EQ(content("/top.py").interpreter, "/srv/site/");
    site().settings.interp_per_directive = true;
    d.settings.interp_per_directive = false;
    EXPECT_EQ(content("/directory/a.py").interpreter, "www.example.com");
}

TEST_F(interp_test, empty_interpreter_falls_back_to_the_rules) {
    set_handler(site().settings, {"h"});
    site().settings.interpreter = "shared";
    auto& d = add_dir(site(), "/srv/site/directory");
    d.settings.interpreter = "";
    EXPECT_EQ(content("/directory/a.py").interpreter, "www.example.com");
    EXPECT_EQ(content("/top.py").interpreter, "shared");
}

TEST_F(interp_test, each_site_has_its_own_default) {
    auto other = make_site("other.test", "/srv/other");
    set_handler(other.settings, {"h"});
    cfg_.sites.push_back(other);
    fs_.file("/srv/other/x.py");
    const route r = resolve(cfg_, {"other.test", "GET", "/x.py"}, fs_);
    EXPECT_EQ(r.at(phase::content).interpreter, "other.test");
}

// --- mod_python Doc/directives.rst ------------------------------------------
// "/directory has a PythonHandler, /directory/subdirectory has none. By
// default both execute in the same interpreter; with PythonInterpPerDirectory
// there are two, one for each directory."
TEST_F(interp_test, modpython_doc_interp_per_directory) {
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    const std::string a = content("/directory/a.py").interpreter;
    const std::string b = content("/directory/subdirectory/b.py").interpreter;
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, "www.example.com");

    d.settings.interp_per_directory = true;
    const std::string a2 = content("/directory/a.py").interpreter;
    const std::string b2 = content("/directory/subdirectory/b.py").interpreter;
    EXPECT_NE(a2, b2);
    EXPECT_EQ(a2, "/srv/site/directory/");
    EXPECT_EQ(b2, "/srv/site/directory/subdirectory/");
}

// "/directory and /directory/subdirectory each have a PythonHandler. By
// default both run in one interpreter; with PythonInterpPerDirective there are
// two, one for each directive."
TEST_F(interp_test, modpython_doc_interp_per_directive) {
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    auto& s = add_dir(site(), "/srv/site/directory/subdirectory");
    set_handler(s.settings, {"h2"});
    EXPECT_EQ(content("/directory/a.py").interpreter, content("/directory/subdirectory/b.py").interpreter);

    d.settings.interp_per_directive = true;
    const std::string a = content("/directory/a.py").interpreter;
    const std::string b = content("/directory/subdirectory/b.py").interpreter;
    EXPECT_NE(a, b);
    EXPECT_EQ(a, "/srv/site/directory/");
    EXPECT_EQ(b, "/srv/site/directory/subdirectory/");

    // Without a directive of its own the subdirectory shares its parent's.
    s.settings.handlers[static_cast<std::size_t>(phase::content)].reset();
    EXPECT_EQ(content("/directory/subdirectory/b.py").interpreter, "/srv/site/directory/");
}

// "PythonInterpreter overrides PythonInterpPerDirectory/-Directive; in the
// DocumentRoot it forces the whole server into one subinterpreter."
TEST_F(interp_test, modpython_doc_interpreter_overrides) {
    auto& root = add_dir(site(), "/srv/site");
    root.settings.interpreter = "one";
    auto& d = add_dir(site(), "/srv/site/directory");
    set_handler(d.settings, {"h"});
    d.settings.interp_per_directory = true;
    auto& s = add_dir(site(), "/srv/site/directory/subdirectory");
    set_handler(s.settings, {"h2"});
    s.settings.interp_per_directive = true;
    set_handler(site().settings, {"top"});
    for (const char* t : {"/top.py", "/directory/a.py", "/directory/subdirectory/b.py", "/sub/"}) {
        EXPECT_EQ(content(t).interpreter, "one") << t;
        EXPECT_EQ(last_.at(phase::content).rule, interp_rule::interpreter) << t;
    }
}

}  // namespace
}  // namespace subhttpd::hosts

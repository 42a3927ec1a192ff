// conf/names: the phase names as the TOML keys, mod_python's directives and
// default callables spell them, and where errors point.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conf/config.h"

namespace subhttpd::conf {
namespace {

TEST(phase_names, every_phase_has_distinct_names_that_agree) {
    std::set<std::string_view> keys, directives, callables;
    for (phase p : all_phases) {
        std::string_view key = phase_key(p);
        std::string_view directive = phase_directive(p);
        std::string_view callable = phase_default_callable(p);
        EXPECT_TRUE(keys.insert(key).second) << key;
        EXPECT_TRUE(directives.insert(directive).second) << directive;
        EXPECT_TRUE(callables.insert(callable).second) << callable;
        // "authen_handler" <-> "PythonAuthenHandler" <-> "authenhandler": one word, three spellings.
        std::string lower;
        for (char c : directive.substr(6)) {  // after "Python"
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        EXPECT_EQ(lower, callable) << directive;
        std::string joined;
        for (char c : key) {
            if (c != '_') {
                joined += c;
            }
        }
        EXPECT_EQ(joined, callable) << key;
    }
    EXPECT_EQ(keys.size(), 12u);
}

TEST(phase_names, mod_python_spellings) {
    EXPECT_EQ(phase_key(phase::content), "handler");
    EXPECT_EQ(phase_directive(phase::content), "PythonHandler");
    EXPECT_EQ(phase_default_callable(phase::content), "handler");
    EXPECT_EQ(phase_key(phase::postreadrequest), "postreadrequest_handler");
    EXPECT_EQ(phase_directive(phase::headerparser), "PythonHeaderParserHandler");
    EXPECT_EQ(phase_default_callable(phase::cleanup), "cleanuphandler");
}

TEST(phase_names, only_the_first_two_phases_are_site_level_only) {
    for (phase p : all_phases) {
        EXPECT_EQ(site_level_only(p), p == phase::postreadrequest || p == phase::trans) << phase_key(p);
    }
}

TEST(phase_names, phases_run_in_apache_order) {
    int last = -1;
    for (phase p : all_phases) {
        EXPECT_GT(static_cast<int>(p), last) << phase_key(p);
        last = static_cast<int>(p);
    }
    EXPECT_LT(static_cast<int>(phase::fixup), static_cast<int>(phase::content));
    EXPECT_LT(static_cast<int>(phase::content), static_cast<int>(phase::log));
}

TEST(error_text, file_line_column) {
    EXPECT_EQ(to_string(source_loc{"/etc/subhttpd/server.toml", 12, 3}), "/etc/subhttpd/server.toml:12:3");
    error e{{"sites.d/a.toml", 1, 1}, "unknown key 'x'"};
    EXPECT_EQ(to_string(e), "sites.d/a.toml:1:1: unknown key 'x'");
}

}  // namespace
}  // namespace subhttpd::conf

// check's warning about one-interpreter C extensions imported by two sites
// into two interpreters.
#include <gtest/gtest.h>

#include "hosts/extensions.h"

namespace {

using subhttpd::conf::config;
using subhttpd::conf::site;

site make_site(const std::string& name, std::vector<std::string> imports, std::optional<std::string> interp = {}) {
    site s;
    s.server_name = name;
    s.imports = std::move(imports);
    s.settings.interpreter = std::move(interp);
    s.where.file = "sites.d/" + name + ".toml";
    s.where.line = 1;
    s.where.column = 1;
    return s;
}

}  // namespace

TEST(extensions, known_packages) {
    EXPECT_TRUE(subhttpd::hosts::single_interpreter_package("numpy"));
    EXPECT_TRUE(subhttpd::hosts::single_interpreter_package("lxml"));
    EXPECT_FALSE(subhttpd::hosts::single_interpreter_package("json"));
    EXPECT_FALSE(subhttpd::hosts::single_interpreter_package("numpyx"));
}

TEST(extensions, two_interpreters_importing_numpy_warn_once) {
    config c;
    c.sites.push_back(make_site("a.test", {"numpy"}));
    c.sites.push_back(make_site("b.test", {"numpy.linalg::setup", "json"}));
    auto w = subhttpd::hosts::shared_extension_warnings(c);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].rfind("sites.d/b.test.toml:1:1: warning: site b.test imports numpy into interpreter 'b.test'", 0), 0u);
    EXPECT_NE(w[0].find("'a.test' (sites.d/a.test.toml:1:1)"), std::string::npos);
    EXPECT_NE(w[0].find("main_imports = [\"numpy\"]"), std::string::npos);
}

TEST(extensions, one_interpreter_is_fine) {
    config c;
    c.sites.push_back(make_site("a.test", {"lxml.etree"}, "main_interpreter"));
    c.sites.push_back(make_site("b.test", {"lxml"}, "main_interpreter"));
    c.sites.push_back(make_site("c.test", {"flask"}));
    EXPECT_TRUE(subhttpd::hosts::shared_extension_warnings(c).empty());
}

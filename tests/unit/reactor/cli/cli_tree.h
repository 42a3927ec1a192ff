#pragma once
// A throwaway config tree for the command-line tests (check, route): files
// written under a fresh folder, removed when the case ends.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace subhttpd::reactor::testing {

class cli_tree : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "cli_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = std::filesystem::canonical(tmpl).string();
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    std::string write(const std::string& rel, const std::string& text) {
        std::filesystem::path p = root_ + "/" + rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
    std::string root_;
};

}  // namespace subhttpd::reactor::testing

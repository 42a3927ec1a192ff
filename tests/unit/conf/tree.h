#pragma once
// A throwaway config tree on disk for conf tests: files are written relative to a
// fresh mkdtemp folder, which is removed when the fixture ends.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "conf/config.h"

namespace subhttpd::conf::testing {

class tree : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "conf_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }

    // Absolute path of `rel` inside the tree.
    std::string path(const std::string& rel) const { return root_ + "/" + rel; }

    void write(const std::string& rel, const std::string& text) const {
        std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
        std::ofstream(path(rel)) << text;
    }
    void mkdir(const std::string& rel) const { std::filesystem::create_directories(path(rel)); }

    load_result load_main(const std::string& rel = "server.toml") const { return load(path(rel)); }

    // "file:line:col: message" for each error, with the tree's folder written as "@".
    std::vector<std::string> errors(const load_result& r) const {
        std::vector<std::string> out;
        for (const auto& e : r.errors) {
            const std::string s = to_string(e);
            std::string short_form;
            std::size_t from = 0;
            for (auto pos = s.find(root_); pos != std::string::npos; pos = s.find(root_, from)) {
                short_form.append(s, from, pos - from).append("@");
                from = pos + root_.size();
            }
            short_form.append(s, from, std::string::npos);
            out.push_back(std::move(short_form));
        }
        return out;
    }

    std::string root_;
};

}  // namespace subhttpd::conf::testing

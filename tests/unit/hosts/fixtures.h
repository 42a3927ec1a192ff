#pragma once
// Test fixtures for hosts/: an in-memory fs_view and small builders for config
// snapshots, so every routing case reads as data.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conf/config.h"
#include "hosts/route.h"

namespace subhttpd::hosts::testing {

// Files and directories by absolute path; `links` maps a path to the absolute
// path it points at (resolved component by component, like the kernel).
class fake_fs final : public fs_view {
public:
    fake_fs& dir(const std::string& path) {
        add_parents(path);
        dirs_.insert(path);
        return *this;
    }
    fake_fs& file(const std::string& path) {
        add_parents(path);
        files_.insert(path);
        return *this;
    }
    fake_fs& link(const std::string& path, const std::string& target) {
        add_parents(path);
        links_[path] = target;
        return *this;
    }

    file_kind stat(const std::string& path) const override {
        const std::string r = resolve(path);
        if (dirs_.count(r) != 0) {
            return file_kind::directory;
        }
        if (files_.count(r) != 0) {
            return file_kind::file;
        }
        return file_kind::missing;
    }
    std::string real_path(const std::string& path) const override {
        return stat(path) == file_kind::missing ? "" : resolve(path);
    }

private:
    void add_parents(const std::string& path) {
        for (auto pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
            dirs_.insert(path.substr(0, pos));
        }
        dirs_.insert("/");
    }
    std::string resolve(const std::string& path) const {
        std::string cur;
        std::vector<std::string> rest;
        for (std::size_t pos = 1; pos <= path.size();) {
            auto next = path.find('/', pos);
            if (next == std::string::npos) {
                next = path.size();
            }
            if (next > pos) {
                rest.push_back(path.substr(pos, next - pos));
            }
            pos = next + 1;
        }
        int hops = 0;
        for (std::size_t i = 0; i < rest.size(); ++i) {
            cur += "/" + rest[i];
            auto it = links_.find(cur);
            while (it != links_.end() && hops++ < 40) {
                cur = it->second;
                it = links_.find(cur);
            }
        }
        return cur.empty() ? "/" : cur;
    }

    std::set<std::string> dirs_;
    std::set<std::string> files_;
    std::map<std::string, std::string> links_;
};

inline conf::site make_site(const std::string& name, const std::string& root = "/srv/www") {
    conf::site s;
    s.server_name = name;
    s.document_root = root;
    s.file = "sites.d/" + name + ".toml";
    s.where = {s.file, 1, 1};
    s.settings.where = s.where;
    return s;
}

// Tests hold references to several blocks at once: room for them up front.
inline conf::directory_block& add_dir(conf::site& s, const std::string& path, int line = 10) {
    if (s.directories.empty()) {
        s.directories.reserve(32);
    }
    s.directories.push_back({path, {}});
    s.directories.back().settings.where = {s.file, line, 1};
    return s.directories.back();
}

inline conf::location_block& add_loc(conf::site& s, const std::string& path, int line = 20) {
    if (s.locations.empty()) {
        s.locations.reserve(32);
    }
    s.locations.push_back({path, {}});
    s.locations.back().settings.where = {s.file, line, 1};
    return s.locations.back();
}

inline void set_handler(conf::block& b, std::vector<std::string> list, conf::phase p = conf::phase::content) {
    b.handlers[static_cast<std::size_t>(p)] = std::move(list);
}

inline route get(const conf::config& cfg, std::string_view target, const fs_view& fs,
                 std::string_view host = "www.example.com") {
    return resolve(cfg, {host, "GET", target}, fs);
}

}  // namespace subhttpd::hosts::testing

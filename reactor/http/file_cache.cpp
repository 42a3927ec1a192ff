#include "reactor/http/file_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace subhttpd::reactor::http {
namespace {

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

bool same_file(const file_cache::entry& e, const struct stat& st) {
    return S_ISREG(st.st_mode) && st.st_dev == e.dev && st.st_ino == e.ino &&
           static_cast<std::uint64_t>(st.st_size) == e.facts.size && same_time(st.st_mtim, e.mtim) &&
           same_time(st.st_ctim, e.ctim);
}

bool cacheable_method(std::string_view m) { return m == "GET" || m == "HEAD"; }

}  // namespace

void file_cache::key_of(const hosts::request_line& line) {
    key_.assign(line.host);
    key_ += '\n';
    key_ += line.method;
    key_ += '\n';
    key_ += line.target;
}

void file_cache::start(std::uint64_t generation) {
    if (generation != generation_) {
        map_.clear();
        generation_ = generation;
    }
}

const file_cache::entry* file_cache::find(std::uint64_t generation, const hosts::request_line& line) {
    start(generation);
    if (map_.empty() || !cacheable_method(line.method)) {
        return nullptr;
    }
    key_of(line);
    auto it = map_.find(key_);
    if (it == map_.end()) {
        return nullptr;
    }
    struct stat st {};
    if (::stat(it->second.route->filename.c_str(), &st) != 0 || !same_file(it->second, st)) {
        map_.erase(it);
        return nullptr;
    }
    return &it->second;
}

const file_cache::entry* file_cache::fill(std::uint64_t generation, const hosts::request_line& line,
                                          const std::shared_ptr<const hosts::route>& r, std::uint16_t site) {
    start(generation);
    if (r->kind != hosts::route_kind::static_file || !r->path_info.empty() || !cacheable_method(line.method) ||
        r->uri.empty() || r->uri.back() == '/' || r->output_filter.set) {
        return nullptr;
    }
    for (const auto& pr : r->phases) {
        if (pr.set) {
            return nullptr;  // Python runs for it
        }
    }
    // O_NOFOLLOW: a file reached through a final symlink is not kept (served afresh).
    int fd = ::open(r->filename.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) {
        return nullptr;
    }
    struct stat st {};
    entry e;
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) <= max_file_bytes;
    if (ok) {
        e.body.resize(static_cast<std::size_t>(st.st_size));
        ok = ::pread(fd, e.body.data(), e.body.size(), 0) == static_cast<ssize_t>(e.body.size());
    }
    ::close(fd);
    if (!ok) {
        return nullptr;
    }
    e.facts = facts_of(r->filename, static_cast<std::uint64_t>(st.st_size), st.st_mtime);
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    e.mtim = st.st_mtim;
    e.ctim = st.st_ctim;
    e.site = site;
    e.route = r;
    if (map_.size() >= max_entries) {
        map_.clear();
    }
    key_of(line);
    return &map_.insert_or_assign(key_, std::move(e)).first->second;
}

}  // namespace subhttpd::reactor::http

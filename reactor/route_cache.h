#pragma once
// route_cache: routes of Python-handled URLs, per config generation, kept for
// one second, so a repeated URL costs no routing (no stat, no realpath, no
// allocation). Only handler routes are kept: a static file is routed afresh
// (or found in reactor/http/file_cache.h, which checks the file on every use),
// so a file that appears, goes or turns into a symlink is judged on the spot.
// A new generation empties the cache. Loop thread only.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "conf/config.h"
#include "hosts/route.h"

namespace subhttpd::reactor {

class route_cache {
public:
    std::shared_ptr<const hosts::route> get(const conf::config& cfg, std::uint64_t generation,
                                            const hosts::request_line& line, double now);

private:
    struct entry {
        std::shared_ptr<const hosts::route> route;
        double expires = 0;
    };
    static constexpr std::size_t max_entries = 8192;
    static constexpr double ttl_seconds = 1.0;
    std::unordered_map<std::string, entry> map_;
    std::uint64_t generation_ = 0;
    std::string key_;  // reused buffer
};

}  // namespace subhttpd::reactor

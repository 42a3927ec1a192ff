#include "reactor/route_cache.h"

namespace subhttpd::reactor {

std::shared_ptr<const hosts::route> route_cache::get(const conf::config& cfg, std::uint64_t generation,
                                                     const hosts::request_line& line, double now) {
    if (generation != generation_) {
        map_.clear();
        generation_ = generation;
    }
    key_.assign(line.host);
    key_ += '\n';
    key_ += line.method;
    key_ += '\n';
    key_ += line.target;
    auto it = map_.find(key_);
    if (it != map_.end() && now < it->second.expires) {
        return it->second.route;
    }
    auto r = std::make_shared<const hosts::route>(hosts::resolve(cfg, line));
    if (r->kind == hosts::route_kind::handler) {
        if (map_.size() >= max_entries) {
            map_.clear();
        }
        map_[key_] = entry{r, now + ttl_seconds};
    } else if (it != map_.end()) {
        map_.erase(it);
    }
    return r;
}

}  // namespace subhttpd::reactor

#pragma once
// file_cache: small static files (up to 16 KiB) answered without routing,
// opening or reading. Per (Host, method, target) it keeps the route, the file's
// facts (type, ETag, Last-Modified) and its bytes, and checks them on every use
// with one stat(2) of the file: the same device, inode, size, mtime and ctime
// mean the same file under the same path, so its route still holds (a path
// turned into a symlink or replaced names another inode; chmod, chown and
// rename change ctime) and the kept bytes are its bytes. Anything else drops the
// entry and the request is routed afresh. A new config generation empties the
// cache. Loop thread only.
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "hosts/route.h"
#include "reactor/http/static_files.h"

namespace subhttpd::reactor::http {

class file_cache {
public:
    struct entry {
        std::shared_ptr<const hosts::route> route;
        std::uint16_t site = 0;  // the metrics' site id
        file_facts facts;
        std::string body;
        dev_t dev = 0;
        ino_t ino = 0;
        timespec mtim{};
        timespec ctim{};
    };

    // The still-valid entry for this request, or nullptr (one stat(2)).
    const entry* find(std::uint64_t generation, const hosts::request_line& line);

    // A route that serve_default would answer: kept (and returned) when it is a
    // small regular file reached without path_info by GET or HEAD, else nullptr.
    const entry* fill(std::uint64_t generation, const hosts::request_line& line,
                      const std::shared_ptr<const hosts::route>& r, std::uint16_t site);

    std::size_t size() const { return map_.size(); }

    static constexpr std::size_t max_file_bytes = 16 * 1024;
    static constexpr std::size_t max_entries = 1024;

private:
    void key_of(const hosts::request_line& line);
    void start(std::uint64_t generation);

    std::unordered_map<std::string, entry> map_;
    std::uint64_t generation_ = 0;
    std::string key_;  // reused buffer
};

}  // namespace subhttpd::reactor::http

// Placeholder until the loader lands (replaced by conf/ work in progress).
#include "conf/config.h"
namespace subhttpd::conf {
load_result load(const std::string& main_file) {
    load_result r;
    r.errors.push_back({{main_file, 1, 1}, "loader not built yet"});
    return r;
}
std::optional<listen_addr> parse_listen(std::string_view) { return std::nullopt; }
std::optional<std::uint64_t> parse_size(std::string_view) { return std::nullopt; }
std::optional<std::chrono::milliseconds> parse_duration(std::string_view) { return std::nullopt; }
}  // namespace subhttpd::conf

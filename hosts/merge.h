#pragma once
// Block merging, shared by route.cpp and merge.cpp only: the blocks a request
// falls in (site, directories, locations, shortest first) and what they merge
// into on the route -- settings, the phase handlers, the filters and each
// phase's interpreter (naming.h). Pure; any thread.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "hosts/route.h"

namespace subhttpd::hosts::merge_impl {

// True when `path` is `dir` or lies below it, by whole components.
bool is_within(std::string_view path, std::string_view dir);
// "/api" matches "/api", "/api/" and "/api/x", never "/apix".
bool location_matches(std::string_view prefix, std::string_view uri);
std::string parent_dir(std::string_view path);

struct merged_block {
    block_ref ref;
    const conf::block* settings = nullptr;
    std::string module_dir;
};

std::vector<merged_block> collect_blocks(const conf::site& site, const std::string& filename,
                                         const std::string& uri, bool with_directories);

struct merged_settings {
    std::optional<std::string> interpreter;
    std::optional<bool> per_directory;
    std::optional<bool> per_directive;
};

// The blocks' settings (debug, timeouts, options, auth, ...) onto the route;
// returns the naming settings as merged.
merged_settings apply_settings(route& r, const conf::config& cfg, const std::vector<merged_block>& blocks);

// Everything that depends on the blocks: settings, phases, filters, interpreter names.
void merge(route& r, const conf::config& cfg, const std::vector<merged_block>& blocks, bool filename_is_dir);

}  // namespace subhttpd::hosts::merge_impl

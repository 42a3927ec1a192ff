#pragma once
// conf-internal: typed reads of toml11 values that never throw and never stop at
// the first problem. Every mistake becomes one `error` pointing at the offending
// node, and the caller keeps going so `subhttpd check` can list them all.
// Not part of the public API; only conf/*.cpp include this.
#include <toml.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"

namespace subhttpd::conf::detail {

source_loc loc_of(const toml::value& v);
std::string type_name(const toml::value& v);  // "string", "integer", ... for messages

// Collects errors; one per config load.
class reporter {
public:
    void at(const source_loc& where, std::string message);
    void at(const toml::value& node, std::string message) { at(loc_of(node), std::move(message)); }
    std::vector<error>& errors() { return errors_; }

private:
    std::vector<error> errors_;
};

// Reports every key of `table` not in `allowed` as "unknown key 'k' in <context>".
void check_keys(reporter& rep, const toml::value& table,
                std::initializer_list<std::string_view> allowed, std::string_view context);

// Missing key -> nullptr. The table must already be known to be a table.
const toml::value* find_key(const toml::value& table, std::string_view key);

// Each getter reports a wrong type (or out-of-range value) and returns nullopt.
std::optional<std::string> get_string(reporter& rep, const toml::value& v, std::string_view key);
std::optional<std::string> get_nonempty_string(reporter& rep, const toml::value& v,
                                               std::string_view key);
std::optional<bool> get_bool(reporter& rep, const toml::value& v, std::string_view key);
// `autoreload`: true, false or "app". Sets both outputs; false (reported) on a bad value.
bool get_autoreload(reporter& rep, const toml::value& v, bool& on, bool& app);
std::optional<std::int64_t> get_int(reporter& rep, const toml::value& v, std::string_view key,
                                    std::int64_t min, std::int64_t max);
// An array of strings; a single string is accepted as a one-element list when
// `allow_single` (handler lists, listen, sites). Bad elements are reported one by one.
std::optional<std::vector<std::string>> get_string_list(reporter& rep, const toml::value& v,
                                                        std::string_view key,
                                                        bool allow_single = false);
std::optional<std::uint64_t> get_size(reporter& rep, const toml::value& v, std::string_view key);
std::optional<std::chrono::milliseconds> get_duration(reporter& rep, const toml::value& v,
                                                      std::string_view key);
// A table whose values are strings; integers, floats and booleans become their text.
std::optional<std::map<std::string, std::string>> get_string_table(reporter& rep,
                                                                  const toml::value& v,
                                                                  std::string_view key);

// `p` made absolute against `base_dir` and normalised; no trailing '/' except "/".
std::string resolve_path(const std::string& base_dir, const std::string& p);
std::string parent_dir(const std::string& absolute_file);

// Where a site's names and `default` flag were written, for the cross-site checks
// (unique names, one default) that can only run once every file is read.
struct site_marks {
    source_loc name;
    std::vector<source_loc> aliases;  // parallel to site::aliases
    source_loc default_flag;          // meaningful only when site::is_default
};

// Reads the value of a `site` key (an array of tables), in site.cpp. Appends one
// site and one site_marks per table that has a server_name.
void read_sites(reporter& rep, const toml::value& site_array, const std::string& file,
                std::vector<site>& out, std::vector<site_marks>& marks);

// [[process_group]] tables of the main file, and the check that every
// `process_group` a site or block names exists (conf/process_groups.cpp).
void read_process_groups(reporter& rep, const toml::value& array, std::vector<process_group>& out);
void check_process_group_refs(reporter& rep, const config& cfg);

}  // namespace subhttpd::conf::detail

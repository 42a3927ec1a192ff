// [[process_group]] tables (main file only) and the references to them from
// sites and blocks. A group's processes take the [server] fault keys
// (max_requests, max_rss, stall_timeout) like the workers do.
#include <set>

#include "conf/reader.h"

namespace subhttpd::conf::detail {

namespace {

// Letters, digits, '_', '-' and '.' only, at most `max` of them.
bool is_plain_word(const std::string& s, std::size_t max) {
    if (s.empty() || s.size() > max) {
        return false;
    }
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Group names become log words and status-page labels: keep them plain.
bool is_group_name(const std::string& s) { return is_plain_word(s, 64); }

// A Unix user or group name as useradd(8) accepts it, or a number.
bool is_account_name(const std::string& s) { return is_plain_word(s, 32) && s[0] != '-'; }

}  // namespace

void read_process_groups(reporter& rep, const toml::value& array, std::vector<process_group>& out) {
    if (!array.is_array()) {
        rep.at(array, "expected an array of tables for 'process_group' (write [[process_group]]), got " +
                          type_name(array));
        return;
    }
    std::set<std::string> names;
    for (const auto& t : array.as_array()) {
        if (!t.is_table()) {
            rep.at(t, "expected a table in 'process_group', got " + type_name(t));
            continue;
        }
        check_keys(rep, t, {"name", "processes", "user", "group"}, "[[process_group]]");
        process_group g;
        g.where = loc_of(t);
        const toml::value* nv = find_key(t, "name");
        if (nv == nullptr) {
            rep.at(t, "[[process_group]] needs a 'name'");
            continue;
        }
        auto name = get_nonempty_string(rep, *nv, "name");
        if (!name) {
            continue;
        }
        if (!is_group_name(*name)) {
            rep.at(*nv, "process_group name '" + *name + "' may hold only letters, digits, '_', '-' and '.'");
            continue;
        }
        if (!names.insert(*name).second) {
            rep.at(*nv, "duplicate process_group name '" + *name + "'");
            continue;
        }
        g.name = *name;
        if (auto* v = find_key(t, "processes")) {
            if (auto n = get_int(rep, *v, "processes", 1, 256)) {
                g.processes = static_cast<unsigned>(*n);
            }
        }
        for (auto [key, field] : {std::pair{"user", &g.user}, std::pair{"group", &g.group}}) {
            if (auto* v = find_key(t, key)) {
                if (auto s = get_nonempty_string(rep, *v, key)) {
                    if (!is_account_name(*s)) {
                        rep.at(*v, std::string(key) + " '" + *s + "' is not a Unix account name");
                    } else {
                        *field = *s;
                    }
                }
            }
        }
        out.push_back(std::move(g));
    }
}

void check_process_group_refs(reporter& rep, const config& cfg) {
    std::set<std::string> known;
    for (const auto& g : cfg.process_groups) {
        known.insert(g.name);
    }
    auto check = [&](const block& b) {
        if (b.process_group && known.count(*b.process_group) == 0) {
            std::string msg = "process_group '" + *b.process_group + "' is not defined";
            if (known.empty()) {
                msg += " (the main file has no [[process_group]] tables)";
            } else {
                msg += " (defined:";
                for (const auto& n : known) {
                    msg += " " + n;
                }
                msg += ")";
            }
            rep.at(b.process_group_where, msg);
        }
    };
    for (const auto& s : cfg.sites) {
        check(s.settings);
        for (const auto& d : s.directories) {
            check(d.settings);
        }
        for (const auto& l : s.locations) {
            check(l.settings);
        }
    }
}

}  // namespace subhttpd::conf::detail

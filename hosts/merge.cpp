// Block merging: the blocks a request falls in, merged into its route (see merge.h).
#include "hosts/merge.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "hosts/naming.h"

namespace subhttpd::hosts::merge_impl {

using conf::phase;

bool is_within(std::string_view path, std::string_view dir) {
    if (dir == "/") {
        return !path.empty() && path.front() == '/';
    }
    if (path.size() < dir.size() || path.compare(0, dir.size(), dir) != 0) {
        return false;
    }
    return path.size() == dir.size() || path[dir.size()] == '/';
}

bool location_matches(std::string_view prefix, std::string_view uri) {
    if (prefix.empty() || prefix == "/") {
        return true;
    }
    if (prefix.back() == '/') {
        prefix.remove_suffix(1);
    }
    return is_within(uri, prefix);
}

std::string parent_dir(std::string_view path) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0) {
        return "/";
    }
    return std::string(path.substr(0, slash));
}

std::vector<merged_block> collect_blocks(const conf::site& site, const std::string& filename,
                                         const std::string& uri, bool with_directories) {
    std::vector<merged_block> out;
    out.push_back({{block_ref::kind::site, "", site.settings.where}, &site.settings, site.document_root});
    if (with_directories) {
        std::vector<const conf::directory_block*> dirs;
        for (const auto& d : site.directories) {
            if (is_within(filename, d.path)) {
                dirs.push_back(&d);
            }
        }
        std::stable_sort(dirs.begin(), dirs.end(), [](const auto* a, const auto* b) {
            return a->path.size() < b->path.size();
        });
        for (const auto* d : dirs) {
            out.push_back({{block_ref::kind::directory, d->path, d->settings.where}, &d->settings, d->path});
        }
    }
    std::vector<const conf::location_block*> locs;
    for (const auto& l : site.locations) {
        if (location_matches(l.path, uri)) {
            locs.push_back(&l);
        }
    }
    std::stable_sort(locs.begin(), locs.end(), [](const auto* a, const auto* b) {
        return a->path.size() < b->path.size();
    });
    for (const auto* l : locs) {
        out.push_back({{block_ref::kind::location, l->path, l->settings.where}, &l->settings, site.document_root});
    }
    return out;
}

namespace {

template <typename T>
void take(std::optional<T>& into, const std::optional<T>& from) {
    if (from) {
        into = from;
    }
}

// The merged view of the non-handler keys; unset keys keep their defaults.


}  // namespace

merged_settings apply_settings(route& r, const conf::config& cfg, const std::vector<merged_block>& blocks) {
    merged_settings m;
    std::optional<bool> offload, debug, autoreload, autoreload_app;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::string> auth_type, auth_name, group;
    r.options.clear();
    r.matched.clear();
    for (const auto& b : blocks) {
        const conf::block& s = *b.settings;
        r.matched.push_back(b.ref);
        take(m.interpreter, s.interpreter);
        take(m.per_directory, s.interp_per_directory);
        take(m.per_directive, s.interp_per_directive);
        take(offload, s.offload);
        take(debug, s.debug);
        take(autoreload, s.autoreload);
        take(autoreload_app, s.autoreload_app);
        take(timeout, s.handler_timeout);
        take(auth_type, s.auth_type);
        take(auth_name, s.auth_name);
        take(group, s.process_group);
        for (const auto& [key, value] : s.options) {
            if (value.empty()) {
                r.options.erase(key);
            } else {
                r.options[key] = value;
            }
        }
    }
    r.offload = offload.value_or(false);
    r.debug = debug.value_or(cfg.python.debug);
    r.autoreload = autoreload.value_or(cfg.python.autoreload);
    r.autoreload_app = r.autoreload && autoreload_app.value_or(cfg.python.autoreload_app);
    r.handler_timeout = timeout.value_or(cfg.limits.handler_timeout);
    r.auth_type = auth_type.value_or("");
    r.auth_name = auth_name.value_or("");
    r.process_group = group.value_or("");
    return m;
}

namespace {


bool has_extension(std::string_view filename, std::string_view ext) {
    if (ext.empty()) {
        return false;
    }
    std::string dotted;
    if (ext.front() != '.') {
        dotted = ".";  // "py" is read as ".py"
    }
    dotted.append(ext);
    return filename.size() >= dotted.size() &&
           filename.compare(filename.size() - dotted.size(), dotted.size(), dotted) == 0;
}

std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) {
            ++pos;
        }
        std::size_t end = pos;
        while (end < s.size() && s[end] != ' ' && s[end] != '\t') {
            ++end;
        }
        if (end > pos) {
            out.push_back(s.substr(pos, end - pos));
        }
        pos = end;
    }
    return out;
}

// One written entry: "mod[::callable] [mod2 ...] [| .ext ...]", as
// Python*Handler takes it; entries whose extensions miss `filename` drop out.
void parse_entry(std::string_view entry, phase p, const std::string& filename,
                 std::vector<handler_entry>& out) {
    std::string_view names = entry;
    std::string_view exts;
    const auto bar = entry.find('|');
    if (bar != std::string_view::npos) {
        names = entry.substr(0, bar);
        exts = entry.substr(bar + 1);
        const auto ext_list = split_words(exts);
        const bool applies = std::any_of(ext_list.begin(), ext_list.end(),
                                         [&](std::string_view e) { return has_extension(filename, e); });
        if (!applies) {
            return;
        }
    }
    for (const auto word : split_words(names)) {
        handler_entry h;
        const auto sep = word.find("::");
        if (sep == std::string_view::npos) {
            h.module = std::string(word);
        } else {
            h.module = std::string(word.substr(0, sep));
            h.callable = std::string(word.substr(sep + 2));
        }
        if (h.callable.empty()) {
            h.callable = std::string(conf::phase_default_callable(p));
        }
        if (!h.module.empty()) {
            out.push_back(std::move(h));
        }
    }
}

void select_phases(route& r, const std::vector<merged_block>& blocks) {
    for (const phase p : conf::all_phases) {
        phase_route& pr = r.phases[static_cast<std::size_t>(p)];
        pr = phase_route{};
        const merged_block* from = nullptr;
        bool wsgi = false;
        for (const auto& b : blocks) {
            if (b.settings->handlers[static_cast<std::size_t>(p)]) {
                from = &b;
                wsgi = false;
            } else if (p == phase::content && b.settings->wsgi) {
                // In one block `handler` beats `wsgi`; across blocks the later one wins.
                from = &b;
                wsgi = true;
            }
        }
        if (from == nullptr) {
            continue;
        }
        if (wsgi) {
            pr.wsgi = *from->settings->wsgi;
            pr.set = !pr.wsgi.empty();
        } else {
            for (const auto& entry : *from->settings->handlers[static_cast<std::size_t>(p)]) {
                parse_entry(entry, p, r.filename, pr.handlers);
            }
            for (auto& h : pr.handlers) {
                h.silent = from->settings->silent[static_cast<std::size_t>(p)];
            }
            pr.set = !pr.handlers.empty();
        }
        if (pr.set) {
            pr.from = from->ref;
            pr.module_dir = from->module_dir;
        } else {
            pr.handlers.clear();
            pr.wsgi.clear();
        }
    }
}

// output_filter / input_filter: the last block that sets the key decides, as
// for a phase; entries are "module[::callable]" (callable: outputfilter / inputfilter).
void select_filter(phase_route& pr, const std::vector<merged_block>& blocks,
                   std::optional<std::vector<std::string>> conf::block::*key, std::string_view default_callable) {
    pr = phase_route{};
    const merged_block* from = nullptr;
    for (const auto& b : blocks) {
        if (b.settings->*key) {
            from = &b;
        }
    }
    if (from == nullptr) {
        return;
    }
    for (const auto& entry : *(from->settings->*key)) {
        handler_entry h;
        const auto sep = entry.find("::");
        h.module = entry.substr(0, sep);
        h.callable = sep == std::string::npos ? std::string(default_callable) : entry.substr(sep + 2);
        if (!h.module.empty()) {
            pr.handlers.push_back(std::move(h));
        }
    }
    pr.set = !pr.handlers.empty();
    if (pr.set) {
        pr.from = from->ref;
        pr.module_dir = from->module_dir;
    }
}

void name_interpreters(route& r, const merged_settings& m, bool filename_is_dir) {
    std::vector<phase_route*> all;
    for (auto& pr : r.phases) {
        all.push_back(&pr);
    }
    all.push_back(&r.output_filter);
    all.push_back(&r.input_filter);
    for (phase_route* p : all) {
        phase_route& pr = *p;
        if (!pr.set) {
            continue;
        }
        naming_input in;
        in.interpreter = m.interpreter ? std::string_view(*m.interpreter) : std::string_view();
        in.per_directory = m.per_directory.value_or(false);
        const std::string dir = filename_is_dir ? r.filename : parent_dir(r.filename);
        in.file_dir = dir;
        in.per_directive = m.per_directive.value_or(false);
        in.from = pr.from.type;
        in.from_path = pr.from.path;
        in.server_name = r.site->server_name;
        interp_choice c = name_interpreter(in);
        pr.interpreter = std::move(c.name);
        pr.rule = c.rule;
    }
}

}  // namespace

// Everything that depends on the blocks: settings, phases, interpreter names.
void merge(route& r, const conf::config& cfg, const std::vector<merged_block>& blocks, bool filename_is_dir) {
    const merged_settings m = apply_settings(r, cfg, blocks);
    select_phases(r, blocks);
    select_filter(r.output_filter, blocks, &conf::block::output_filters, "outputfilter");
    select_filter(r.input_filter, blocks, &conf::block::input_filters, "inputfilter");
    name_interpreters(r, m, filename_is_dir);
}

}  // namespace subhttpd::hosts::merge_impl

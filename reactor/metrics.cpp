#include "reactor/metrics.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <tuple>

#include "common/clock.h"

namespace subhttpd::reactor::metrics {

using u64 = std::uint64_t;
using cell64 = std::atomic<u64>;

// ---------------------------------------------------------------- shared layout

struct site_cell {
    char name[name_bytes];
    cell64 buckets[bucket_bounds.size() + 1];
    cell64 count;
    cell64 sum_micros;
    cell64 bytes;
};
struct code_cell {
    std::atomic<std::uint32_t> code;  // 0: free; 1: "other"
    cell64 count;
};
struct series_cell {
    std::atomic<std::uint32_t> site;
    char interpreter[name_bytes];
    code_cell codes[max_codes];
};
struct slot {
    std::atomic<std::int64_t> pid;  // 0: free
    std::atomic<std::int32_t> place;
    std::atomic<std::uint32_t> sites_used;   // published after the cell's name (release)
    std::atomic<std::uint32_t> series_used;
    cell64 counters[counter_count];
    cell64 gauges[gauge_count];
    site_cell sites[max_sites];
    series_cell series[max_series];
};
struct region {
    cell64 seq;  // odd while the supervisor folds a slot
    std::size_t slots;  // worker slots; slot[slots] is the retired one
    std::atomic<std::int64_t> supervisor_pid;
    cell64 supervisor_gauges[gauge_count];
    cell64 supervisor_cpu_micros;
    cell64 restarts;
    cell64 recycles;
    cell64 stalls;
    double last_tick;  // supervisor only
    slot* at(std::size_t i) { return reinterpret_cast<slot*>(reinterpret_cast<char*>(this + 1) + i * sizeof(slot)); }
};

namespace {

region* shared_region = nullptr;  // mapped by the supervisor, inherited by its workers
std::size_t own_index = 0;        // set by assign() before fork: this worker's slot
int own_place = -1;

// Single writer per cell: no read-modify-write instruction needed.
inline void add(cell64& c, u64 d) { c.store(c.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
inline void set(cell64& c, u64 v) { c.store(v, std::memory_order_relaxed); }
inline u64 get(const cell64& c) { return c.load(std::memory_order_relaxed); }

void copy_name(char* dst, std::string_view s) {
    std::size_t n = std::min(s.size(), name_bytes - 1);
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

region* map_region(std::size_t slots, bool shared) {
    std::size_t bytes = sizeof(region) + (slots + 1) * sizeof(slot);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return nullptr;
    }
    // Fresh anonymous pages are zero: every atomic starts at 0, every name at "".
    auto* r = static_cast<region*>(p);
    r->slots = slots;
    return r;
}

// The "_other_" site and series cells: the last of each, named on first use.
// Cells are handed out only while one remains for them, so they are never a real one.
std::uint16_t overflow_site(slot& s) {
    if (s.sites_used.load(std::memory_order_relaxed) < max_sites) {
        copy_name(s.sites[max_sites - 1].name, overflow_name);
        s.sites_used.store(max_sites, std::memory_order_release);
    }
    return max_sites - 1;
}

std::uint16_t overflow_series(slot& s) {
    if (s.series_used.load(std::memory_order_relaxed) < max_series) {
        s.series[max_series - 1].site.store(overflow_site(s), std::memory_order_relaxed);
        copy_name(s.series[max_series - 1].interpreter, overflow_name);
        s.series_used.store(max_series, std::memory_order_release);
    }
    return max_series - 1;
}

void zero(slot& s) { std::memset(static_cast<void*>(&s), 0, sizeof s); }

double unix_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// ---------------------------------------------------------------- reading

struct series_key {
    std::string site, interpreter;
    bool operator<(const series_key& o) const { return std::tie(site, interpreter) < std::tie(o.site, o.interpreter); }
};
struct totals {
    std::map<std::string, site_view> sites;
    std::map<series_key, std::map<int, u64>> series;
};

void read_slot(slot& s, totals& t) {
    // Series first: a series is published after its site, so every series
    // counted here finds its site's name below.
    std::uint32_t n_series = std::min<std::uint32_t>(s.series_used.load(std::memory_order_acquire), max_series);
    std::uint32_t n_sites = std::min<std::uint32_t>(s.sites_used.load(std::memory_order_acquire), max_sites);
    std::vector<std::string> names(n_sites);
    for (std::uint32_t i = 0; i < n_sites; ++i) {
        site_cell& c = s.sites[i];
        names[i] = std::string(c.name, strnlen(c.name, name_bytes));
        site_view& v = t.sites[names[i]];
        v.name = names[i];
        for (std::size_t b = 0; b < v.buckets.size(); ++b) {
            v.buckets[b] += get(c.buckets[b]);
        }
        v.count += get(c.count);
        v.sum_micros += get(c.sum_micros);
        v.bytes += get(c.bytes);
    }
    for (std::uint32_t i = 0; i < n_series; ++i) {
        series_cell& c = s.series[i];
        std::uint32_t site = c.site.load(std::memory_order_relaxed);
        series_key k{site < n_sites ? names[site] : std::string(overflow_name),
                     std::string(c.interpreter, strnlen(c.interpreter, name_bytes))};
        auto& codes = t.series[k];
        for (const code_cell& cc : c.codes) {
            std::uint32_t code = cc.code.load(std::memory_order_acquire);
            if (code != 0) {
                codes[code == 1 ? 0 : static_cast<int>(code)] += get(cc.count);
            }
        }
    }
}

process_view read_process(slot& s) {
    process_view p;
    p.pid = static_cast<long>(s.pid.load(std::memory_order_relaxed));
    p.place = s.place.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < counter_count; ++i) {
        p.counters[i] = get(s.counters[i]);
    }
    for (unsigned i = 0; i < gauge_count; ++i) {
        p.gauges[i] = get(s.gauges[i]);
    }
    return p;
}

view read_region(region& r) {
    view v;
    for (int attempt = 0;; ++attempt) {
        u64 before = r.seq.load(std::memory_order_acquire);
        if ((before & 1) != 0 && attempt < 10000) {
            sched_yield();
            continue;
        }
        v = view{};
        totals t;
        for (std::size_t i = 0; i <= r.slots; ++i) {
            slot& s = *r.at(i);
            bool retired = i == r.slots;
            if (!retired && s.pid.load(std::memory_order_acquire) == 0) {
                continue;
            }
            read_slot(s, t);
            process_view p = read_process(s);
            for (unsigned c = 0; c < counter_count; ++c) {
                v.totals[c] += p.counters[c];
            }
            if (!retired) {
                v.workers.push_back(p);
            }
        }
        v.supervisor.pid = static_cast<long>(r.supervisor_pid.load(std::memory_order_relaxed));
        for (unsigned i = 0; i < gauge_count; ++i) {
            v.supervisor.gauges[i] = get(r.supervisor_gauges[i]);
        }
        v.supervisor.counters[c_cpu_micros] = get(r.supervisor_cpu_micros);
        v.restarts = get(r.restarts);
        v.recycles = get(r.recycles);
        v.stalls = get(r.stalls);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (r.seq.load(std::memory_order_relaxed) != before && attempt < 10000) {
            continue;  // a slot was folded meanwhile: read again
        }
        for (auto& [name, s] : t.sites) {
            v.sites.push_back(std::move(s));
        }
        for (auto& [k, codes] : t.series) {
            series_view s{k.site, k.interpreter, {}};
            for (const auto& [code, n] : codes) {
                s.codes.emplace_back(code, n);
            }
            v.series.push_back(std::move(s));
        }
        break;
    }
    std::sort(v.workers.begin(), v.workers.end(), [](const process_view& a, const process_view& b) {
        return std::tie(a.place, a.pid) < std::tie(b.place, b.pid);
    });
    return v;
}

// ---------------------------------------------------------------- folding (supervisor)

std::uint32_t retired_site(slot& r, const char* name) {
    std::uint32_t n = r.sites_used.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (std::strncmp(r.sites[i].name, name, name_bytes) == 0) {
            return i;
        }
    }
    if (n + 1 >= max_sites) {
        return overflow_site(r);
    }
    copy_name(r.sites[n].name, std::string_view(name, strnlen(name, name_bytes)));
    r.sites_used.store(n + 1, std::memory_order_release);
    return n;
}

void fold(slot& from, slot& into) {
    std::uint32_t n_sites = std::min<std::uint32_t>(from.sites_used.load(), max_sites);
    std::vector<std::uint32_t> map(n_sites);
    for (std::uint32_t i = 0; i < n_sites; ++i) {
        site_cell& f = from.sites[i];
        map[i] = retired_site(into, f.name);
        site_cell& t = into.sites[map[i]];
        for (std::size_t b = 0; b < bucket_bounds.size() + 1; ++b) {
            add(t.buckets[b], get(f.buckets[b]));
        }
        add(t.count, get(f.count));
        add(t.sum_micros, get(f.sum_micros));
        add(t.bytes, get(f.bytes));
    }
    std::uint32_t n_series = std::min<std::uint32_t>(from.series_used.load(), max_series);
    for (std::uint32_t i = 0; i < n_series; ++i) {
        series_cell& f = from.series[i];
        std::uint32_t site = f.site.load();
        std::uint32_t to_site = site < n_sites ? map[site] : max_sites - 1;
        std::uint32_t used = into.series_used.load();
        std::uint32_t j = 0;
        for (; j < used; ++j) {
            if (into.series[j].site.load() == to_site &&
                std::strncmp(into.series[j].interpreter, f.interpreter, name_bytes) == 0) {
                break;
            }
        }
        if (j == used) {
            if (used + 1 >= max_series) {
                j = overflow_series(into);
            } else {
                into.series[j].site.store(to_site);
                copy_name(into.series[j].interpreter, std::string_view(f.interpreter, strnlen(f.interpreter, name_bytes)));
                into.series_used.store(used + 1, std::memory_order_release);
            }
        }
        series_cell& t = into.series[j];
        for (const code_cell& fc : f.codes) {
            std::uint32_t code = fc.code.load();
            if (code == 0) {
                continue;
            }
            code_cell* target = &t.codes[max_codes - 1];
            for (std::size_t k = 0; k + 1 < max_codes; ++k) {
                std::uint32_t have = t.codes[k].code.load();
                if (have == code || have == 0) {
                    target = &t.codes[k];
                    break;
                }
            }
            if (target->code.load() == 0) {
                target->code.store(target == &t.codes[max_codes - 1] ? 1 : code, std::memory_order_release);
            }
            add(target->count, get(fc.count));
        }
    }
    for (unsigned c = 0; c < counter_count; ++c) {
        add(into.counters[c], get(from.counters[c]));
    }
}

}  // namespace

// ---------------------------------------------------------------- supervisor side

bool map_shared(std::size_t slots) {
    shared_region = map_region(slots, true);
    if (shared_region == nullptr) {
        return false;
    }
    shared_region->supervisor_pid.store(getpid());
    set(shared_region->supervisor_gauges[g_started], static_cast<u64>(unix_now()));
    supervisor_tick();
    return true;
}

void assign(std::size_t index, unsigned place) {
    if (shared_region == nullptr || index >= shared_region->slots) {
        return;
    }
    own_index = index;
    own_place = static_cast<int>(place);
}

void worker_ended(std::size_t index, ending why) {
    region* r = shared_region;
    if (r == nullptr || index >= r->slots) {
        return;
    }
    switch (why) {
        case ending::recycled: add(r->recycles, 1); break;
        case ending::stalled: add(r->stalls, 1); break;
        case ending::crashed: add(r->restarts, 1); break;
        case ending::stopped: break;
    }
    slot& s = *r->at(index);
    r->seq.fetch_add(1, std::memory_order_acq_rel);  // odd: readers wait
    std::atomic_thread_fence(std::memory_order_seq_cst);
    fold(s, *r->at(r->slots));
    zero(s);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    r->seq.fetch_add(1, std::memory_order_acq_rel);
}

void supervisor_tick() {
    region* r = shared_region;
    if (r == nullptr) {
        return;
    }
    double now = mono_now();
    if (r->last_tick != 0 && now - r->last_tick < 1.0) {
        return;
    }
    r->last_tick = now;
    own_process p = read_own_process();
    set(r->supervisor_gauges[g_rss_bytes], p.rss_bytes);
    set(r->supervisor_gauges[g_open_fds], p.open_fds);
    set(r->supervisor_cpu_micros, p.cpu_micros);
}

own_process read_own_process() {
    own_process p;
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        p.cpu_micros = static_cast<u64>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
                       static_cast<u64>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    }
    if (FILE* f = std::fopen("/proc/self/statm", "re")) {
        unsigned long size = 0, resident = 0;
        if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
            p.rss_bytes = static_cast<u64>(resident) * static_cast<u64>(sysconf(_SC_PAGESIZE));
        }
        std::fclose(f);
    }
    if (DIR* d = opendir("/proc/self/fd")) {
        u64 n = 0;
        while (dirent* e = readdir(d)) {
            n += e->d_name[0] != '.' ? 1 : 0;
        }
        closedir(d);
        p.open_fds = n > 0 ? n - 1 : 0;  // less the one opendir holds
    }
    return p;
}

// ---------------------------------------------------------------- worker side

recorder::recorder() {
    if (shared_region == nullptr) {
        // No supervisor: this process alone, in private memory.
        shared_region = map_region(1, false);
        if (shared_region == nullptr) {
            throw std::bad_alloc();
        }
        shared_region->supervisor_pid.store(0);
        own_index = 0;
        own_place = 0;
    }
    slot_ = shared_region->at(own_index);
    zero(*slot_);
    slot_->place.store(own_place);
    copy_name(slot_->sites[no_site].name, "");
    slot_->sites_used.store(1, std::memory_order_release);
    set(slot_->gauges[g_started], static_cast<u64>(unix_now()));
    slot_->pid.store(getpid(), std::memory_order_release);
}

std::uint16_t recorder::cell_for_site(std::string_view name) {
    auto it = site_cells_.find(std::string(name));
    if (it != site_cells_.end()) {
        return it->second;
    }
    std::uint32_t used = slot_->sites_used.load(std::memory_order_relaxed);
    std::uint16_t cell;
    if (used + 1 >= max_sites) {
        return overflow_site(*slot_);  // not remembered: asked again at the next reload only
    }
    cell = static_cast<std::uint16_t>(used);
    copy_name(slot_->sites[cell].name, name);
    slot_->sites_used.store(used + 1, std::memory_order_release);
    site_cells_.emplace(std::string(name), cell);
    return cell;
}

void recorder::on_config(const conf::config& c) {
    cfg_ = &c;
    by_index_.clear();
    for (const conf::site& s : c.sites) {
        by_index_.push_back(cell_for_site(s.server_name));
    }
}

std::uint16_t recorder::site_id(const conf::config& c, const conf::site* s) const {
    if (s == nullptr || &c != cfg_ || c.sites.empty()) {
        return no_site;
    }
    auto i = static_cast<std::size_t>(s - c.sites.data());
    return i < by_index_.size() ? by_index_[i] : no_site;
}

std::string_view recorder::site_name(std::uint16_t site) const {
    if (site >= max_sites || site == no_site) {
        return "";
    }
    const char* n = slot_->sites[site].name;
    return std::string_view(n, strnlen(n, name_bytes));
}

std::uint16_t recorder::cell_for_series(std::uint16_t site, std::string_view interpreter) {
    last_used& l = last_[site];
    if (l.set && l.interpreter == interpreter) {
        return l.series;  // the common case: a site's requests run in one interpreter
    }
    std::string key;
    key.reserve(interpreter.size() + 3);
    key += static_cast<char>(site & 0xff);
    key += static_cast<char>(site >> 8);
    key += interpreter;
    std::uint16_t cell;
    auto it = series_cells_.find(key);
    if (it != series_cells_.end()) {
        cell = it->second;
    } else {
        std::uint32_t used = slot_->series_used.load(std::memory_order_relaxed);
        if (used + 1 >= max_series) {
            cell = overflow_series(*slot_);
        } else {
            cell = static_cast<std::uint16_t>(used);
            slot_->series[cell].site.store(site);
            copy_name(slot_->series[cell].interpreter, interpreter);
            slot_->series_used.store(used + 1, std::memory_order_release);
            series_cells_.emplace(std::move(key), cell);
        }
    }
    l.interpreter.assign(interpreter.data(), interpreter.size());
    l.series = cell;
    l.set = true;
    return cell;
}

void recorder::finished(std::uint16_t site, std::string_view interpreter, int code, std::uint64_t bytes,
                        double seconds) {
    if (site >= max_sites) {
        site = no_site;
    }
    site_cell& s = slot_->sites[site];
    std::size_t b = 0;
    while (b < bucket_bounds.size() && seconds > bucket_bounds[b]) {
        ++b;
    }
    add(s.buckets[b], 1);
    add(s.count, 1);
    add(s.sum_micros, seconds > 0 ? static_cast<u64>(seconds * 1e6 + 0.5) : 0);
    add(s.bytes, bytes);
    std::uint16_t cell = cell_for_series(site, interpreter);
    if (cell == max_series - 1 || site == max_sites - 1) {
        ++overflow_;
    }
    series_cell& sc = slot_->series[cell];
    auto want = static_cast<std::uint32_t>(code >= 100 && code <= 999 ? code : 1);
    code_cell* target = &sc.codes[max_codes - 1];
    for (std::size_t k = 0; k + 1 < max_codes; ++k) {
        std::uint32_t have = sc.codes[k].code.load(std::memory_order_relaxed);
        if (have == want) {
            target = &sc.codes[k];
            break;
        }
        if (have == 0) {
            target = &sc.codes[k];
            target->code.store(want, std::memory_order_release);
            break;
        }
    }
    if (target == &sc.codes[max_codes - 1] && target->code.load(std::memory_order_relaxed) == 0) {
        target->code.store(1, std::memory_order_release);  // "other"
    }
    add(target->count, 1);
}

void recorder::reloaded(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }

void recorder::publish(const worker_figures& f, bool process) {
    cell64* c = slot_->counters;
    set(c[c_requests], f.requests);
    set(c[c_connections], f.connections);
    set(c[c_log_write_failures], f.log_write_failures);
    set(c[c_fd_exhausted], f.fd_exhausted);
    set(c[c_state_restored], f.state_restored);
    set(c[c_reloads_ok], reloads_ok_);
    set(c[c_reloads_failed], reloads_failed_);
    set(c[c_overflow], overflow_);
    cell64* g = slot_->gauges;
    set(g[g_in_flight], f.in_flight);
    set(g[g_connections_open], f.connections_open);
    set(g[g_pool_threads], f.pool_threads);
    set(g[g_pool_busy], f.pool_busy);
    set(g[g_pool_queued], f.pool_queued);
    set(g[g_generation], f.generation);
    set(g[g_started], static_cast<u64>(f.started));
    set(g[g_last_reload], static_cast<u64>(f.last_reload));
    set(g[g_last_reload_ok], f.last_reload_ok ? 1 : 0);
    set(g[g_recycling], f.recycling ? 1 : 0);
    if (process) {
        own_process p = read_own_process();
        set(g[g_rss_bytes], p.rss_bytes);
        set(g[g_open_fds], p.open_fds);
        set(c[c_cpu_micros], p.cpu_micros);
    }
}

view recorder::read() const {
    view v = read_region(*shared_region);
    v.shared = shared_region->supervisor_pid.load() != 0;
    return v;
}

}  // namespace subhttpd::reactor::metrics

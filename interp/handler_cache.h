#pragma once
// handler_cache: the one cache of resolved callables, per interpreter, used by
// mod_python handler dispatch and the WSGI adapter alike. An entry stays fresh
// until its re-check time and while the files it was loaded from keep their
// mtimes (autoreload). On a miss the resolver runs Python, during which the GIL
// may pass to another thread that uses the same cache: no iterator or reference
// into the map is held across it, and callers get a new reference, so a
// concurrent replacement never frees a callable in use. GIL of the interpreter
// held for every call.
#include <Python.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "interp/py_ref.h"

namespace subhttpd::interp {

struct cached_callable {
    py::ref callable;
    double next_check = 1e300;  // monotonic seconds: resolve again from then on
    std::vector<std::pair<std::string, std::int64_t>> files;  // path, st_mtime in ns; re-stat()ed per use
};

class handler_cache {
public:
    // The cached callable for `key` (new reference) when still fresh; else the
    // result of `resolve(cached_callable&)`, which fills the entry and returns
    // false with a Python error set on failure (the key is then forgotten).
    template <class Resolve>
    py::ref get(const std::string& key, Resolve&& resolve) {
        if (py::ref hit = find_fresh(key)) {
            return hit;
        }
        cached_callable fresh;
        if (!resolve(fresh)) {  // Python runs here: the map may change under us
            map_.erase(key);
            return {};
        }
        py::ref out = fresh.callable;
        map_.insert_or_assign(key, std::move(fresh));
        return out;
    }

    void clear() { map_.clear(); }

private:
    py::ref find_fresh(const std::string& key) const;

    std::unordered_map<std::string, cached_callable> map_;
};

}  // namespace subhttpd::interp

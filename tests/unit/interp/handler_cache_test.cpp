// handler_cache: a hit until the re-check time or a changed module file; a
// failed resolve forgets the key; a resolver that re-enters the cache (as
// Python code on another thread may) does not break the entry it returns.
#include "interp/handler_cache.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::reg;

std::int64_t mtime_ns(const std::string& path) {
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0) {
        return -1;
    }
    return static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
}

class handler_cache_test : public ::testing::Test {
protected:
    void SetUp() override {
        scope_.emplace(reg().main());
        std::string tmpl = (std::filesystem::temp_directory_path() / "handler_cache.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        file_ = dir_ + "/mod.py";
        std::ofstream(file_) << "x = 1\n";
    }
    void TearDown() override {
        cache_.clear();
        scope_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // A resolver that makes a fresh object each call and counts the calls.
    auto maker(double next_check = 1e300, bool with_file = false) {
        return [this, next_check, with_file](cached_callable& c) {
            ++resolves_;
            c.callable = py::ref::steal(PyList_New(0));
            c.next_check = next_check;
            if (with_file) {
                c.files.emplace_back(file_, mtime_ns(file_));
            }
            return static_cast<bool>(c.callable);
        };
    }

    std::optional<scope> scope_;
    handler_cache cache_;
    std::string dir_, file_;
    int resolves_ = 0;
};

TEST_F(handler_cache_test, a_hit_returns_the_same_object_without_resolving) {
    py::ref a = cache_.get("k", maker());
    ASSERT_TRUE(a);
    py::ref b = cache_.get("k", maker());
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(resolves_, 1);
    py::ref other = cache_.get("k2", maker());
    EXPECT_NE(other.get(), a.get());
    EXPECT_EQ(resolves_, 2);
}

TEST_F(handler_cache_test, callers_get_a_new_reference) {
    py::ref a = cache_.get("k", maker());
    Py_ssize_t held = Py_REFCNT(a.get());
    py::ref b = cache_.get("k", maker());
    EXPECT_EQ(Py_REFCNT(a.get()), held + 1);
    cache_.clear();  // the cache lets go; the callers' references keep it alive
    EXPECT_EQ(Py_REFCNT(a.get()), held);
    EXPECT_TRUE(PyList_Check(b.get()));
}

TEST_F(handler_cache_test, a_failed_resolve_forgets_the_key_and_keeps_the_error) {
    py::ref a = cache_.get("k", maker());
    auto fail = [this](cached_callable&) {
        ++resolves_;
        PyErr_SetString(PyExc_ImportError, "no module");
        return false;
    };
    cache_.clear();
    py::ref none = cache_.get("k", fail);
    EXPECT_FALSE(none);
    EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_ImportError));
    PyErr_Clear();
    py::ref again = cache_.get("k", maker());  // not a cached failure
    EXPECT_TRUE(again);
    EXPECT_EQ(resolves_, 3);
}

TEST_F(handler_cache_test, a_failure_replacing_a_stale_entry_drops_it) {
    py::ref a = cache_.get("k", maker(mono_now() - 1));  // stale at once
    auto fail = [](cached_callable&) {
        PyErr_SetString(PyExc_RuntimeError, "x");
        return false;
    };
    EXPECT_FALSE(cache_.get("k", fail));
    PyErr_Clear();
    py::ref b = cache_.get("k", maker());
    EXPECT_NE(a.get(), b.get());
}

TEST_F(handler_cache_test, the_recheck_time_ends_freshness) {
    py::ref a = cache_.get("k", maker(mono_now() + 3600));
    EXPECT_EQ(cache_.get("k", maker()).get(), a.get());
    py::ref stale = cache_.get("s", maker(mono_now() - 0.001));
    py::ref re = cache_.get("s", maker());
    EXPECT_NE(re.get(), stale.get());
    EXPECT_EQ(resolves_, 3);
}

TEST_F(handler_cache_test, a_changed_module_file_is_a_miss) {
    py::ref a = cache_.get("k", maker(1e300, true));
    EXPECT_EQ(cache_.get("k", maker(1e300, true)).get(), a.get());
    // A different mtime (set explicitly: no waiting on the clock).
    struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 678}};
    ASSERT_EQ(utimensat(AT_FDCWD, file_.c_str(), times, 0), 0);
    py::ref b = cache_.get("k", maker(1e300, true));
    EXPECT_NE(b.get(), a.get());
    EXPECT_EQ(cache_.get("k", maker(1e300, true)).get(), b.get());  // fresh again with the new mtime
    EXPECT_EQ(resolves_, 2);
}

TEST_F(handler_cache_test, a_deleted_module_file_is_a_miss) {
    py::ref a = cache_.get("k", maker(1e300, true));
    std::filesystem::remove(file_);
    int before = resolves_;
    py::ref b = cache_.get("k", maker(1e300, false));
    EXPECT_NE(b.get(), a.get());
    EXPECT_EQ(resolves_, before + 1);
}

TEST_F(handler_cache_test, a_resolver_that_uses_the_cache_itself) {
    // While Python runs the resolver another thread may fill or clear the same
    // map: the entry this call made is still the one returned, intact.
    py::ref inner;
    auto reentrant = [&](cached_callable& c) {
        inner = cache_.get("k", maker());  // the same key, filled meanwhile
        for (int i = 0; i < 100; ++i) {
            cache_.get("other" + std::to_string(i), maker());  // rehashes the map
        }
        c.callable = py::ref::steal(PyDict_New());
        return true;
    };
    py::ref out = cache_.get("k", reentrant);
    ASSERT_TRUE(out);
    EXPECT_TRUE(PyDict_Check(out.get()));
    EXPECT_TRUE(PyList_Check(inner.get()));
    EXPECT_EQ(cache_.get("k", maker()).get(), out.get());  // the outer result replaced the inner one

    auto clearing = [&](cached_callable& c) {
        cache_.clear();
        c.callable = py::ref::steal(PyTuple_New(0));
        return true;
    };
    py::ref t = cache_.get("k2", clearing);
    EXPECT_TRUE(PyTuple_Check(t.get()));
    EXPECT_EQ(cache_.get("k2", maker()).get(), t.get());
}

}  // namespace
}  // namespace subhttpd::interp

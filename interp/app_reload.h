#pragma once
// app_reload: autoreload = "app" (the dev-mode default for WSGI apps). Watches,
// with inotify, every folder under an app's roots (its site's document_root and
// python_path, the folder its `wsgi` is looked up in) and remembers which files
// changed under the roots of each interpreter name. The registry asks, before
// handing out an interpreter, whether a change is pending for its name; whether
// the change matters (a loaded module, a template) is decided in Python, by the
// registry. No Python here. note(): any thread (mutex); take_changes(): loop thread.
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace subhttpd::interp {

class app_reload {
public:
    app_reload() = default;
    app_reload(const app_reload&) = delete;
    app_reload& operator=(const app_reload&) = delete;
    ~app_reload();

    // Interpreter `name` serves an app whose sources live under `roots`
    // (absolute folders). Cheap after the first call for a (name, root).
    void note(const std::string& name, const std::vector<std::string>& roots);

    // Is `name` tracked at all (some request in app mode ran in it)?
    bool tracked(const std::string& name) const;

    // Reads the pending inotify events, then returns (and forgets) the files
    // changed under `name`'s roots since the last call. An overflowed queue
    // gives {"*"}: assume everything changed.
    std::vector<std::string> take_changes(const std::string& name);

    // A fresh interpreter for `name` starts with nothing pending.
    void clear(const std::string& name);

    std::size_t watched_dirs() const;

private:
    void drain_locked();
    void watch_tree_locked(const std::string& root);
    bool watch_dir_locked(const std::string& dir);

    mutable std::mutex mu_;
    int fd_ = -1;
    bool failed_ = false;  // inotify unavailable: logged once, app reload off
    std::unordered_map<int, std::string> dirs_;           // watch descriptor -> folder
    std::unordered_set<std::string> watched_;             // folders with a watch
    std::unordered_set<std::string> roots_done_;          // roots already walked
    std::unordered_map<std::string, std::vector<std::string>> roots_;    // name -> roots
    std::unordered_map<std::string, std::vector<std::string>> pending_;  // name -> changed files
};

// Removes the cached byte code of `py_file` (__pycache__/<stem>.*.pyc): a source
// edited within the same second at the same size would otherwise look unchanged.
void drop_bytecode(const std::string& py_file);

}  // namespace subhttpd::interp

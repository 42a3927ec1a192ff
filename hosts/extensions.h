#pragma once
// extensions: what `subhttpd check` warns about before any request runs —
// two sites whose PythonImport (`import = [...]`) load the same C extension
// that accepts only one interpreter per process (numpy, lxml, cryptography,
// PyYAML's and msgpack's C parts, ...) into two different interpreters: the
// second one would fail (or, for PyYAML and msgpack, silently fall back to pure
// Python). Pure; any thread.
#include <string>
#include <vector>

#include "conf/config.h"

namespace subhttpd::hosts {

// Whether the top-level package `name` is known to refuse a second interpreter.
bool single_interpreter_package(const std::string& name);

// One "file:line:col: warning: ..." text per conflict.
std::vector<std::string> shared_extension_warnings(const conf::config& cfg);

}  // namespace subhttpd::hosts

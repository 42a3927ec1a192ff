// libFuzzer target for conf::load: the input is the main TOML file, next to a
// fixed tree of site files (valid ones under sites.d/, broken ones under
// extra.d/) in a temp dir made once per process. Besides "no crash, no
// sanitizer report", every result must keep config.h's promises: errors XOR a
// snapshot, errors that name a file and a position, absolute normalised paths.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <toml.hpp>

#include "conf/config.h"

namespace {

namespace fs = std::filesystem;
using subhttpd::conf::load;
using subhttpd::conf::to_string;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_config: invariant broken: %s\n", what.c_str());
    std::abort();
}

void write_file(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) {
        fail("cannot write " + path.string());
    }
}

// The site files a fuzzed main file can reach with its `sites` globs.
fs::path make_tree() {
    char templ[] = "/tmp/subhttpd-fuzz-config.XXXXXX";
    if (mkdtemp(templ) == nullptr) {
        fail("mkdtemp");
    }
    const fs::path root = templ;
    for (const char* dir : {"sites.d", "sites.d/folder.toml", "extra.d", "htdocs/app/sub",
                            "htdocs/static", "api", "lib"}) {
        fs::create_directories(root / dir);
    }
    write_file(root / "sites.d/www.toml", R"([[site]]
server_name = "www.example.com"
aliases = ["example.com", "*.example.org"]
default = true
document_root = "../htdocs"
index = ["index.html", "index.py"]
python_path = ["../lib"]
options = { db = "sqlite:///x", n = 3 }
import = ["warmup", "db::connect"]
env = { MODE = "dev" }

[[site.directory]]
path = "app"
handler = ["hello", "other::run | .py"]
fixup_handler = "auth::fixup"
interp_per_directory = true
handler_timeout = "250ms"
options = { db = "" }

[[site.location]]
path = "/api/"
wsgi = "myapp.wsgi:application"
interpreter = "shared"
)");
    write_file(root / "sites.d/api.toml", R"([[site]]
server_name = "API.example.net"
document_root = "/tmp"
interp_per_directive = true
auth_type = "Basic"
auth_name = "api"

[[site]]
server_name = "[::1]"
document_root = "../api"
)");
    write_file(root / "extra.d/broken.toml", "[[site]\nserver_name = \"x\"\n");
    write_file(root / "extra.d/dup.toml",
               "[[site]]\nserver_name = \"www.example.com\"\ndocument_root = \"../htdocs\"\n"
               "default = true\n[other]\nkey = 1\n");
    write_file(root / "extra.d/missing_root.toml",
               "[[site]]\nserver_name = \"gone.example.com\"\ndocument_root = \"nowhere\"\n"
               "[[site.directory]]\npath = \"/nowhere/else\"\n");
    return root;
}

// A glob may only name files inside the tree: no absolute pattern, no "..", no
// glob escapes (a pattern like "/dev/*" would read /dev/zero forever).
bool glob_stays_inside(const toml::value& v) {
    if (v.is_string()) {
        const std::string& s = v.as_string().str;
        return !s.starts_with('/') && s.find("..") == std::string::npos &&
               s.find('\\') == std::string::npos;
    }
    if (v.is_array()) {
        for (const auto& e : v.as_array()) {
            if (!glob_stays_inside(e)) {
                return false;
            }
        }
    }
    return true;
}

// The same check as the loader's (conf/config.cpp): toml11 must never see
// what the loader refuses, since it reads out of bounds on some of it.
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c < 0xC2 || c > 0xF4 || i + n > s.size()) {
            return false;
        }
        std::uint32_t cp = c & (0x3F >> (n - 1));
        for (std::size_t k = 1; k < n; ++k) {
            const auto t = static_cast<unsigned char>(s[i + k]);
            if ((t & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (t & 0x3F);
        }
        if (cp < (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n;
    }
    return true;
}

bool input_is_safe(std::string_view data) {
    if (!valid_utf8(data)) {
        return true;  // the loader refuses it before parsing, so it reads no site file
    }
    try {
        std::istringstream in{std::string(data)};
        const toml::value root = toml::parse(in, "fuzz.toml");
        if (!root.is_table() || root.as_table().count("server") == 0) {
            return true;
        }
        const toml::value& server = root.as_table().at("server");
        if (!server.is_table() || server.as_table().count("sites") == 0) {
            return true;
        }
        return glob_stays_inside(server.as_table().at("sites"));
    } catch (...) {
        return true;  // the loader cannot parse it either, so it reads no site file
    }
}

bool normalised_absolute(const std::string& p) {
    if (p.empty() || p.front() != '/') {
        return false;
    }
    if (p == "/") {
        return true;
    }
    return p.back() != '/' && p.find("//") == std::string::npos &&
           p.find("/./") == std::string::npos && p.find("/../") == std::string::npos &&
           !p.ends_with("/.") && !p.ends_with("/..");
}

bool lower_case(const std::string& s) {
    for (const char c : s) {
        if (c >= 'A' && c <= 'Z') {
            return false;
        }
    }
    return true;
}

void check(const subhttpd::conf::load_result& r, const std::string& main_file) {
    if (r.files.empty() || r.files.front() != main_file) {
        fail("files does not start with the main file");
    }
    if (!r.ok()) {
        if (r.cfg) {
            fail("a snapshot was handed out despite errors");
        }
        for (const auto& e : r.errors) {
            if (e.where.file.empty() || e.where.line < 1 || e.where.column < 1 ||
                e.message.empty()) {
                fail("error without a position or a message: '" + to_string(e) + "'");
            }
        }
        return;
    }
    if (!r.cfg) {
        fail("no errors and no snapshot");
    }
    const auto& cfg = *r.cfg;
    for (const auto& g : cfg.server.site_globs) {
        if (g.empty() || g.front() != '/') {
            fail("relative site glob '" + g + "'");
        }
    }
    for (const auto& p : cfg.python.path) {
        if (!normalised_absolute(p)) {
            fail("python.path entry '" + p + "'");
        }
    }
    for (const auto& s : cfg.sites) {
        if (s.server_name.empty() || !lower_case(s.server_name)) {
            fail("server_name '" + s.server_name + "'");
        }
        for (const auto& a : s.aliases) {
            if (!lower_case(a)) {
                fail("alias '" + a + "'");
            }
        }
        if (!normalised_absolute(s.document_root)) {
            fail("document_root '" + s.document_root + "'");
        }
        for (const auto& p : s.python_path) {
            if (!normalised_absolute(p)) {
                fail("site python_path entry '" + p + "'");
            }
        }
        for (const auto& d : s.directories) {
            if (!normalised_absolute(d.path)) {
                fail("directory path '" + d.path + "'");
            }
        }
        for (const auto& l : s.locations) {
            if (l.path.empty() || l.path.front() != '/' || (l.path.size() > 1 && l.path.back() == '/')) {
                fail("location path '" + l.path + "'");
            }
        }
    }
}

fs::path tree_root;

void remove_tree() {
    std::error_code ec;
    fs::remove_all(tree_root, ec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fs::path root = [] {
        tree_root = make_tree();
        std::atexit(remove_tree);
        return tree_root;
    }();
    static const std::string main_file = (root / "server.toml").string();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!input_is_safe(text)) {
        return -1;  // not added to the corpus
    }
    write_file(main_file, text);
    check(load(main_file), main_file);
    return 0;
}

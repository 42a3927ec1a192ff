#pragma once
// Runs a WSGI app, written to a fresh folder per case, through run_wsgi over
// the recording exchange of request_fixture.h: a case gives the app's source
// and reads back the code, the response and (for apps that print it) the body.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "interp/wsgi.h"
#include "request_fixture.h"

namespace subhttpd::interp::testing {

class wsgi_test : public request_test {
protected:
    void SetUp() override {
        request_test::SetUp();
        std::string tmpl = (std::filesystem::temp_directory_path() / "wsgi_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = std::filesystem::canonical(tmpl).string();
        ex_.method_ = "GET";
        ex_.body_.clear();
        ex_.peer_.remote_ip = "192.0.2.9";
        ex_.peer_.remote_port = 40000;
        ex_.peer_.local_ip = "127.0.0.1";
        ex_.peer_.local_port = 8080;
        pr_.set = true;
        pr_.module_dir = dir_;
        pr_.interpreter = "request-tests";
    }
    void TearDown() override {
        request_test::TearDown();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // Writes `source` as <dir>/wsgiappN.py (a new module each call: apps are
    // cached per spec) and runs "wsgiappN:application".
    int call(const std::string& source) {
        std::string name = "wsgiapp" + std::to_string(++apps_);
        std::ofstream(dir_ + "/" + name + ".py") << source;
        pr_.wsgi = name + ":application";
        error_.clear();
        return run_wsgi(*in_, ctx_, pr_, nullptr, error_);
    }
    // The file the last call() wrote.
    std::string app_file() const { return dir_ + "/wsgiapp" + std::to_string(apps_) + ".py"; }

    // An app that answers with the ascii() repr of environ[key] for each key (one per line).
    static std::string echo_env(const std::string& keys) {
        return "KEYS = " + keys +
               "\n"
               "def application(environ, start_response):\n"
               "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
               "    return [('%s=%a\\n' % (k, environ.get(k, '<absent>'))).encode() for k in KEYS]\n";
    }
    // The line "KEY=repr" the echo app wrote for `key`.
    std::string env_line(const std::string& key) const {
        std::size_t at = ex_.out.find(key + "=");
        while (at != std::string::npos && at != 0 && ex_.out[at - 1] != '\n') {
            at = ex_.out.find(key + "=", at + 1);
        }
        if (at == std::string::npos) {
            return "<no line>";
        }
        std::size_t end = ex_.out.find('\n', at);
        return ex_.out.substr(at + key.size() + 1, end - at - key.size() - 1);
    }

    std::string dir_;
    hosts::phase_route pr_;
    std::string error_;
    int apps_ = 0;
};

}  // namespace subhttpd::interp::testing

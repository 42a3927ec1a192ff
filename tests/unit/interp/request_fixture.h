#pragma once
// A mod_python `req` object over a recording exchange, in a subinterpreter of
// the test registry: the fixture binds it to `req` in __main__, so a case reads
// as the Python a handler would write.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "../fake_exchange.h"
#include "../hosts/fixtures.h"
#include "interp/module.h"
#include "python_fixture.h"

namespace subhttpd::interp::testing {

class request_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string err;
        in_ = reg().get("request-tests", &err);
        ASSERT_NE(in_, nullptr) << err;
        site_ = hosts::testing::make_site("www.example.com", "/srv/www");
        site_.settings.options = {{"mode", "test"}};
        route_.kind = hosts::route_kind::handler;
        route_.site = &site_;
        ex_.method_ = "POST";
        ex_.target_ = "/app/hello.py/extra?a=1&b=2";
        ex_.host_ = "WWW.Example.COM:8080";
        ex_.headers_ = {{"Host", "WWW.Example.COM:8080"}, {"Accept", "text/plain"}, {"X-Multi", "one"},
                        {"Cookie", "a=1"}, {"x-multi", "two"}, {"Cookie", "b=2"}};
        ex_.body_ = "line 1\nline 2\nlast";
        ctx_.ex = &ex_;
        ctx_.cfg = &cfg_;
        ctx_.route = &route_;
        ctx_.uri = "/app/hello.py";
        ctx_.filename = "/srv/www/app/hello.py";
        ctx_.path_info = "/extra";
        ctx_.args = "a=1&b=2";
        ctx_.main_name = "request-tests";
        ctx_.handler_name = "mod_python";
        scope_.emplace(*in_);
        py::ref req = py::ref::steal(new_request(in_->module(), &ctx_));
        ASSERT_TRUE(req) << py::take_error_text();
        ASSERT_EQ(PyDict_SetItemString(main_dict(), "req", req.get()), 0);
        req_ = req;
    }
    void TearDown() override {
        PyErr_Clear();
        PyDict_DelItemString(main_dict(), "req");
        PyErr_Clear();
        req_.reset();
        scope_.reset();
    }

    // Runs statements: "" or the exception's last line ("ValueError: ...").
    std::string run(const std::string& code) {
        py::ref r = py::ref::steal(PyRun_String(code.c_str(), Py_file_input, main_dict(), main_dict()));
        if (r) {
            return "";
        }
        std::string t = py::take_error_text();
        while (!t.empty() && t.back() == '\n') {
            t.pop_back();
        }
        std::size_t nl = t.rfind('\n');
        return nl == std::string::npos ? t : t.substr(nl + 1);
    }
    // repr(eval(expr)), or "error: <last line>".
    std::string val(const std::string& expr) {
        py::ref v = eval(expr);
        if (!v) {
            std::string t = py::take_error_text();
            while (!t.empty() && t.back() == '\n') {
                t.pop_back();
            }
            return "error: " + t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
        }
        py::ref s = py::ref::steal(PyObject_Repr(v.get()));
        std::string out;
        py::to_string(s.get(), out);
        return out;
    }

    interpreter* in_ = nullptr;
    conf::config cfg_;
    conf::site site_;
    hosts::route route_;
    subhttpd::testing::fake_exchange ex_;
    request_ctx ctx_;
    std::optional<scope> scope_;
    py::ref req_;
};

}  // namespace subhttpd::interp::testing

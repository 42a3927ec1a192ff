// The native `subhttpd` module: one instance per interpreter with its own
// state (name, request type), mod_python's names re-exported, and _log's
// lines carrying the interpreter's name and level.
#include "interp/module.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::reg;

std::string eval_str(interpreter& in, const std::string& expr) {
    scope s(in);
    py::ref v = testing::eval(expr);
    if (!v) {
        return "error: " + py::take_error_text();
    }
    py::ref r = py::ref::steal(PyObject_Str(v.get()));
    std::string out;
    py::to_string(r.get(), out);
    return out;
}

TEST(subhttpd_module, one_instance_and_one_request_type_per_interpreter) {
    std::string err;
    interpreter* a = reg().get("module-a", &err);
    interpreter* b = reg().get("module-b", &err);
    ASSERT_TRUE(a && b) << err;
    EXPECT_NE(a->module(), b->module());
    EXPECT_NE(get_module_state(a->module())->request_type, get_module_state(b->module())->request_type);
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd').interpreter_name()"), "module-a");
    EXPECT_EQ(eval_str(*b, "__import__('subhttpd').interpreter_name()"), "module-b");
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd') is __import__('sys').modules['subhttpd']"), "True");
}

TEST(subhttpd_module, set_interpreter_name_changes_what_it_reports) {
    std::string err;
    interpreter* a = reg().get("module-rename", &err);
    ASSERT_NE(a, nullptr) << err;
    {
        scope s(*a);
        set_interpreter_name(a->module(), "renamed");
    }
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd').interpreter_name()"), "renamed");
}

TEST(subhttpd_module, mod_python_names_are_there) {
    std::string err;
    interpreter* a = reg().get("module-names", &err);
    ASSERT_NE(a, nullptr) << err;
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd').OK"), "0");
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd').DECLINED"), "-1");
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd').HTTP_NOT_FOUND"), "404");
    EXPECT_EQ(eval_str(*a, "issubclass(__import__('subhttpd').SERVER_RETURN, Exception)"), "True");
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd').request.__name__"), "request");
    // A req made from Python belongs to no request: every use is a clear error, never a crash.
    EXPECT_EQ(eval_str(*a, "repr(__import__('subhttpd').request())"), "<subhttpd.request (finished)>");
    EXPECT_NE(eval_str(*a, "__import__('subhttpd').request().uri")
                  .find("RuntimeError: the request is finished; this req object can no longer be used"),
              std::string::npos);
    EXPECT_NE(eval_str(*a, "__import__('subhttpd').request().write('x')").find("RuntimeError"), std::string::npos);
}

TEST(subhttpd_module, log_lines_carry_interpreter_and_level) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "module_log.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    const std::string file = tmpl + "/error.log";
    ASSERT_EQ(log::open(file, "off"), "");
    std::string err;
    interpreter* a = reg().get("module-log", &err);
    ASSERT_NE(a, nullptr) << err;
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd')._log('error', 'bad thing')"), "None");
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd')._log('warn', b'bytes too')"), "None");
    EXPECT_EQ(eval_str(*a, "__import__('subhttpd')._log('whatever', 'unknown level is info')"), "None");
    EXPECT_NE(eval_str(*a, "__import__('subhttpd')._log('error')").find("TypeError: _log(level, message)"),
              std::string::npos);
    EXPECT_NE(eval_str(*a, "__import__('subhttpd')._log('error', 5)").find("TypeError"), std::string::npos);
    log::open("-", "-");
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    EXPECT_NE(text.find("[error] [python] [interp module-log] bad thing\n"), std::string::npos) << text;
    EXPECT_NE(text.find("[warn] [python] [interp module-log] bytes too\n"), std::string::npos) << text;
    EXPECT_NE(text.find("[info] [python] [interp module-log] unknown level is info\n"), std::string::npos) << text;
    std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace subhttpd::interp

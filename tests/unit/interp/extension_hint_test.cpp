// extension_refusal_hint: an extension refusing this interpreter (in the error
// or its chain) gets a hint naming the package, the interpreter, the block and
// the fix, plus the interpreter that already holds it; anything else gets "".
// The error stays set either way.
#include "interp/extension_hint.h"

#include <gtest/gtest.h>

#include "python_fixture.h"

namespace subhttpd::interp {
namespace {

using testing::raise_from;
using testing::reg;

class extension_hint_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string err;
        in_ = reg().get("hint-site", &err);
        ASSERT_NE(in_, nullptr) << err;
        scope_.emplace(*in_);
    }
    void TearDown() override {
        PyErr_Clear();
        scope_.reset();
    }
    std::string hint(bool look_around = false) {
        std::string h = extension_refusal_hint(*in_, &reg(), "sites.d/a.toml:5:1", look_around);
        EXPECT_NE(PyErr_Occurred(), nullptr) << "the error was cleared";
        return h;
    }
    interpreter* in_ = nullptr;
    std::optional<scope> scope_;
};

TEST_F(extension_hint_test, no_error_no_hint) {
    EXPECT_EQ(extension_refusal_hint(*in_, &reg(), "x", true), "");
    EXPECT_EQ(PyErr_Occurred(), nullptr);
}

TEST_F(extension_hint_test, ordinary_errors_get_none) {
    raise_from("raise ImportError('No module named fancy', name='fancy')");
    EXPECT_EQ(hint(), "");
    PyErr_Clear();
    raise_from("raise ValueError('subinterpreter')");  // the words, but not an import-ish error
    EXPECT_EQ(hint(), "");
}

TEST_F(extension_hint_test, a_refusal_names_package_interpreter_block_and_fix) {
    raise_from("raise ImportError('module fancy does not support loading in subinterpreters', name='fancy')");
    std::string h = hint();
    EXPECT_NE(h.find("the C extension 'fancy' cannot be loaded into this interpreter ('hint-site')"),
              std::string::npos)
        << h;
    EXPECT_NE(h.find("serve sites.d/a.toml:5:1 from the main interpreter (interpreter = \"main_interpreter\")"),
              std::string::npos)
        << h;
    EXPECT_NE(h.find("main_imports"), std::string::npos);
    EXPECT_NE(h.find("process_group"), std::string::npos);
    EXPECT_EQ(h.find("has already loaded it"), std::string::npos);
    EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_ImportError));
}

TEST_F(extension_hint_test, found_in_the_chain) {
    raise_from("try:\n    raise RuntimeError('Interpreter change detected - this module can only be loaded into "
               "one interpreter per process.')\nexcept RuntimeError as e:\n"
               "    raise ImportError('cannot import name x', name='fancy') from e\n");
    EXPECT_NE(hint().find("C extension"), std::string::npos);
}

TEST_F(extension_hint_test, the_interpreter_that_holds_it_is_named) {
    // Another interpreter has "imported" the package already.
    std::string err;
    interpreter* other = reg().get("hint-owner", &err);
    ASSERT_NE(other, nullptr) << err;
    {
        scope s(*other);
        ASSERT_EQ(testing::exec("import sys, types\nsys.modules['fancypkg'] = types.ModuleType('fancypkg')\n"), "");
    }
    raise_from("raise ImportError('fancypkg: may only be initialized once per interpreter process', name='fancypkg')");
    std::string h = hint(true);
    EXPECT_NE(h.find("'fancypkg'"), std::string::npos) << h;
    EXPECT_NE(h.find("and interpreter 'hint-owner' has already loaded it"), std::string::npos) << h;
    EXPECT_EQ(PyThreadState_Get(), in_->loop_tstate());  // back in the caller's interpreter
    // Without look_around, nobody else is visited.
    EXPECT_EQ(hint(false).find("has already loaded it"), std::string::npos);
}

}  // namespace
}  // namespace subhttpd::interp

// The WSGI runner: results as lists, tuples, generators (streamed) and file
// wrappers, HEAD, close() always called, errors before and after the headers
// (500 vs a broken response), apps that cannot be loaded.
#include <gtest/gtest.h>

#include "wsgi_fixture.h"

namespace subhttpd::interp {
namespace {

using wsgi_run = testing::wsgi_test;

TEST_F(wsgi_run, a_list_is_buffered) {
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                   "    return [b'hello, ', bytearray(b'world'), b'']\n"),
              -2)
        << error_;
    EXPECT_TRUE(ex_.finished_);
    EXPECT_FALSE(ex_.streaming_);
    EXPECT_EQ(ex_.out, "hello, world");
    EXPECT_EQ(ex_.header("Content-Type"), "text/plain");
    EXPECT_EQ(ctx_.status, 200);
}

TEST_F(wsgi_run, a_generator_streams_block_by_block) {
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [])\n"
                   "    yield b''\n"  // headers wait for the first non-empty block
                   "    yield b'one '\n"
                   "    yield b'two'\n"),
              -2)
        << error_;
    EXPECT_TRUE(ex_.streaming_);
    EXPECT_TRUE(ex_.finished_);
    EXPECT_EQ(ex_.out, "one two");
}

TEST_F(wsgi_run, head_never_streams) {
    ex_.method_ = "HEAD";
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [])\n"
                   "    yield b'12345'\n"),
              -2)
        << error_;
    EXPECT_FALSE(ex_.streaming_);
    EXPECT_EQ(ex_.header("Content-Length"), "5");  // the buffered body's length is kept for HEAD
}

TEST_F(wsgi_run, close_is_called_after_success_and_after_failure) {
    const std::string app =
        "import builtins\n"
        "builtins.closed = []\n"
        "class Body:\n"
        "    def __init__(self, fail):\n"
        "        self.fail = fail\n"
        "    def __iter__(self):\n"
        "        if self.fail:\n"
        "            raise RuntimeError('iteration failed')\n"
        "        yield b'body'\n"
        "    def close(self):\n"
        "        builtins.closed.append(self.fail)\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return Body(environ['QUERY_STRING'] == 'fail')\n";
    ASSERT_EQ(call(app), -2) << error_;
    EXPECT_EQ(ex_.out, "body");
    ctx_.args = "fail";
    subhttpd::testing::fake_exchange second;
    ctx_.ex = &second;
    EXPECT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), 500);
    EXPECT_NE(error_.find("RuntimeError: iteration failed"), std::string::npos) << error_;
    EXPECT_EQ(val("closed"), "[False, True]");
    ctx_.ex = &ex_;
    EXPECT_EQ(run("import builtins\ndel builtins.closed"), "");
}

TEST_F(wsgi_run, an_error_before_the_headers_is_a_500_and_drops_output) {
    EXPECT_EQ(call("def application(environ, start_response):\n"
                   "    write = start_response('200 OK', [])\n"
                   "    raise KeyError('broken')\n"),
              500);
    EXPECT_NE(error_.find("KeyError: 'broken'"), std::string::npos) << error_;
    EXPECT_FALSE(ex_.finished_);  // the dispatcher answers the 500
    EXPECT_EQ(ex_.out, "");
}

TEST_F(wsgi_run, an_error_after_streaming_started_breaks_the_response) {
    EXPECT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [])\n"
                   "    yield b'partial'\n"
                   "    yield b' more'\n"
                   "    raise ValueError('mid-stream')\n"),
              -2);
    EXPECT_NE(error_.find("ValueError: mid-stream"), std::string::npos) << error_;
    EXPECT_TRUE(ex_.aborted);   // the client sees a truncated answer, not a complete one
    EXPECT_FALSE(ex_.finished_);
    EXPECT_EQ(ex_.out, "partial more");
}

TEST_F(wsgi_run, returning_without_start_response) {
    EXPECT_EQ(call("def application(environ, start_response):\n"
                   "    return []\n"),
              500);
    EXPECT_NE(error_.find("returned without calling start_response()"), std::string::npos) << error_;
}

TEST_F(wsgi_run, blocks_must_be_bytes) {
    EXPECT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [])\n"
                   "    return ['text']\n"),
              500);
    EXPECT_NE(error_.find("TypeError: the application must yield bytes, not str"), std::string::npos) << error_;
}

TEST_F(wsgi_run, an_app_that_cannot_be_loaded) {
    pr_.wsgi = "no_such_module_here:application";
    EXPECT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), 500);
    EXPECT_NE(error_.find("no_such_module_here"), std::string::npos) << error_;
    std::ofstream(dir_ + "/noapp.py") << "x = 1\n";
    pr_.wsgi = "noapp:application";
    EXPECT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), 500);
    EXPECT_NE(error_.find("has no attribute 'application'"), std::string::npos) << error_;
    std::ofstream(dir_ + "/broken_syntax.py") << "def application(:\n";
    pr_.wsgi = "broken_syntax:application";
    EXPECT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), 500);
    EXPECT_NE(error_.find("SyntaxError"), std::string::npos) << error_;
    EXPECT_FALSE(ex_.finished_);
}

TEST_F(wsgi_run, a_wsgi_script_file) {
    std::ofstream(dir_ + "/site.wsgi") << "def application(environ, start_response):\n"
                                          "    start_response('200 OK', [])\n"
                                          "    return [b'from a .wsgi file']\n";
    pr_.wsgi = "site.wsgi";
    ASSERT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), -2) << error_;
    EXPECT_EQ(ex_.out, "from a .wsgi file");
}

TEST_F(wsgi_run, the_app_is_cached_per_interpreter) {
    const std::string app =
        "import builtins\n"
        "builtins.loads = getattr(builtins, 'loads', 0) + 1\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [b'x']\n";
    ASSERT_EQ(call(app), -2) << error_;
    for (int i = 0; i < 3; ++i) {
        subhttpd::testing::fake_exchange again;
        ctx_.ex = &again;
        ASSERT_EQ(run_wsgi(*in_, ctx_, pr_, nullptr, error_), -2) << error_;
        EXPECT_EQ(again.out, "x");
    }
    ctx_.ex = &ex_;
    EXPECT_EQ(val("loads"), "1");
    EXPECT_EQ(run("import builtins\ndel builtins.loads"), "");
}

TEST_F(wsgi_run, a_file_wrapper_is_sent_as_a_file) {
    const std::string file = dir_ + "/data.bin";
    std::ofstream(file) << "0123456789";
    ASSERT_EQ(call("def application(environ, start_response):\n"
                   "    start_response('200 OK', [('Content-Length', '4')])\n"
                   "    return environ['wsgi.file_wrapper'](open(" + std::string("'") + file + "', 'rb'))\n"),
              -2)
        << error_;
    ASSERT_EQ(ex_.files.size(), 1u);
    // The file itself, or its open descriptor's path (the wrapper holds it open).
    EXPECT_TRUE(ex_.files[0].path == file || ex_.files[0].path.rfind("/proc/self/fd/", 0) == 0) << ex_.files[0].path;
    EXPECT_EQ(ex_.files[0].offset, 0u);
    EXPECT_EQ(ex_.files[0].length, 4u);  // no more than the app's Content-Length
}

TEST_F(wsgi_run, a_paused_stream_resumes_to_the_end) {
    wsgi_stream_ptr paused;
    std::ofstream(dir_ + "/gen.py") << "def application(environ, start_response):\n"
                                       "    start_response('200 OK', [])\n"
                                       "    for i in range(3):\n"
                                       "        yield b'%d;' % i\n";
    pr_.wsgi = "gen:application";
    int code = run_wsgi(*in_, ctx_, pr_, nullptr, error_, {}, &paused);
    ASSERT_EQ(code, wsgi_paused) << error_;
    ASSERT_TRUE(paused);
    EXPECT_EQ(ex_.out, "0;");
    int rounds = 0;
    while (code == wsgi_paused && rounds++ < 10) {
        code = resume_wsgi(*in_, ctx_, pr_, error_, {}, paused);
    }
    EXPECT_EQ(code, -2) << error_;
    EXPECT_EQ(ex_.out, "0;1;2;");
    EXPECT_TRUE(ex_.finished_);
    EXPECT_FALSE(paused);
}

}  // namespace
}  // namespace subhttpd::interp

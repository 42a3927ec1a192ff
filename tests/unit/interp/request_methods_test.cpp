// req's methods: body reads (sizes, lines, hints), write (str, bytes, buffers,
// flush), the buffered-size guard, content length, mtime, allowed methods,
// options, sendfile checks, argument errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "request_fixture.h"

namespace subhttpd::interp {
namespace {

using request_methods = testing::request_test;

TEST_F(request_methods, read_all_or_some) {
    EXPECT_EQ(val("req.read(4)"), "b'line'");
    EXPECT_EQ(val("req.remaining"), "14");
    EXPECT_EQ(val("req.read()"), "b' 1\\nline 2\\nlast'");
    EXPECT_EQ(val("req.read()"), "b''");
    EXPECT_EQ(val("req.read(10)"), "b''");
}

TEST_F(request_methods, read_sizes_none_zero_negative) {
    EXPECT_EQ(val("req.read(0)"), "b''");
    EXPECT_EQ(val("req.read(None)"), "b'line 1\\nline 2\\nlast'");
    ex_.pos_ = 0;
    EXPECT_EQ(val("req.read(-1)"), "b'line 1\\nline 2\\nlast'");
    EXPECT_EQ(val("req.read('x')").rfind("error: TypeError", 0), 0u);
}

TEST_F(request_methods, readline_and_readlines) {
    EXPECT_EQ(val("req.readline()"), "b'line 1\\n'");
    EXPECT_EQ(val("req.readline(3)"), "b'lin'");
    EXPECT_EQ(val("req.readline()"), "b'e 2\\n'");
    EXPECT_EQ(val("req.readline()"), "b'last'");
    EXPECT_EQ(val("req.readline()"), "b''");
    ex_.pos_ = 0;
    EXPECT_EQ(val("req.readlines()"), "[b'line 1\\n', b'line 2\\n', b'last']");
    ex_.pos_ = 0;
    EXPECT_EQ(val("req.readlines(3)"), "[b'line 1\\n']");  // stops once the hint is reached
}

TEST_F(request_methods, discard_request_body) {
    EXPECT_EQ(val("req.discard_request_body()"), "0");
    EXPECT_EQ(ex_.body_remaining(), 0u);
}

TEST_F(request_methods, write_str_bytes_and_buffers) {
    EXPECT_EQ(run("req.write('h\\u00e9')\nreq.write(b'\\x00\\xff')\nreq.write(bytearray(b'ba'))\n"
                  "req.write(memoryview(b'mv'))\nreq.write('')"),
              "");
    EXPECT_EQ(ex_.out, std::string("h\xc3\xa9\x00\xff" "bamv", 9));
    EXPECT_EQ(val("req.bytes_sent"), "9");
    EXPECT_EQ(run("req.write(5)"), "TypeError: write() takes str or bytes, not int");
    EXPECT_EQ(run("req.write()"), "TypeError: write() needs the data to write");
    EXPECT_EQ(run("req.write('\\udcff')").rfind("UnicodeEncodeError", 0), 0u);
    EXPECT_EQ(ex_.out.size(), 9u);
}

TEST_F(request_methods, flush_asks_the_dispatcher_to_stream) {
    int flushes = 0;
    ctx_.on_flush = [&] { ++flushes; };
    EXPECT_EQ(run("req.write('a')"), "");  // flush=1 is mod_python's default
    EXPECT_EQ(flushes, 1);
    EXPECT_EQ(run("req.write('b', 0)\nreq.write('c', flush=False)"), "");
    EXPECT_EQ(flushes, 1);
    EXPECT_EQ(run("req.flush()"), "");
    EXPECT_EQ(flushes, 2);
    EXPECT_EQ(ex_.out, "abc");
}

TEST_F(request_methods, a_buffered_response_has_a_ceiling) {
    // Nothing to stream to (no on_flush): past the bound the handler is told.
    struct big_exchange final : subhttpd::testing::fake_exchange {
        std::size_t bytes_written() const override { return max_buffered_response - 2; }
    };
    big_exchange big;
    ctx_.ex = &big;
    EXPECT_EQ(run("req.write('ab', 0)"), "");
    std::string e = run("req.write('abc', 0)");
    EXPECT_EQ(e.rfind("OSError: response too large to buffer", 0), 0u) << e;
    ctx_.ex = &ex_;
}

TEST_F(request_methods, content_length_and_mtime) {
    EXPECT_EQ(run("req.set_content_length(1234)"), "");
    EXPECT_EQ(ctx_.content_length, 1234);
    EXPECT_EQ(val("req.clength"), "1234");
    EXPECT_EQ(run("req.set_content_length('x')").rfind("TypeError", 0), 0u);
    EXPECT_EQ(run("req.set_content_length()"), "TypeError: set_content_length(length)");
    EXPECT_EQ(run("req.update_mtime(1000.7)\nreq.update_mtime(500)"), "");
    EXPECT_EQ(ctx_.mtime, 1000);  // only ever later
    EXPECT_EQ(val("req.mtime"), "1000");
    EXPECT_EQ(run("req.update_mtime(2000)"), "");
    EXPECT_EQ(ctx_.mtime, 2000);
    EXPECT_EQ(run("req.update_mtime('soon')").rfind("TypeError", 0), 0u);
}

TEST_F(request_methods, allow_methods_accumulates_or_resets) {
    EXPECT_EQ(run("req.allow_methods(['GET', 'HEAD'])\nreq.allow_methods(('POST',))"), "");
    EXPECT_EQ(ctx_.allowed_methods, "GET, HEAD, POST");
    EXPECT_EQ(run("req.allow_methods(['PUT'], 1)"), "");
    EXPECT_EQ(ctx_.allowed_methods, "PUT");
    EXPECT_EQ(run("req.allow_methods(5)"), "TypeError: allow_methods() takes a sequence of method names");
    EXPECT_EQ(run("req.allow_methods()"), "TypeError: allow_methods(methods[, reset])");
}

TEST_F(request_methods, options_and_document_root) {
    route_.options = {{"mode", "test"}, {"level", "3"}};
    EXPECT_EQ(val("req.get_options()['mode']"), "'test'");
    EXPECT_EQ(val("req.get_options()['level']"), "'3'");
    EXPECT_EQ(val("req.document_root()"), "'/srv/www'");
}

TEST_F(request_methods, sendfile_checks_the_file_first) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "req_sendfile.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    const std::string file = tmpl + "/f.txt";
    std::ofstream(file) << "0123456789";
    ASSERT_EQ(PyDict_SetItemString(testing::main_dict(), "path", py::ref::steal(py::str(file)).get()), 0);
    EXPECT_EQ(run("req.sendfile(path, 2, 3)"), "");
    ASSERT_FALSE(ex_.files.empty());
    EXPECT_EQ(ex_.files.back().offset, 2u);
    EXPECT_EQ(ex_.files.back().length, 3u);
    EXPECT_EQ(run("req.sendfile(path, 4)"), "");
    EXPECT_EQ(ex_.files.back().length, 6u);  // to the end
    EXPECT_EQ(run("req.sendfile(path, 11)"), "ValueError: offset beyond the end of the file");
    EXPECT_EQ(run("req.sendfile(path + '.missing')").rfind("OSError: Could not stat file for reading", 0), 0u);
    EXPECT_EQ(run("req.sendfile()"), "TypeError: sendfile(path[, offset[, len]])");
    std::filesystem::remove_all(tmpl);
}

TEST_F(request_methods, internal_redirect_needs_a_path_and_a_dispatcher) {
    EXPECT_EQ(run("req.internal_redirect('relative')"),
              "ValueError: internal_redirect() needs a path starting with '/'");
    EXPECT_EQ(run("req.internal_redirect('/other')"), "RuntimeError: internal_redirect() is not available here");
    std::string target;
    ctx_.on_internal_redirect = [&](const std::string& uri) {
        target = uri;
        return true;
    };
    EXPECT_EQ(run("req.internal_redirect('/other?x=1')"), "");
    EXPECT_EQ(target, "/other?x=1");
}

TEST_F(request_methods, cleanups_are_registered_in_order) {
    EXPECT_EQ(run("req.register_cleanup(print)\nreq.register_cleanup(len, 'data')"), "");
    ASSERT_EQ(ctx_.cleanups.size(), 2u);
    EXPECT_FALSE(ctx_.cleanups[0].data);
    EXPECT_TRUE(ctx_.cleanups[1].data);
    EXPECT_EQ(run("req.register_cleanup()"), "TypeError: register_cleanup(callable[, data])");
    ctx_.cleanups.clear();
}

TEST_F(request_methods, add_handler_checks_its_arguments) {
    EXPECT_EQ(run("req.add_handler('PythonHandler', '')"), "ValueError: add_handler: the handler is empty");
    EXPECT_EQ(run("req.add_handler('PythonNoSuchHandler', 'm')").rfind("ValueError: add_handler: unsupported", 0),
              0u);
    // The content phase runs now: an earlier phase is over.
    EXPECT_EQ(run("req.add_handler('PythonFixupHandler', 'm')"),
              "ValueError: add_handler: PythonFixupHandler has already run for this request");
    EXPECT_EQ(run("req.add_handler('PythonHandler')"), "TypeError: add_handler(htype, handler[, dir])");
    EXPECT_TRUE(ctx_.added.empty());
    EXPECT_EQ(run("req.add_handler('PythonLogHandler', 'mymod::logit  other', '/srv/h')"), "");
    ASSERT_EQ(ctx_.added.size(), 2u);
    EXPECT_EQ(ctx_.added[0].phase, conf::phase::log);
    EXPECT_EQ(ctx_.added[0].entry.module, "mymod");
    EXPECT_EQ(ctx_.added[0].entry.callable, "logit");
    EXPECT_EQ(ctx_.added[1].entry.module, "other");
    EXPECT_EQ(ctx_.added[1].entry.callable, "loghandler");  // the phase's default
    EXPECT_EQ(ctx_.added[1].dir, "/srv/h");
    EXPECT_TRUE(ctx_.phase_active(conf::phase::log));
}

}  // namespace
}  // namespace subhttpd::interp

// offload_exchange: the request copied at construction, body reads and lines,
// the buffered response replayed on the loop in call order (writes and file
// slices interleaved), streaming, abandon and abort.
#include "interp/offload_exchange.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "../fake_exchange.h"

namespace subhttpd::interp {
namespace {

using subhttpd::testing::fake_exchange;

// Queues what is posted; the test plays the loop by calling run().
class queue_executor final : public executor {
public:
    bool submit(std::function<void()> work) override {
        work();
        return true;
    }
    void post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
    std::uint64_t schedule(std::uint64_t, std::function<void()>) override { return 0; }
    void cancel(std::uint64_t) override {}
    bool on_pool_thread() const override { return false; }
    void run() {
        while (!posted.empty()) {
            auto fn = std::move(posted.front());
            posted.pop_front();
            fn();
        }
    }
    std::deque<std::function<void()>> posted;
};

class offload_test : public ::testing::Test {
protected:
    void SetUp() override {
        real_.method_ = "POST";
        real_.target_ = "/up?x=1";
        real_.host_ = "www.example.com:8080";
        real_.headers_ = {{"Content-Type", "text/plain"}};
        real_.peer_.remote_ip = "192.0.2.7";
        real_.body_ = "line one\nline two\nrest";
        real_.piece = 4;
        sink_ = std::make_shared<response_sink>();
        sink_->real = &real_;
        std::string tmpl = (std::filesystem::temp_directory_path() / "offload.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        file_ = dir_ + "/f.bin";
        std::ofstream(file_) << "0123456789";
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    fake_exchange real_;
    queue_executor exec_;
    std::shared_ptr<response_sink> sink_;
    std::string dir_, file_;
};

TEST_F(offload_test, the_request_is_copied_whole) {
    offload_exchange off(real_, exec_, sink_);
    EXPECT_EQ(real_.body_remaining(), 0u);  // taken from the real exchange, even in pieces
    EXPECT_EQ(off.method(), "POST");
    EXPECT_EQ(off.target(), "/up?x=1");
    EXPECT_EQ(off.host(), "www.example.com:8080");
    EXPECT_EQ(off.peer().remote_ip, "192.0.2.7");
    ASSERT_EQ(off.request_headers().size(), 1u);
    EXPECT_EQ(off.body_remaining(), 22u);
    char buf[5];
    EXPECT_EQ(off.read_body(buf, 5), 5u);
    EXPECT_EQ(std::string(buf, 5), "line ");
}

TEST_F(offload_test, body_lines_stop_at_newline_or_limit) {
    offload_exchange off(real_, exec_, sink_);
    std::string line;
    EXPECT_EQ(off.read_body_line(line, 100), 9u);
    EXPECT_EQ(line, "line one\n");
    EXPECT_EQ(off.read_body_line(line, 4), 4u);  // the limit comes first
    EXPECT_EQ(line, "line");
    EXPECT_EQ(off.read_body_line(line, 100), 5u);
    EXPECT_EQ(line, " two\n");
    EXPECT_EQ(off.read_body_line(line, 100), 4u);  // no newline at the end
    EXPECT_EQ(line, "rest");
    EXPECT_EQ(off.read_body_line(line, 100), 0u);
    EXPECT_EQ(line, "");
    char c;
    EXPECT_EQ(off.read_body(&c, 1), 0u);
}

TEST_F(offload_test, a_buffered_answer_is_replayed_in_order_at_finish) {
    offload_exchange off(real_, exec_, sink_);
    off.write("head-", 5);
    off.write("er;", 3);
    ASSERT_TRUE(off.send_file(file_, 2, 3));
    off.write("tail", 4);
    off.write("", 0);
    EXPECT_EQ(off.bytes_written(), 15u);
    EXPECT_TRUE(exec_.posted.empty());  // nothing reaches the loop before finish
    off.finish(201, "Created", {{"X-A", "1"}});
    EXPECT_TRUE(off.finished());
    EXPECT_EQ(off.status_sent(), 201);
    off.write("late", 4);  // after finish: dropped
    off.finish(500, "again", {});
    EXPECT_FALSE(real_.finished_);
    exec_.run();
    EXPECT_TRUE(real_.finished_);
    EXPECT_EQ(real_.status, 201);
    EXPECT_EQ(real_.header("X-A"), "1");
    EXPECT_EQ(real_.out, "head-er;[file " + file_ + " 2+3]tail");
}

TEST_F(offload_test, discard_drops_the_buffered_output) {
    offload_exchange off(real_, exec_, sink_);
    off.write("oops", 4);
    off.discard_output();
    EXPECT_EQ(off.bytes_written(), 0u);
    off.write("ok", 2);
    off.finish(200, "OK", {});
    exec_.run();
    EXPECT_EQ(real_.out, "ok");
}

TEST_F(offload_test, a_missing_file_is_refused_at_once) {
    offload_exchange off(real_, exec_, sink_);
    EXPECT_FALSE(off.send_file(dir_ + "/missing", 0, 10));
    EXPECT_EQ(off.bytes_written(), 0u);
}

TEST_F(offload_test, streaming_sends_what_was_buffered_then_each_write) {
    offload_exchange off(real_, exec_, sink_);
    off.write("before", 6);
    off.start_stream(200, "OK", {{"X-S", "1"}});
    EXPECT_TRUE(off.streaming());
    off.start_stream(500, "no", {});  // once only
    exec_.run();
    EXPECT_TRUE(real_.streaming_);
    EXPECT_EQ(real_.status, 200);
    EXPECT_EQ(real_.out, "before");
    off.write("-one", 4);
    off.discard_output();  // too late once streaming
    ASSERT_TRUE(off.send_file(file_, 0, 2));
    exec_.run();
    EXPECT_EQ(real_.out, "before-one[file " + file_ + " 0+2]");
    off.finish(200, "OK", {});
    exec_.run();
    EXPECT_TRUE(real_.finished_);
    std::lock_guard<std::mutex> g(sink_->m);
    EXPECT_EQ(sink_->backlog, 0u);  // every streamed step acknowledged
}

TEST_F(offload_test, after_abandon_nothing_reaches_the_real_exchange) {
    offload_exchange off(real_, exec_, sink_);
    off.write("x", 1);
    off.finish(200, "OK", {});
    sink_->abandoned = true;  // a timeout answered for it meanwhile
    exec_.run();
    EXPECT_FALSE(real_.finished_);
    EXPECT_EQ(real_.out, "");
}

TEST_F(offload_test, abort_reaches_the_loop_and_ends_the_exchange) {
    offload_exchange off(real_, exec_, sink_);
    off.start_stream(200, "OK", {});
    off.write("partial", 7);
    off.abort();
    EXPECT_TRUE(off.finished());
    off.abort();  // once
    off.finish(200, "OK", {});
    exec_.run();
    EXPECT_TRUE(real_.aborted);
    EXPECT_FALSE(real_.finished_);
    EXPECT_EQ(real_.out, "partial");
}

}  // namespace
}  // namespace subhttpd::interp

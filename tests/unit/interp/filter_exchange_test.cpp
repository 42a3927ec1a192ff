// filter_exchange without Python: a fake exchange below it and a runner that
// records each call, so the piece sizes, the end of the stream and the order
// of the output chain can be checked byte for byte.
#include "interp/filter_exchange.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

namespace subhttpd::interp {
namespace {

class fake_exchange final : public exchange {
public:
    explicit fake_exchange(std::string body) : body_(std::move(body)) {}

    std::string_view method() const override { return "POST"; }
    std::string_view target() const override { return "/"; }
    std::string_view protocol() const override { return "HTTP/1.1"; }
    std::string_view host() const override { return "t"; }
    const header_list& request_headers() const override { return headers_; }
    const peer_info& peer() const override { return peer_; }
    std::size_t body_remaining() const override { return body_.size() - pos_; }
    std::size_t read_body(char* dst, std::size_t n) override {
        std::size_t take = std::min(n, body_remaining());
        std::memcpy(dst, body_.data() + pos_, take);
        pos_ += take;
        return take;
    }
    std::size_t read_body_line(std::string& out, std::size_t) override {
        out.clear();
        return 0;
    }
    void write(const char* data, std::size_t n) override { sent.append(data, n); }
    std::size_t bytes_written() const override { return sent.size(); }
    void discard_output() override { sent.clear(); }
    bool streaming() const override { return false; }
    void start_stream(int, std::string_view, const header_list&) override {}
    void finish(int, std::string_view, const header_list& h) override {
        done = true;
        final_headers = h;
    }
    bool finished() const override { return done; }
    int status_sent() const override { return 200; }
    bool send_file(const std::string&, std::uint64_t, std::uint64_t) override { return false; }
    void when_drained(std::function<void()>) override {}
    void abort() override {}

    std::string sent;
    bool done = false;
    header_list final_headers;

private:
    std::string body_;
    std::size_t pos_ = 0;
    header_list headers_;
    peer_info peer_;
};

struct call {
    std::string filter;
    std::size_t size;
    bool eos;
};

// Upper-cases what it is given; records each call.
filter_exchange::runner upper_runner(std::vector<call>& calls) {
    return [&calls](filter_state& f, std::string_view in, bool eos, std::string& out) {
        calls.push_back({f.name, in.size(), eos});
        for (char c : in) {
            out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
    };
}

filter_state input(const std::string& name) {
    filter_state f;
    f.name = name;
    f.is_input = true;
    return f;
}

filter_state output(const std::string& name) {
    filter_state f;
    f.name = name;
    return f;
}

TEST(FilterExchange, InputFilterIsCalledPerBoundedPieceAsTheHandlerReads) {
    fake_exchange real(std::string(20000, 'a'));
    std::vector<call> calls;
    filter_exchange fx(real, upper_runner(calls));
    fx.add(input("in"));
    char buf[100];
    ASSERT_EQ(fx.read_body(buf, sizeof buf), 100u);
    EXPECT_EQ(buf[0], 'A');
    ASSERT_EQ(calls.size(), 1u);  // only what the read needed
    EXPECT_EQ(calls[0].size, filter_exchange::input_piece);
    EXPECT_FALSE(calls[0].eos);
    EXPECT_EQ(fx.body_remaining(), 20000u - 100u);  // the rest runs now: the length needs it
    ASSERT_EQ(calls.size(), 3u);
    EXPECT_EQ(calls[1].size, filter_exchange::input_piece);
    EXPECT_EQ(calls[2].size, 20000u - 2 * filter_exchange::input_piece);
    EXPECT_TRUE(calls[2].eos);
    std::string rest(20000, '\0');
    EXPECT_EQ(fx.read_body(rest.data(), rest.size()), 19900u);
    EXPECT_EQ(fx.read_body(rest.data(), rest.size()), 0u);
    EXPECT_EQ(calls.size(), 3u);
}

TEST(FilterExchange, AnEmptyBodyMakesOneCallAtTheEndOfTheStream) {
    fake_exchange real("");
    std::vector<call> calls;
    filter_exchange fx(real, upper_runner(calls));
    fx.add(input("in"));
    EXPECT_EQ(fx.body_remaining(), 0u);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].size, 0u);
    EXPECT_TRUE(calls[0].eos);
}

TEST(FilterExchange, InputLinesPullOnlyThePiecesTheyNeed) {
    fake_exchange real("one\n" + std::string(30000, 'x'));
    std::vector<call> calls;
    filter_exchange fx(real, upper_runner(calls));
    fx.add(input("in"));
    std::string line;
    ASSERT_EQ(fx.read_body_line(line, static_cast<std::size_t>(-1)), 4u);
    EXPECT_EQ(line, "ONE\n");
    EXPECT_EQ(calls.size(), 1u);
}

TEST(FilterExchange, AClosedInputFilterEndsTheStreamForTheNextOne) {
    fake_exchange real(std::string(20000, 'b'));
    std::vector<call> calls;
    filter_exchange fx(real, [&calls](filter_state& f, std::string_view in, bool eos, std::string& out) {
        calls.push_back({f.name, in.size(), eos});
        out.assign(in.substr(0, 10));
        if (f.name == "first") {
            f.closed = true;  // close(): the end of the stream goes on now
        }
    });
    fx.add(input("first"));
    fx.add(input("second"));
    EXPECT_EQ(fx.body_remaining(), 10u);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].filter, "second");
    EXPECT_TRUE(calls[1].eos);
}

TEST(FilterExchange, OutputChainRunsInOrderAndDropsTheLength) {
    fake_exchange real("");
    std::vector<call> calls;
    filter_exchange fx(real, [&calls](filter_state& f, std::string_view in, bool eos, std::string& out) {
        calls.push_back({f.name, in.size(), eos});
        if (!in.empty()) {
            out = "[" + f.name + ":" + std::string(in) + "]";
        }
    });
    EXPECT_FALSE(fx.rewrites_body());
    fx.add(output("a"));
    fx.add(output("b"));
    EXPECT_TRUE(fx.rewrites_body());
    fx.write("x", 1);
    fx.finish(200, "OK", {{"Content-Length", "1"}, {"X", "y"}});
    EXPECT_EQ(real.sent, "[b:[a:x]]");
    ASSERT_EQ(real.final_headers.size(), 1u);
    EXPECT_EQ(real.final_headers[0].first, "X");
    ASSERT_EQ(calls.size(), 4u);  // a, b for the piece; a, b at the end of the stream
    EXPECT_TRUE(calls[2].eos && calls[3].eos);
}

}  // namespace
}  // namespace subhttpd::interp

#pragma once
// exchange: one HTTP request/response as interp/ sees it. The reactor implements
// it over its HTTP layer; interp/ never sees libevent. Only the loop thread calls
// it. The request body is complete when the exchange is handed over. The response
// is either buffered (write() then finish()) or streamed (start_stream() then
// write()s then finish()); headers are fixed when finish() or start_stream() is
// called. After finish() the exchange must not be used.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace subhttpd::interp {

using header_list = std::vector<std::pair<std::string, std::string>>;

// A response that is buffered (not streamed) may not grow past this: a handler
// that writes more gets an IOError (and, unless it copes, a 500) instead of the
// server holding gigabytes for one client.
inline constexpr std::size_t max_buffered_response = 256u * 1024 * 1024;

struct peer_info {
    std::string remote_ip;
    std::uint16_t remote_port = 0;
    std::string local_ip;
    std::uint16_t local_port = 0;
    std::string scheme = "http";
};

class exchange {
public:
    virtual ~exchange() = default;

    virtual std::string_view method() const = 0;
    virtual std::string_view target() const = 0;    // request-target as received
    virtual std::string_view protocol() const = 0;  // "HTTP/1.1"
    virtual std::string_view host() const = 0;      // Host header ("" when absent)
    virtual const header_list& request_headers() const = 0;  // in arrival order
    virtual const peer_info& peer() const = 0;

    virtual std::size_t body_remaining() const = 0;
    virtual std::size_t read_body(char* dst, std::size_t n) = 0;  // drains; 0 at end
    // Finds a line (up to and including '\n') within the first `limit` bytes.
    virtual std::size_t read_body_line(std::string& out, std::size_t limit) = 0;

    // Response.
    virtual void write(const char* data, std::size_t n) = 0;
    virtual std::size_t bytes_written() const = 0;
    virtual void discard_output() = 0;  // drop what is buffered (before start_stream only)
    virtual bool streaming() const = 0;
    virtual void start_stream(int status, std::string_view reason, const header_list& headers) = 0;
    virtual void finish(int status, std::string_view reason, const header_list& headers) = 0;
    // start_stream() whose sending waits: the head is fixed now (streaming() is
    // true, later header changes are too late), but nothing is sent until
    // flush() -- from then on it is a stream -- or finish(), which sends one
    // response under this head with a Content-Length (the whole body is known).
    // Lets a handler that flushes and returns at once be answered in one write.
    virtual void hold_stream(int status, std::string_view reason, header_list headers) {
        start_stream(status, reason, headers);
    }
    virtual bool finished() const = 0;
    virtual int status_sent() const = 0;  // after finish() or start_stream()
    // Sends `path` as the body (buffered mode): the reactor uses sendfile.
    // write() and send_file() calls may be interleaved; the body is their output
    // in call order (multipart/byteranges relies on it).
    virtual bool send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) = 0;
    // True when what is written is transformed before it is sent (output
    // filters): byte ranges of a file then do not address the response's bytes.
    virtual bool rewrites_body() const { return false; }

    // Streaming with back-pressure. unsent(): response bytes queued but not yet
    // taken by the kernel. flush(): hands the kernel what it takes now.
    // when_drained(fn): fn runs once on the loop, from the loop (never inside
    // this call), when unsent() falls to low_water or the client is gone.
    // abort(): an error after the headers went out; the connection is closed
    // without ending the body, so the client sees a truncated response.
    static constexpr std::size_t high_water = 256 * 1024;
    static constexpr std::size_t low_water = 64 * 1024;
    virtual std::size_t unsent() const { return 0; }
    virtual void flush() {}
    virtual void when_drained(std::function<void()> fn) = 0;
    virtual bool gone() const { return false; }
    virtual void abort() = 0;
};

// What both implementations of `exchange` keep alike: the request body, held
// whole (it is complete when the exchange is handed over) and read from the
// front, and how far the response has got. Same thread rules as `exchange`.
class exchange_base : public exchange {
public:
    std::size_t body_remaining() const final { return body_.size() - body_pos_; }
    std::size_t read_body(char* dst, std::size_t n) final {
        std::size_t take = body_remaining() < n ? body_remaining() : n;
        std::memcpy(dst, body_.data() + body_pos_, take);
        body_pos_ += take;
        return take;
    }
    std::size_t read_body_line(std::string& out, std::size_t limit) final {
        out.clear();
        std::size_t want = body_remaining() < limit ? body_remaining() : limit;
        const char* start = body_.data() + body_pos_;
        if (const void* nl = want == 0 ? nullptr : std::memchr(start, '\n', want)) {
            want = static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1;
        }
        out.assign(start, want);
        body_pos_ += want;
        return want;
    }

    std::size_t bytes_written() const final { return written_; }
    bool streaming() const override { return streaming_; }
    bool finished() const final { return finished_; }
    int status_sent() const final { return status_; }

protected:
    exchange_base() = default;
    explicit exchange_base(std::string body) : body_(std::move(body)) {}

    std::string body_;
    std::size_t body_pos_ = 0;
    std::size_t written_ = 0;  // body bytes the application wrote
    bool streaming_ = false;
    bool finished_ = false;
    int status_ = 0;
};

}  // namespace subhttpd::interp

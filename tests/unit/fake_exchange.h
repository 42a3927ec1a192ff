#pragma once
// A recording exchange for unit tests: a request given as data (method, target,
// headers, body handed out in pieces of at most `piece` bytes) and a response
// kept as the calls that made it (written bytes and file slices in call order,
// the status and headers given to finish or start_stream).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "interp/exchange.h"

namespace subhttpd::testing {

class fake_exchange : public interp::exchange {
public:
    std::string method_ = "GET", target_ = "/", protocol_ = "HTTP/1.1", host_ = "www.example.com";
    interp::header_list headers_;
    interp::peer_info peer_;
    std::string body_;
    std::size_t pos_ = 0;
    std::size_t piece = static_cast<std::size_t>(-1);  // read_body hands out at most this much per call
    bool rewrites = false;
    bool file_ok = true;

    // What the response is made of.
    struct file_slice {
        std::string path;
        std::uint64_t offset, length;
    };
    std::string out;                 // written bytes (file slices as "[file path offset+length]")
    std::vector<file_slice> files;
    bool finished_ = false, streaming_ = false, aborted = false;
    int status = 0;
    std::string reason;
    interp::header_list response_headers;

    std::string_view method() const override { return method_; }
    std::string_view target() const override { return target_; }
    std::string_view protocol() const override { return protocol_; }
    std::string_view host() const override { return host_; }
    const interp::header_list& request_headers() const override { return headers_; }
    const interp::peer_info& peer() const override { return peer_; }
    std::size_t body_remaining() const override { return body_.size() - pos_; }
    std::size_t read_body(char* dst, std::size_t n) override {
        std::size_t take = std::min({n, body_remaining(), piece});
        std::memcpy(dst, body_.data() + pos_, take);
        pos_ += take;
        return take;
    }
    std::size_t read_body_line(std::string& line, std::size_t limit) override {
        std::size_t avail = std::min(limit, body_remaining());
        const char* p = body_.data() + pos_;
        const void* nl = std::memchr(p, '\n', avail);
        std::size_t take = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - p) + 1 : avail;
        line.assign(p, take);
        pos_ += take;
        return take;
    }
    void write(const char* data, std::size_t n) override { out.append(data, n); }
    std::size_t bytes_written() const override { return out.size(); }
    void discard_output() override {
        out.clear();
        files.clear();
    }
    bool streaming() const override { return streaming_; }
    void start_stream(int st, std::string_view why, const interp::header_list& h) override {
        streaming_ = true;
        status = st;
        reason = why;
        response_headers = h;
    }
    void finish(int st, std::string_view why, const interp::header_list& h) override {
        finished_ = true;
        if (!streaming_) {
            status = st;
            reason = why;
            response_headers = h;
        }
    }
    bool finished() const override { return finished_; }
    int status_sent() const override { return status; }
    bool send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) override {
        if (!file_ok) {
            return false;
        }
        files.push_back({path, offset, length});
        out += "[file " + path + " " + std::to_string(offset) + "+" + std::to_string(length) + "]";
        return true;
    }
    bool rewrites_body() const override { return rewrites; }
    void when_drained(std::function<void()> fn) override { fn(); }
    void abort() override { aborted = true; }

    // The value of response header `name` ("" when absent; exact-case match).
    std::string header(const std::string& name) const {
        for (const auto& [k, v] : response_headers) {
            if (k == name) {
                return v;
            }
        }
        return "";
    }
    bool has_header(const std::string& name) const {
        for (const auto& kv : response_headers) {
            if (kv.first == name) {
                return true;
            }
        }
        return false;
    }
};

}  // namespace subhttpd::testing

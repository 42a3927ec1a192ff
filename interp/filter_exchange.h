#pragma once
// filter_exchange: mod_python's PythonOutputFilter / PythonInputFilter. It sits
// between a request and the real exchange: each piece the handler writes goes
// through the output filters in order (what the last writes reaches the real
// exchange), finish() sends the end of the stream through them, and a buffered
// response's Content-Length is the filtered length. The request body passes the
// input filters as Apache's brigades do: pieces of at most input_piece bytes,
// each filter called once per piece, pulled as the handler reads (the last
// piece carries the end of the stream). Running a filter (Python, in its own
// interpreter) is the `runner`'s job; this class only moves bytes.
// Owned by the request's run_state; called on the thread that runs the request.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hosts/route.h"
#include "interp/exchange.h"

namespace subhttpd::interp {

struct filter_state {
    hosts::handler_entry entry;
    std::string dir;          // where its module is looked up first
    std::string interpreter;  // the interpreter that runs it
    std::string name;         // filter.name
    bool is_input = false;
    bool disabled = false;    // filter.disable(): data passes untouched from now on
    bool closed = false;      // filter.close(): the end of the stream went on
};

class filter_exchange final : public exchange {
public:
    // Runs filter `f` over `in` (`eos`: the stream ends after it); appends what
    // the filter wrote to `out`. A failing filter is disabled by the runner,
    // which then passes `in` on untouched.
    using runner = std::function<void(filter_state& f, std::string_view in, bool eos, std::string& out)>;

    // What one input filter call is given at most (Apache's HUGE_STRING_LEN,
    // the size mod_python reads the body in).
    static constexpr std::size_t input_piece = 8192;

    filter_exchange(exchange& real, runner run) : real_(real), run_(std::move(run)) {}

    void add(filter_state f);  // appended to the output or input chain
    bool has_output() const { return !out_.empty(); }

    std::string_view method() const override { return real_.method(); }
    std::string_view target() const override { return real_.target(); }
    std::string_view protocol() const override { return real_.protocol(); }
    std::string_view host() const override { return real_.host(); }
    const header_list& request_headers() const override { return real_.request_headers(); }
    const peer_info& peer() const override { return real_.peer(); }

    std::size_t body_remaining() const override;
    std::size_t read_body(char* dst, std::size_t n) override;
    std::size_t read_body_line(std::string& out, std::size_t limit) override;

    void write(const char* data, std::size_t n) override;
    std::size_t bytes_written() const override { return real_.bytes_written(); }
    void discard_output() override { real_.discard_output(); }
    bool streaming() const override { return real_.streaming(); }
    void start_stream(int status, std::string_view reason, const header_list& headers) override;
    void finish(int status, std::string_view reason, const header_list& headers) override;
    bool finished() const override { return real_.finished(); }
    int status_sent() const override { return real_.status_sent(); }
    bool send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) override;
    bool rewrites_body() const override { return !out_.empty() || real_.rewrites_body(); }

    std::size_t unsent() const override { return real_.unsent(); }
    void flush() override { real_.flush(); }
    void when_drained(std::function<void()> fn) override { real_.when_drained(std::move(fn)); }
    bool gone() const override { return real_.gone(); }
    void abort() override { real_.abort(); }

private:
    // Runs `data` through the output chain; eos ends every filter's stream.
    void pass_output(std::string data, bool eos);
    // Runs the next piece of the body through the input chain; false once the
    // filtered stream has ended.
    bool pump_input() const;
    // Pumps until `n` filtered bytes (or a line within them) wait, or the end.
    void fill_input(std::size_t n, bool line) const;
    static header_list without_length(const header_list& headers);

    exchange& real_;
    runner run_;
    std::vector<filter_state> out_;
    mutable std::vector<filter_state> in_;  // a const read may run (and disable) them
    bool ended_ = false;  // the end of the stream went through the output chain
    // the filtered request body not yet read by the handler
    mutable bool input_ended_ = false;
    mutable std::string input_;
    mutable std::size_t input_pos_ = 0;
};

}  // namespace subhttpd::interp

// Output and input filters over the exchange: bytes in, bytes out, in order.
#include "interp/filter_exchange.h"

#include <strings.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace subhttpd::interp {

void filter_exchange::add(filter_state f) {
    if (f.is_input) {
        in_.push_back(std::move(f));
    } else {
        out_.push_back(std::move(f));
    }
}

void filter_exchange::pass_output(std::string data, bool eos) {
    for (filter_state& f : out_) {
        if (f.closed) {
            data.clear();  // the filter ended its stream: nothing more goes on
            continue;
        }
        if (f.disabled) {
            continue;
        }
        if (data.empty() && !eos) {
            return;
        }
        std::string next;
        run_(f, data, eos, next);
        data = std::move(next);
    }
    if (!data.empty()) {
        real_.write(data.data(), data.size());
    }
}

void filter_exchange::write(const char* data, std::size_t n) {
    if (ended_ || n == 0) {
        if (ended_) {
            real_.write(data, n);  // after the end of the stream (an error page): unfiltered
        }
        return;
    }
    pass_output(std::string(data, n), false);
}

bool filter_exchange::send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) {
    if (out_.empty() || ended_) {
        return real_.send_file(path, offset, length);
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return false;
    }
    bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0;
    std::string buf(64 * 1024, '\0');
    while (ok && length > 0) {
        std::size_t want = length < buf.size() ? static_cast<std::size_t>(length) : buf.size();
        std::size_t got = std::fread(buf.data(), 1, want, f);
        if (got == 0) {
            break;
        }
        write(buf.data(), got);
        length -= got;
    }
    std::fclose(f);
    return ok;
}

header_list filter_exchange::without_length(const header_list& headers) {
    header_list out;
    out.reserve(headers.size());
    for (const auto& kv : headers) {
        if (strcasecmp(kv.first.c_str(), "Content-Length") != 0) {
            out.push_back(kv);
        }
    }
    return out;
}

void filter_exchange::start_stream(int status, std::string_view reason, const header_list& headers) {
    real_.start_stream(status, reason, out_.empty() ? headers : without_length(headers));
}

void filter_exchange::finish(int status, std::string_view reason, const header_list& headers) {
    if (!ended_ && !real_.finished()) {
        ended_ = true;
        pass_output(std::string(), true);
    }
    // A buffered response's length is what the filters wrote: the real exchange counts it.
    real_.finish(status, reason, out_.empty() ? headers : without_length(headers));
}

bool filter_exchange::pump_input() const {
    if (input_ended_) {
        return false;
    }
    // What the handler has read goes; what it has not read yet stays.
    if (input_pos_ > 0 && input_pos_ == input_.size()) {
        input_.clear();
        input_pos_ = 0;
    }
    std::string piece(std::min(real_.body_remaining(), input_piece), '\0');
    std::size_t got = piece.empty() ? 0 : real_.read_body(piece.data(), piece.size());
    piece.resize(got);
    bool eos = got == 0 || real_.body_remaining() == 0;
    for (filter_state& f : in_) {
        if (f.closed) {
            // it ended its stream in an earlier call: nothing more comes from it
            piece.clear();
            eos = true;
            continue;
        }
        if (f.disabled) {
            continue;
        }
        if (piece.empty() && !eos) {
            return true;  // nothing for the rest of the chain this time
        }
        std::string next;
        run_(f, piece, eos, next);
        piece = std::move(next);
        if (f.closed) {
            eos = true;  // close() sent the end of the stream on
        }
    }
    input_.append(piece);
    input_ended_ = eos;
    return true;
}

void filter_exchange::fill_input(std::size_t n, bool line) const {
    for (;;) {
        std::size_t avail = input_.size() - input_pos_;
        if (avail >= n) {
            return;
        }
        if (line && std::memchr(input_.data() + input_pos_, '\n', avail) != nullptr) {
            return;
        }
        if (!pump_input()) {
            return;
        }
    }
}

std::size_t filter_exchange::body_remaining() const {
    if (in_.empty()) {
        return real_.body_remaining();
    }
    // The filtered length is known only once every piece went through.
    fill_input(static_cast<std::size_t>(-1), false);
    return input_.size() - input_pos_;
}

std::size_t filter_exchange::read_body(char* dst, std::size_t n) {
    if (in_.empty()) {
        return real_.read_body(dst, n);
    }
    fill_input(n, false);
    std::size_t take = std::min(n, input_.size() - input_pos_);
    std::memcpy(dst, input_.data() + input_pos_, take);
    input_pos_ += take;
    return take;
}

std::size_t filter_exchange::read_body_line(std::string& out, std::size_t limit) {
    if (in_.empty()) {
        return real_.read_body_line(out, limit);
    }
    out.clear();
    if (limit == 0) {
        return 0;
    }
    fill_input(limit, true);
    std::size_t avail = input_.size() - input_pos_;
    if (avail == 0) {
        return 0;
    }
    std::size_t want = avail < limit ? avail : limit;
    const char* start = input_.data() + input_pos_;
    if (const void* nl = std::memchr(start, '\n', want)) {
        want = static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1;
    }
    out.assign(start, want);
    input_pos_ += want;
    return want;
}

}  // namespace subhttpd::interp

#include "reactor/http/exchange.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/text.h"

namespace subhttpd::reactor::http {
namespace {

using text::iequals;
using text::trim;

constexpr std::size_t small_file_bytes = 16 * 1024;

bool ip_matches(const std::string& ip, const std::string& rule) {
    auto slash = rule.find('/');
    if (slash == std::string::npos) {
        return ip == rule;
    }
    std::string net_text = rule.substr(0, slash);
    int bits = std::atoi(rule.c_str() + slash + 1);
    unsigned char a[16], n[16];
    std::size_t size = 0;
    if (inet_pton(AF_INET, ip.c_str(), a) == 1 && inet_pton(AF_INET, net_text.c_str(), n) == 1) {
        size = 4;
    } else if (inet_pton(AF_INET6, ip.c_str(), a) == 1 && inet_pton(AF_INET6, net_text.c_str(), n) == 1) {
        size = 16;
    } else {
        return false;
    }
    if (bits < 0 || static_cast<std::size_t>(bits) > size * 8) {
        return false;
    }
    std::size_t full = static_cast<std::size_t>(bits) / 8;
    if (std::memcmp(a, n, full) != 0) {
        return false;
    }
    int rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[full] & mask) == (n[full] & mask);
}

bool trusted_ip(const std::string& ip, const std::vector<std::string>& trusted) {
    for (const auto& t : trusted) {
        if (ip_matches(ip, t)) {
            return true;
        }
    }
    return false;
}

bool valid_ip(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A chunk's size line: "<hex>\r\n".
void add_chunk_size(evbuffer* out, std::size_t n) {
    char buf[24];
    char* end = std::to_chars(buf, buf + 20, n, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    evbuffer_add(out, buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

http_exchange::http_exchange(connection& c, std::string body)
    : exchange_base(std::move(body)), conn_(&c), base_(c.base()) {
    const request_head& h = c.head();
    method_ = h.method;
    target_ = h.path_query;
    host_ = h.host;
    minor_ = h.minor;
    asterisk_ = h.form == target_form::asterisk;
    absolute_ = h.form == target_form::absolute;
    head_request_ = method_ == "HEAD";
}

http_exchange::~http_exchange() {
    if (conn_ != nullptr) {
        connection* c = conn_;
        conn_ = nullptr;
        if (!finished_ && !c->closed()) {
            c->close_after_output();  // never answered: nothing valid can follow
        }
        c->exchange_done(this);
    }
}

void http_exchange::detach() {
    if (conn_ == nullptr) {
        return;
    }
    request_headers();
    peer();
    owned_.reserve(method_.size() + target_.size() + host_.size());
    owned_.append(method_).append(target_).append(host_);
    std::string_view all(owned_);
    method_ = all.substr(0, method_.size());
    target_ = all.substr(method_.size(), target_.size());
    host_ = all.substr(method_.size() + target_.size(), host_.size());
    conn_ = nullptr;
    if (!finished_) {
        finished_ = true;
        if (status_ == 0) {
            status_ = 499;  // the client went away before the answer (nginx's figure)
        }
    }
}

// For absolute-form the request-target's authority is the host and any Host
// field is ignored (RFC 9112 3.2.2): the fields handed on carry that authority
// as Host, so the application sees the host that routed the request.
const interp::header_list& http_exchange::request_headers() const {
    if (!headers_loaded_ && conn_ != nullptr) {
        headers_loaded_ = true;
        const auto& fields = conn_->head().headers;
        headers_.reserve(fields.size() + (absolute_ ? 1 : 0));
        bool host_seen = false;
        for (const header_field& f : fields) {
            if (absolute_ && iequals(f.name, "Host")) {
                if (!host_seen) {
                    headers_.emplace_back(std::string(f.name), std::string(host_));
                    host_seen = true;
                }
                continue;
            }
            headers_.emplace_back(std::string(f.name), std::string(f.value));
        }
        if (absolute_ && !host_seen) {
            headers_.emplace_back("Host", std::string(host_));
        }
    }
    return headers_;
}

std::string_view http_exchange::field(std::string_view name) const {
    if (conn_ != nullptr && !headers_loaded_ && !absolute_) {
        for (const header_field& f : conn_->head().headers) {
            if (iequals(f.name, name)) {
                return f.value;
            }
        }
        return {};
    }
    for (const auto& [k, v] : request_headers()) {
        if (iequals(k, name)) {
            return v;
        }
    }
    return {};
}

const interp::peer_info& http_exchange::peer() const {
    if (!peer_loaded_ && conn_ != nullptr) {
        peer_loaded_ = true;
        peer_ = conn_->peer();
    }
    return peer_;
}

void http_exchange::apply_forwarded(const std::vector<std::string>& trusted) {
    if (trusted.empty()) {
        return;
    }
    std::string_view xff = field("X-Forwarded-For");
    std::string_view xfp = field("X-Forwarded-Proto");
    if (xff.empty() && xfp.empty()) {
        return;
    }
    peer();
    if (!trusted_ip(peer_.remote_ip, trusted)) {
        return;
    }
    if (!xff.empty()) {
        // Walk from the right: the nearest hop no trusted proxy vouches for. An
        // entry that is not an address ends the walk: that hop is the client,
        // and it is not trusted.
        std::string_view list = xff;
        while (!list.empty()) {
            auto comma = list.rfind(',');
            std::string item(trim(comma == std::string_view::npos ? list : list.substr(comma + 1)));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
            if (item.empty()) {
                continue;
            }
            peer_.remote_port = 0;
            peer_.remote_ip = item;
            if (!valid_ip(item)) {
                break;
            }
            if (!trusted_ip(item, trusted)) {
                break;
            }
        }
    }
    if (!xfp.empty()) {
        std::string_view proto = trim(xfp);
        if (proto == "https" || proto == "http") {
            peer_.scheme = std::string(proto);
        }
    }
}

void http_exchange::write(const char* data, std::size_t n) {
    if (n == 0 || finished_ || conn_ == nullptr) {
        return;
    }
    written_ += n;
    if (!streaming_) {
        if (conn_->body_in_buffer()) {
            evbuffer_add(conn_->body_buffer(), data, n);
        } else {
            conn_->body_text().append(data, n);
        }
        return;
    }
    if (no_body_) {
        return;
    }
    evbuffer* out = conn_->out();
    if (frame_ == framing::length) {
        if (n > stream_left_) {
            n = static_cast<std::size_t>(stream_left_);  // never past the announced length
        }
        stream_left_ -= n;
        if (n == 0) {
            return;
        }
        evbuffer_add(out, data, n);
    } else if (frame_ == framing::chunked) {
        add_chunk_size(out, n);
        evbuffer_add(out, data, n);
        evbuffer_add(out, "\r\n", 2);
    } else {
        evbuffer_add(out, data, n);
    }
    conn_->flush();
}

void http_exchange::discard_output() {
    if (streaming_ || held_ || conn_ == nullptr) {
        return;
    }
    conn_->body_text().clear();
    if (conn_->body_in_buffer()) {
        evbuffer* b = conn_->body_buffer();
        evbuffer_drain(b, evbuffer_get_length(b));
    }
    written_ = 0;
}

void http_exchange::count_refused(int n) {
    if (n > 0) {
        log::writef(log::level::error, "http", "%d response header field(s) with CR, LF or NUL dropped (%.*s)", n,
                    static_cast<int>(target_.size()), target_.data());
    }
}

head_spec http_exchange::head_for(int status, std::string_view reason, const interp::header_list& headers) {
    status_ = status;
    head_spec spec;
    spec.status = status;
    spec.reason = reason;
    spec.headers = &headers;
    spec.keep_alive = conn_->keep_alive();
    spec.http10 = minor_ == 0;
    return spec;
}

bool http_exchange::render_head(const head_spec& spec) {
    std::string& head = conn_->head_text();
    head.clear();
    bool app_close = false;
    count_refused(build_head(spec, head, &app_close));
    return app_close;
}

void http_exchange::start_stream(int status, std::string_view reason, const interp::header_list& headers) {
    if (streaming_ || finished_ || conn_ == nullptr) {
        return;
    }
    streaming_ = true;
    head_spec spec = head_for(status, reason, headers);
    std::int64_t declared = declared_length(headers);
    no_body_ = head_request_ || status_has_no_body(status);
    if (no_body_) {
        frame_ = framing::none;
        if (head_request_ && declared >= 0) {
            spec.announce_length = true;
            spec.length = static_cast<std::uint64_t>(declared);
        }
    } else if (declared >= 0) {
        frame_ = framing::length;
        stream_left_ = static_cast<std::uint64_t>(declared);
        spec.length = stream_left_;
    } else if (minor_ == 1) {
        frame_ = framing::chunked;
    } else {
        frame_ = framing::close;
        conn_->close_after_output();
    }
    spec.frame = frame_;
    bool app_close = render_head(spec);
    if (app_close) {
        conn_->close_after_output();
    }
    evbuffer* out = conn_->out();
    const std::string& head = conn_->head_text();
    evbuffer_add(out, head.data(), head.size());
    // What was written before the stream started is its first block.
    std::size_t before = written_;
    written_ = 0;
    if (conn_->body_in_buffer()) {
        evbuffer* b = conn_->body_buffer();
        if (no_body_) {
            evbuffer_drain(b, evbuffer_get_length(b));
        } else if (std::size_t n = evbuffer_get_length(b); n > 0) {
            if (frame_ == framing::chunked) {
                add_chunk_size(out, n);
                evbuffer_add_buffer(out, b);
                evbuffer_add(out, "\r\n", 2);
            } else {
                evbuffer_add_buffer(out, b);
            }
        }
        written_ = before;
        conn_->flush();
        return;
    }
    std::string pending = std::move(conn_->body_text());
    conn_->body_text().clear();
    if (!pending.empty()) {
        write(pending.data(), pending.size());  // counts it again
        return;
    }
    written_ = before;
    conn_->flush();
}

void http_exchange::hold_stream(int status, std::string_view reason, interp::header_list headers) {
    if (streaming_ || held_ || finished_ || conn_ == nullptr) {
        return;
    }
    held_ = true;
    status_ = status;
    held_reason_ = reason;
    held_headers_ = std::move(headers);
}

void http_exchange::release_hold() {
    if (!held_) {
        return;
    }
    held_ = false;
    start_stream(status_, held_reason_, held_headers_);
}

void http_exchange::finish(int status, std::string_view reason, const interp::header_list& headers) {
    if (finished_) {
        return;
    }
    if (held_) {
        // Never sent: one response under the held head, its length now known.
        held_ = false;
        finish(status_, held_reason_, held_headers_);
        return;
    }
    finished_ = true;
    if (conn_ == nullptr) {
        return;
    }
    if (streaming_) {
        if (frame_ == framing::chunked) {
            evbuffer_add(conn_->out(), "0\r\n\r\n", 5);
        } else if (frame_ == framing::length && stream_left_ > 0) {
            // Shorter than announced: the client must not take it as complete.
            log::write(log::level::warn, "http", "", "streamed response shorter than its Content-Length: closed");
            conn_->abort();
            return;
        }
        conn_->flush();
        return;
    }
    head_spec spec = head_for(status, reason, headers);
    bool no_body = head_request_ || status_has_no_body(status);
    if (no_body) {
        spec.frame = framing::none;
        if (head_request_) {
            std::int64_t declared = declared_length(headers);
            spec.announce_length = true;
            spec.length = declared >= 0 ? static_cast<std::uint64_t>(declared) : written_;
        }
    } else {
        spec.frame = framing::length;
        spec.length = written_;
    }
    bool app_close = render_head(spec);
    conn_->send_buffered(!no_body, app_close || !spec.keep_alive);
}

bool http_exchange::send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) {
    if (finished_ || conn_ == nullptr) {
        return true;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (length == 0) {
        ::close(fd);
        return true;
    }
    release_hold();
    if (conn_ == nullptr) {
        ::close(fd);
        return true;
    }
    if (streaming_ && (no_body_ || (frame_ == framing::length && stream_left_ == 0))) {
        ::close(fd);
        written_ += length;
        return true;
    }
    if (!streaming_ && !conn_->body_in_buffer() && length <= small_file_bytes) {
        // Small files: one pread into the body beats sendfile.
        std::string& body = conn_->body_text();
        std::size_t at = body.size();
        body.resize(at + length);
        ssize_t got = ::pread(fd, body.data() + at, length, static_cast<off_t>(offset));
        ::close(fd);
        if (got != static_cast<ssize_t>(length)) {
            body.resize(at);
            return false;
        }
        written_ += length;
        return true;
    }
    if (streaming_ && frame_ == framing::length && length > stream_left_) {
        length = stream_left_;
    }
    // Larger files go out with sendfile(2); the segment owns fd from here.
    evbuffer_file_segment* seg = evbuffer_file_segment_new(
        fd, static_cast<ev_off_t>(offset), static_cast<ev_off_t>(length),
        EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_MMAP | EVBUF_FS_DISABLE_LOCKING);
    if (seg == nullptr) {
        ::close(fd);
        return false;
    }
    evbuffer* dst = streaming_ ? conn_->out() : conn_->body_buffer();
    if (streaming_ && frame_ == framing::chunked) {
        add_chunk_size(dst, static_cast<std::size_t>(length));
    }
    bool ok = evbuffer_add_file_segment(dst, seg, 0, static_cast<ev_off_t>(length)) == 0;
    evbuffer_file_segment_free(seg);  // the buffer keeps its own reference
    if (!ok) {
        return false;
    }
    written_ += length;
    if (streaming_) {
        if (frame_ == framing::chunked) {
            evbuffer_add(dst, "\r\n", 2);
        } else if (frame_ == framing::length) {
            stream_left_ -= length;
        }
        conn_->flush();
    }
    return true;
}

std::size_t http_exchange::unsent() const {
    if (held_) {
        return written_;
    }
    return conn_ != nullptr ? evbuffer_get_length(conn_->out()) : 0;
}

void http_exchange::flush() {
    if (held_) {
        release_hold();  // start_stream() hands the kernel what it takes
        return;
    }
    if (conn_ != nullptr) {
        conn_->flush();
    }
}

void http_exchange::when_drained(std::function<void()> fn) {
    release_hold();
    if (conn_ != nullptr && unsent() > low_water) {
        conn_->add_drain_waiter(std::move(fn));
        return;
    }
    // Room already (or nobody to write to): run it from the loop, not from here.
    auto* heap = new std::function<void()>(std::move(fn));
    timeval zero{0, 0};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* arg) {
            std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(arg));
            try {
                (*f)();
            } catch (...) {
            }
        },
        heap, &zero);
}

void http_exchange::abort() {
    release_hold();  // what was flushed goes out first, then the cut
    if (conn_ == nullptr) {
        return;
    }
    finished_ = true;
    connection* c = conn_;
    c->abort();  // detaches this exchange
}

}  // namespace subhttpd::reactor::http

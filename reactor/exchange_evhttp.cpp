#include "reactor/exchange_evhttp.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace subhttpd::reactor {
namespace {

constexpr std::size_t small_file_bytes = 16 * 1024;

std::string_view method_name(evhttp_cmd_type t) {
    switch (t) {
        case EVHTTP_REQ_GET: return "GET";
        case EVHTTP_REQ_POST: return "POST";
        case EVHTTP_REQ_HEAD: return "HEAD";
        case EVHTTP_REQ_PUT: return "PUT";
        case EVHTTP_REQ_DELETE: return "DELETE";
        case EVHTTP_REQ_OPTIONS: return "OPTIONS";
        case EVHTTP_REQ_TRACE: return "TRACE";
        case EVHTTP_REQ_CONNECT: return "CONNECT";
        case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "GET";
}

void addr_text(const sockaddr_storage& ss, std::string& ip, std::uint16_t& port) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        port = ntohs(a->sin_port);
        ip = buf;
    } else if (ss.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        port = ntohs(a->sin6_port);
        ip = buf;
        if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) {
            ip = ip.substr(7);
        }
    } else if (ss.ss_family == AF_UNIX) {
        ip = "127.0.0.1";  // a local client, as nginx reports unix-socket peers
        port = 0;
    }
}

bool ip_matches(const std::string& ip, const std::string& rule) {
    auto slash = rule.find('/');
    if (slash == std::string::npos) {
        return ip == rule;
    }
    in_addr a{}, net{};
    if (inet_pton(AF_INET, ip.c_str(), &a) != 1 || inet_pton(AF_INET, rule.substr(0, slash).c_str(), &net) != 1) {
        return false;
    }
    int bits = std::atoi(rule.c_str() + slash + 1);
    if (bits <= 0) {
        return bits == 0;
    }
    uint32_t mask = bits >= 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
    return (ntohl(a.s_addr) & mask) == (ntohl(net.s_addr) & mask);
}

bool trusted_ip(const std::string& ip, const std::vector<std::string>& trusted) {
    for (const auto& t : trusted) {
        if (ip_matches(ip, t)) {
            return true;
        }
    }
    return false;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

}  // namespace

void evhttp_exchange::apply_forwarded(const std::vector<std::string>& trusted) {
    if (trusted.empty() || req_ == nullptr) {
        return;
    }
    evkeyvalq* in = evhttp_request_get_input_headers(req_);
    const char* xff = evhttp_find_header(in, "X-Forwarded-For");
    const char* xfp = evhttp_find_header(in, "X-Forwarded-Proto");
    if (xff == nullptr && xfp == nullptr) {
        return;
    }
    peer();  // load the socket addresses
    if (!trusted_ip(peer_.remote_ip, trusted)) {
        return;
    }
    if (xff != nullptr) {
        // Walk from the right: the nearest address no trusted proxy vouches for.
        std::string_view list = xff;
        std::string chosen;
        while (!list.empty()) {
            auto comma = list.rfind(',');
            std::string item = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
            if (item.empty()) {
                continue;
            }
            chosen = item;
            if (!trusted_ip(item, trusted)) {
                break;
            }
        }
        in6_addr probe{};
        in_addr probe4{};
        if (!chosen.empty() && (inet_pton(AF_INET, chosen.c_str(), &probe4) == 1 ||
                                inet_pton(AF_INET6, chosen.c_str(), &probe) == 1)) {
            peer_.remote_ip = chosen;
            peer_.remote_port = 0;
        }
    }
    if (xfp != nullptr) {
        std::string proto = trim(xfp);
        if (proto == "https" || proto == "http") {
            peer_.scheme = proto;
        }
    }
}

evhttp_exchange::~evhttp_exchange() { forget_connection(); }

void evhttp_exchange::forget_connection() {
    if (conn_ != nullptr) {
        conns_.detach(conn_, this);
        conn_ = nullptr;
    }
}

void evhttp_exchange::connection_closed() {
    conn_ = nullptr;
    req_ = nullptr;
    finished_ = true;
    if (status_ == 0) {
        status_ = 499;  // the client went away before the answer (nginx's figure)
    }
}

evhttp_exchange::evhttp_exchange(evhttp_request* req, std::string_view scheme, connection_table& conns)
    : req_(req),
      conns_(conns),
      method_(method_name(evhttp_request_get_command(req))),
      target_(evhttp_request_get_uri(req) ? evhttp_request_get_uri(req) : "/"),
      in_(evhttp_request_get_input_buffer(req)),
      out_(evhttp_request_get_output_buffer(req)) {
    // libevent 2.1 has no getter for the version; the struct is public API.
    protocol_ = "HTTP/" + std::to_string(static_cast<int>(req->major)) + "." +
                std::to_string(static_cast<int>(req->minor));
    const char* h = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    if (h != nullptr) {
        host_ = h;
        has_host_ = true;
    }
    peer_.scheme = std::string(scheme);
    conn_ = evhttp_request_get_connection(req);
    if (conn_ != nullptr) {
        conns_.attach(conn_, this);
    }
}

std::size_t evhttp_exchange::header_bytes() const {
    std::size_t n = 0;
    evkeyvalq* q = evhttp_request_get_input_headers(req_);
    for (evkeyval* kv = q->tqh_first; kv != nullptr; kv = kv->next.tqe_next) {
        n += std::strlen(kv->key) + std::strlen(kv->value) + 4;
    }
    return n;
}

const interp::header_list& evhttp_exchange::request_headers() const {
    if (!headers_loaded_) {
        headers_loaded_ = true;
        evkeyvalq* q = evhttp_request_get_input_headers(req_);
        for (evkeyval* kv = q->tqh_first; kv != nullptr; kv = kv->next.tqe_next) {
            headers_.emplace_back(kv->key, kv->value);
        }
    }
    return headers_;
}

const interp::peer_info& evhttp_exchange::peer() const {
    if (!peer_loaded_) {
        peer_loaded_ = true;
        if (conn_ != nullptr) {
            if (const interp::peer_info* known = conns_.peer(conn_)) {
                std::string scheme = peer_.scheme;
                peer_ = *known;
                peer_.scheme = scheme;
                return peer_;
            }
        }
        evhttp_connection* conn = req_ ? evhttp_request_get_connection(req_) : nullptr;
        bufferevent* bev = conn ? evhttp_connection_get_bufferevent(conn) : nullptr;
        int fd = bev ? static_cast<int>(bufferevent_getfd(bev)) : -1;
        if (fd >= 0) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
                addr_text(ss, peer_.remote_ip, peer_.remote_port);
            }
            len = sizeof ss;
            ss = {};
            if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
                addr_text(ss, peer_.local_ip, peer_.local_port);
            }
            if (conn_ != nullptr) {
                conns_.set_peer(conn_, peer_);
            }
        }
    }
    return peer_;
}

std::size_t evhttp_exchange::body_remaining() const { return req_ ? evbuffer_get_length(in_) : 0; }

std::size_t evhttp_exchange::read_body(char* dst, std::size_t n) {
    if (req_ == nullptr) {
        return 0;
    }
    int got = evbuffer_remove(in_, dst, n);
    return got < 0 ? 0 : static_cast<std::size_t>(got);
}

std::size_t evhttp_exchange::read_body_line(std::string& out, std::size_t limit) {
    out.clear();
    if (req_ == nullptr) {
        return 0;
    }
    std::size_t avail = evbuffer_get_length(in_);
    if (avail == 0 || limit == 0) {
        return 0;
    }
    std::size_t want = avail < limit ? avail : limit;
    evbuffer_ptr p = evbuffer_search(in_, "\n", 1, nullptr);
    if (p.pos >= 0 && static_cast<std::size_t>(p.pos) < want) {
        want = static_cast<std::size_t>(p.pos) + 1;
    }
    out.resize(want);
    int got = evbuffer_remove(in_, out.data(), want);
    out.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
    return out.size();
}

void evhttp_exchange::write(const char* data, std::size_t n) {
    if (n == 0 || finished_ || req_ == nullptr) {
        return;
    }
    written_ += n;
    if (streaming_) {
        if (no_body_) {
            return;
        }
        evbuffer* chunk = evbuffer_new();
        evbuffer_add(chunk, data, n);
        evhttp_send_reply_chunk(req_, chunk);
        evbuffer_free(chunk);
        return;
    }
    evbuffer_add(out_, data, n);
}

void evhttp_exchange::discard_output() {
    if (!streaming_ && req_ != nullptr) {
        evbuffer_drain(out_, evbuffer_get_length(out_));
        written_ = 0;
    }
}

void evhttp_exchange::set_headers(const interp::header_list& headers) {
    evkeyvalq* q = evhttp_request_get_output_headers(req_);
    for (const auto& [k, v] : headers) {
        evhttp_add_header(q, k.c_str(), v.c_str());
    }
}

void evhttp_exchange::start_stream(int status, std::string_view reason, const interp::header_list& headers) {
    if (streaming_ || finished_ || req_ == nullptr) {
        return;
    }
    set_headers(headers);
    status_ = status;
    streaming_ = true;
    no_body_ = method_ == "HEAD" || status < 200 || status == 204 || status == 304;
    std::string r(reason);
    evhttp_send_reply_start(req_, status, r.c_str());
    if (no_body_) {
        evbuffer_drain(out_, evbuffer_get_length(out_));
    } else if (evbuffer_get_length(out_) > 0) {
        evhttp_send_reply_chunk(req_, out_);
    }
}

void evhttp_exchange::finish(int status, std::string_view reason, const interp::header_list& headers) {
    if (finished_) {
        return;
    }
    finished_ = true;
    // After the reply evhttp may free the request and the connection at any time.
    forget_connection();
    if (streaming_) {
        evhttp_send_reply_end(req_);
        return;
    }
    set_headers(headers);
    status_ = status;
    // evhttp would send a body it was given even where HTTP has none: HEAD gets
    // the Content-Length of the body it would have had, and no body.
    bool head = method_ == "HEAD";
    if (head || status < 200 || status == 204 || status == 304) {
        std::size_t n = evbuffer_get_length(out_);
        evkeyvalq* q = evhttp_request_get_output_headers(req_);
        if (head && evhttp_find_header(q, "Content-Length") == nullptr) {
            evhttp_add_header(q, "Content-Length", std::to_string(n).c_str());
        }
        evbuffer_drain(out_, n);
    }
    std::string r(reason);
    evhttp_send_reply(req_, status, r.c_str(), nullptr);
}

bool evhttp_exchange::send_file(const std::string& path, std::uint64_t offset, std::uint64_t length) {
    if (finished_ || req_ == nullptr) {
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
    if (streaming_ && no_body_) {
        ::close(fd);
        written_ += length;
        return true;
    }
    if (streaming_) {
        evbuffer* chunk = evbuffer_new();
        bool ok = evbuffer_add_file(chunk, fd, static_cast<ev_off_t>(offset), static_cast<ev_off_t>(length)) == 0;
        if (ok) {
            evhttp_send_reply_chunk(req_, chunk);
        }
        evbuffer_free(chunk);
        written_ += length;
        return ok;
    }
    if (length <= small_file_bytes) {
        // Small files: one pread into the buffer beats mapping or sendfile.
        char buf[small_file_bytes];
        ssize_t got = ::pread(fd, buf, length, static_cast<off_t>(offset));
        ::close(fd);
        if (got != static_cast<ssize_t>(length)) {
            return false;
        }
        evbuffer_add(out_, buf, length);
        written_ += length;
        return true;
    }
    // Larger files go out with sendfile(2); the segment owns fd from here.
    evbuffer_file_segment* seg = evbuffer_file_segment_new(
        fd, static_cast<ev_off_t>(offset), static_cast<ev_off_t>(length),
        EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_MMAP | EVBUF_FS_DISABLE_LOCKING);
    if (seg == nullptr) {
        ::close(fd);
        return false;
    }
    bool ok = evbuffer_add_file_segment(out_, seg, 0, static_cast<ev_off_t>(length)) == 0;
    evbuffer_file_segment_free(seg);  // the buffer keeps its own reference
    if (!ok) {
        return false;
    }
    written_ += length;
    return true;
}

}  // namespace subhttpd::reactor

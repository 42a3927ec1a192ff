#include "reactor/http/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/http_status.h"
#include "common/log.h"
#include "reactor/http/clock.h"
#include "reactor/http/exchange.h"

namespace subhttpd::reactor::http {
namespace {

constexpr std::size_t initial_buffer = 4096;
constexpr std::size_t pipeline_cap = 64 * 1024;  // input kept while a request runs
constexpr double bytes_per_second = 500.0;        // slow-client allowance

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
    } else {
        ip = "127.0.0.1";  // a unix-socket client, as nginx reports it
        port = 0;
    }
}

}  // namespace

// ---- connection ------------------------------------------------------------

connection::connection(front& f, int fd, const sockaddr* peer, socklen_t peer_len, bool local)
    : front_(f), fd_(fd), local_(local) {
    if (peer != nullptr && peer_len > 0 && peer_len <= static_cast<socklen_t>(sizeof peer_addr_)) {
        std::memcpy(&peer_addr_, peer, peer_len);
    }
    event_base* b = f.base();
    read_ev_ = event_new(b, fd, EV_READ | EV_PERSIST, on_read, this);
    write_ev_ = event_new(b, fd, EV_WRITE | EV_PERSIST, on_write, this);
    timer_ev_ = evtimer_new(b, on_timer, this);
    out_ = evbuffer_new();
    lim_.max_field_bytes = f.config().max_header_bytes;
    event_add(read_ev_, nullptr);
    set_deadline(mono_now() + static_cast<double>(f.config().idle_timeout_ms) / 1000.0);
}

connection::~connection() {
    if (read_ev_ != nullptr) {
        event_free(read_ev_);
    }
    if (write_ev_ != nullptr) {
        event_free(write_ev_);
    }
    if (timer_ev_ != nullptr) {
        event_free(timer_ev_);
    }
    if (out_ != nullptr) {
        evbuffer_free(out_);
    }
    if (body_ev_ != nullptr) {
        evbuffer_free(body_ev_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

event_base* connection::base() const { return front_.base(); }

const interp::peer_info& connection::peer() {
    if (!peer_loaded_) {
        peer_loaded_ = true;
        addr_text(peer_addr_, peer_.remote_ip, peer_.remote_port);
    }
    if (!local_loaded_ && fd_ >= 0) {
        local_loaded_ = true;
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
            addr_text(ss, peer_.local_ip, peer_.local_port);
        }
    }
    return peer_;
}

bool connection::keep_alive() const { return head_.keep_alive && !close_after_ && !front_.stopping(); }

evbuffer* connection::body_buffer() {
    if (body_ev_ == nullptr) {
        body_ev_ = evbuffer_new();
    }
    if (!body_ev_used_) {
        body_ev_used_ = true;
        evbuffer_add(body_ev_, body_text_.data(), body_text_.size());
        body_text_.clear();
    }
    return body_ev_;
}

void connection::set_deadline(double when) {
    deadline_ = when;
    if (when == 0) {
        return;  // a timer already armed finds no deadline and stays quiet
    }
    if (timer_at_ != 0 && timer_at_ <= when) {
        return;  // fires earlier and re-arms for the rest
    }
    double in = when - mono_now();
    if (in < 0) {
        in = 0;
    }
    timeval tv{static_cast<time_t>(in), static_cast<suseconds_t>((in - static_cast<double>(static_cast<time_t>(in))) * 1e6)};
    event_add(timer_ev_, &tv);
    timer_at_ = when;
}

// The three events run one step each under a busy_guard; a step that throws
// closes the connection (and is logged), never the loop.
void connection::guarded(void* arg, void (connection::*step)()) noexcept {
    auto* c = static_cast<connection*>(arg);
    busy_guard g(c);
    try {
        (c->*step)();
    } catch (const std::exception& e) {
        log::write(log::level::error, "http", "", std::string("connection failed: ") + e.what());
        c->close();
    } catch (...) {
        c->close();
    }
}

void connection::on_read(evutil_socket_t, short, void* arg) noexcept { guarded(arg, &connection::read_ready); }

void connection::on_write(evutil_socket_t, short, void* arg) noexcept { guarded(arg, &connection::write_ready); }

void connection::on_timer(evutil_socket_t, short, void* arg) noexcept { guarded(arg, &connection::timer_fired); }

bool connection::grow(std::size_t want) {
    if (cap_ - len_ >= want) {
        return true;
    }
    if (active_ != nullptr) {
        return false;  // the request in flight holds views into the buffer
    }
    compact();
    if (cap_ - len_ >= want) {
        return true;
    }
    std::size_t cap = cap_ == 0 ? initial_buffer : cap_ * 2;
    while (cap - len_ < want) {
        cap *= 2;
    }
    auto next = std::make_unique<char[]>(cap);
    if (len_ > 0) {
        std::memcpy(next.get(), buf_.get(), len_);
    }
    buf_ = std::move(next);
    cap_ = cap;
    return true;
}

void connection::compact() {
    if (pos_ == 0) {
        return;
    }
    if (pos_ < len_) {
        std::memmove(buf_.get(), buf_.get() + pos_, len_ - pos_);
    }
    len_ -= pos_;
    pos_ = 0;
}

void connection::read_ready() {
    if (fd_ < 0) {
        return;
    }
    if (lingering_ || phase_ == phase::closing) {
        char sink[16384];
        ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            if (lingering_ || evbuffer_get_length(out_) == 0) {
                close();
            } else {
                event_del(read_ev_);  // the answer still goes out, then the socket closes
                read_paused_ = true;
            }
        }
        return;
    }
    std::size_t want = 2048;
    if (active_ != nullptr) {
        // A request is running: keep what is pipelined behind it, up to a cap,
        // and notice a client that goes away.
        if (len_ - pos_ >= pipeline_cap || cap_ - len_ == 0) {
            event_del(read_ev_);
            read_paused_ = true;
            return;
        }
        want = cap_ - len_;
    } else if (!grow(want)) {
        event_del(read_ev_);
        read_paused_ = true;
        return;
    }
    std::size_t room = cap_ - len_;
    ssize_t n = ::recv(fd_, buf_.get() + len_, room, 0);
    if (n == 0) {
        close();  // the client closed its side: nothing more can be answered
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        }
        close();
        return;
    }
    len_ += static_cast<std::size_t>(n);
    if (active_ != nullptr) {
        pending_input_ = true;
        return;
    }
    process();
}

// Parses and runs every request that is complete in the buffer, in order.
void connection::process() {
    if (in_process_) {
        pending_input_ = true;
        return;
    }
    in_process_ = true;
    while (fd_ >= 0 && active_ == nullptr && !close_after_) {
        pending_input_ = false;
        if (phase_ == phase::idle || phase_ == phase::head) {
            if (pos_ == len_) {
                break;
            }
            if (phase_ == phase::idle) {
                phase_ = phase::head;
                fresh_ = false;
                first_byte_ = mono_now();
                request_bytes_ = 0;
            }
            if (!start_request()) {
                break;
            }
        }
        if (phase_ == phase::body) {
            if (!read_body()) {
                break;
            }
        }
        if (phase_ == phase::active) {
            dispatch();
        }
    }
    in_process_ = false;
    if (fd_ >= 0 && (phase_ == phase::head || phase_ == phase::body)) {
        double allowed = static_cast<double>(front_.config().read_timeout_ms) / 1000.0 +
                         static_cast<double>(request_bytes_ + (len_ - pos_)) / bytes_per_second;
        if (front_.config().read_timeout_ms > 0) {
            set_deadline(first_byte_ + allowed);
        }
    }
}

// The head at pos_: false when more input is needed or the request failed.
bool connection::start_request() {
    parse_error err;
    std::string_view avail(buf_.get() + pos_, len_ - pos_);
    result r = parse_head(avail, lim_, head_, err);
    if (r == result::incomplete) {
        return false;  // the parser itself refuses a head that grows past the limits
    }
    if (r == result::error) {
        fail(err.status, err.reason);
        return false;
    }
    const settings& s = front_.config();
    if (head_.has_content_length && head_.content_length > s.max_body_bytes) {
        fail(413, "request body over max_body_bytes");
        return false;
    }
    request_bytes_ = head_.head_bytes;
    body_.clear();
    chunks_.reset();
    if (head_.chunked || (head_.has_content_length && head_.content_length > 0)) {
        phase_ = phase::body;
        std::size_t buffered = len_ - pos_ - head_.head_bytes;
        if (head_.expect_continue && head_.minor == 1 && buffered == 0) {
            static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
            evbuffer_add(out_, cont.data(), cont.size());
            if (!flush()) {
                return false;
            }
        }
    } else {
        phase_ = phase::active;
    }
    return true;
}

// Moves body bytes from the buffer into body_; false when more are needed.
bool connection::read_body() {
    std::size_t start = pos_ + head_.head_bytes;
    std::string_view avail(buf_.get() + start, len_ - start);
    if (head_.chunked) {
        std::size_t used = chunks_.feed(avail, body_, front_.config().max_body_bytes);
        // The chunk framing is consumed: drop it from the buffer right away so a
        // long body never needs more than one buffer of room.
        std::memmove(buf_.get() + start, buf_.get() + start + used, len_ - start - used);
        len_ -= used;
        request_bytes_ += used;
        if (chunks_.failed()) {
            fail(chunks_.error().status, chunks_.error().reason);
            return false;
        }
        if (!chunks_.done()) {
            return false;
        }
    } else {
        std::uint64_t need = head_.content_length - body_.size();
        std::size_t take = avail.size() < need ? avail.size() : static_cast<std::size_t>(need);
        body_.append(avail.data(), take);
        std::memmove(buf_.get() + start, buf_.get() + start + take, len_ - start - take);
        len_ -= take;
        request_bytes_ += take;
        if (body_.size() < head_.content_length) {
            return false;
        }
    }
    phase_ = phase::active;
    return true;
}

// Hands the request at pos_ to the server.
void connection::dispatch() {
    set_deadline(0);
    auto ex = std::make_unique<http_exchange>(*this, std::move(body_));
    body_ = std::string();
    active_ = ex.get();
    front_.on_request_(std::move(ex));
}

// The exchange of the request in flight is being destroyed.
void connection::exchange_done(http_exchange* ex) {
    if (ex != active_) {
        return;
    }
    active_ = nullptr;
    pos_ += head_.head_bytes;
    phase_ = phase::idle;
    handoff_hops_ = 0;
    body_text_.clear();
    body_ev_used_ = false;
    if (body_text_.capacity() > 64 * 1024) {
        body_text_.shrink_to_fit();
    }
    after_exchange();
}

void connection::after_exchange() {
    if (fd_ < 0) {
        return;
    }
    if (close_after_) {
        if (evbuffer_get_length(out_) == 0) {
            finish_close();
        }
        return;
    }
    if (pos_ == len_) {
        pos_ = len_ = 0;
    }
    if (read_paused_) {
        read_paused_ = false;
        event_add(read_ev_, nullptr);
    }
    if (pos_ < len_) {
        if (in_process_) {
            pending_input_ = true;  // the loop in process() picks it up
        } else {
            busy_guard g(this);
            process();
        }
        return;
    }
    if (front_.stopping()) {
        close();
        return;
    }
    set_deadline(mono_now() + static_cast<double>(front_.config().idle_timeout_ms) / 1000.0);
}

void connection::timer_fired() {
    timer_at_ = 0;
    if (fd_ < 0 || deadline_ == 0) {
        return;
    }
    double now = mono_now();
    if (lingering_) {
        if (now >= deadline_) {
            close();
        } else {
            double d = deadline_;
            deadline_ = 0;
            set_deadline(d);
        }
        return;
    }
    if (writing_ && front_.config().write_timeout_ms > 0) {
        double limit = last_progress_ + static_cast<double>(front_.config().write_timeout_ms) / 1000.0;
        if (now >= limit) {
            log::write(log::level::info, "http", "", "a client stopped reading its answer: connection closed");
            close();
            return;
        }
    }
    if (now < deadline_) {
        double d = deadline_;
        deadline_ = 0;
        set_deadline(d);
        return;
    }
    if (phase_ == phase::head || phase_ == phase::body) {
        ++front_.cut_;
        log::writef(log::level::info, "limits", "a client took over %.1f s to send a request: cut off",
                    now - first_byte_);
        close();
        return;
    }
    if (active_ == nullptr && !writing_) {
        close();  // idle keep-alive connection
    }
}

void connection::close_after_output() { close_after_ = true; }

// Answers a request that cannot be read and closes the connection.
void connection::fail(int status, std::string_view why) {
    ++front_.bad_;
    log::write(log::level::info, "http", "",
               "bad request from " + peer().remote_ip + ": " + std::to_string(status) + " (" + std::string(why) + ")");
    std::string body = status_page_html(status);
    head_text_.clear();
    head_spec spec;
    spec.status = status;
    spec.frame = framing::length;
    spec.length = body.size();
    spec.keep_alive = false;
    interp::header_list h{{"Content-Type", "text/html; charset=utf-8"}};
    spec.headers = &h;
    build_head(spec, head_text_);
    evbuffer_add(out_, head_text_.data(), head_text_.size());
    evbuffer_add(out_, body.data(), body.size());
    phase_ = phase::closing;
    close_after_ = true;
    flush();
}

void connection::abort() { close(); }

void connection::handed_off() {
    if (fd_ < 0) {
        return;
    }
    active_ = nullptr;  // the caller has let go of the exchange
    event_del(read_ev_);
    event_del(write_ev_);
    event_del(timer_ev_);
    ::close(fd_);
    fd_ = -1;
    front_.closed(this);
    drain_waiters_.clear();
    if (busy_ > 0) {
        dead_ = true;
    } else {
        delete this;
    }
}

void connection::close() {
    if (fd_ < 0) {
        return;
    }
    if (active_ != nullptr) {
        http_exchange* ex = active_;
        active_ = nullptr;
        ex->detach();
    }
    event_del(read_ev_);
    event_del(write_ev_);
    event_del(timer_ev_);
    ::close(fd_);
    fd_ = -1;
    front_.closed(this);
    if (!drain_waiters_.empty()) {
        // The writers waiting for room learn that the client is gone, from the loop.
        auto waiters = std::make_shared<std::vector<std::function<void()>>>();
        waiters->swap(drain_waiters_);
        auto* fn = new std::function<void()>([waiters] {
            for (auto& w : *waiters) {
                w();
            }
        });
        timeval zero{0, 0};
        event_base_once(
            front_.base(), -1, EV_TIMEOUT,
            [](evutil_socket_t, short, void* arg) {
                std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(arg));
                try {
                    (*f)();
                } catch (...) {
                }
            },
            fn, &zero);
    }
    if (busy_ > 0) {
        dead_ = true;  // freed when the frames using it return
    } else {
        delete this;
    }
}

}  // namespace subhttpd::reactor::http

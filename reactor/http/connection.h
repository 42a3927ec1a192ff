#pragma once
// connection and front: subhttpd's HTTP/1.1 server side on the libevent loop.
// A connection owns one client socket, its input buffer (request heads are
// parsed in place, views stay valid while the request runs), its output
// evbuffer and one timer for every deadline (slow head or body, idle keep-alive,
// stalled write). Requests on a connection run one at a time, in order; bytes a
// client pipelines wait in the buffer. The front owns every connection and hands
// each complete request (head and body) to the server as an http_exchange.
// A connection is freed when it closes, never inside its own callback frame.
// Loop thread only.
#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "interp/exchange.h"
#include "reactor/http/parser.h"

namespace subhttpd::reactor::http {

class http_exchange;
class front;

struct settings {
    std::size_t max_header_bytes = 64 * 1024;
    std::uint64_t max_body_bytes = 10u * 1024 * 1024;
    std::uint64_t read_timeout_ms = 30000;   // whole request, plus 1 s per 500 bytes
    std::uint64_t write_timeout_ms = 30000;  // no progress writing for this long
    std::uint64_t idle_timeout_ms = 30000;   // keep-alive wait for the next request
    std::size_t max_connections = 10000;
};

class connection {
public:
    connection(front& f, int fd, const sockaddr* peer, socklen_t peer_len, bool local);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // For the exchange of the request in flight.
    const interp::peer_info& peer();
    const request_head& head() const { return head_; }
    bool keep_alive() const;
    std::string& body_text() { return body_text_; }   // buffered body bytes
    evbuffer* body_buffer();                           // buffered body with file parts
    bool body_in_buffer() const { return body_ev_ != nullptr && body_ev_used_; }
    std::string& head_text() { return head_text_; }
    evbuffer* out() { return out_; }
    event_base* base() const;
    // Queues the head plus the buffered body and sends what the kernel takes.
    void send_buffered(bool with_body, bool close_after);
    // Sends the queued output now; false when the connection closed meanwhile.
    bool flush();
    void close_after_output();      // last response queued: close once it is sent
    void abort();                   // close now, dropping anything unsent
    void add_drain_waiter(std::function<void()> fn);
    void run_drain_waiters();
    void exchange_done(http_exchange* ex);  // the exchange is being destroyed
    bool closed() const { return fd_ < 0; }

    // Hand-off to another process (reactor/handoff.h): the raw bytes of the
    // request in flight and what the client pipelined behind it; then the
    // socket leaves this process: our descriptor closes, nothing is sent.
    std::string_view request_head_bytes() const { return {buf_.get() + pos_, head_.head_bytes}; }
    std::string_view pipelined_bytes() const {
        return {buf_.get() + pos_ + head_.head_bytes, len_ - pos_ - head_.head_bytes};
    }
    bool output_pending() const { return evbuffer_get_length(out_) != 0; }
    int socket() const { return fd_; }
    const sockaddr_storage& peer_address() const { return peer_addr_; }
    // Times the request now in flight has been handed over already (a guard
    // against processes that disagree on where it belongs).
    unsigned handoff_hops() const { return handoff_hops_; }
    void handed_off();

    static void on_read(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_write(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_timer(evutil_socket_t fd, short what, void* arg) noexcept;
    static void guarded(void* arg, void (connection::*step)()) noexcept;

    struct busy_guard;

private:
    friend class front;
    enum class phase : std::uint8_t { idle, head, body, active, closing };

    void read_ready();
    void write_ready();
    void timer_fired();
    void process();
    bool start_request();
    bool read_body();
    void dispatch();
    void fail(int status, std::string_view why);
    void close();
    void finish_close();  // output sent: half-close, drain what the client still sends, close
    void compact();
    bool grow(std::size_t want);
    void set_deadline(double when);
    void after_exchange();

    front& front_;
    int fd_;
    event* read_ev_ = nullptr;
    event* write_ev_ = nullptr;
    event* timer_ev_ = nullptr;
    double deadline_ = 0;     // 0: none
    double timer_at_ = 0;     // when the armed timer fires (0: not armed)
    phase phase_ = phase::idle;
    bool local_ = false;      // a unix-socket client
    bool peer_loaded_ = false;
    bool local_loaded_ = false;
    interp::peer_info peer_;
    sockaddr_storage peer_addr_{};

    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0, len_ = 0, pos_ = 0;
    request_head head_;
    limits lim_;
    chunk_decoder chunks_;
    std::string body_;            // the request body being read
    double first_byte_ = 0;       // when the request being read started
    std::size_t request_bytes_ = 0;

    http_exchange* active_ = nullptr;  // the request in flight (not owned)
    bool close_after_ = false;
    bool read_paused_ = false;
    bool writing_ = false;        // write event armed
    std::size_t busy_ = 0;
    bool dead_ = false;           // closed while busy: freed when the last frame leaves
    bool in_process_ = false;
    bool pending_input_ = false;  // process() again once the request in flight ends
    bool lingering_ = false;      // half-closed: reading and dropping until EOF or the timer
    bool fresh_ = true;           // no request byte seen yet (kept through a graceful stop)
    std::uint8_t handoff_hops_ = 0;  // for the first request after an adoption

    std::string head_text_;       // response head being built (reused)
    std::string body_text_;       // buffered response body (reused)
    evbuffer* body_ev_ = nullptr; // buffered body once a file part is added
    bool body_ev_used_ = false;
    evbuffer* out_ = nullptr;     // bytes for the socket
    std::vector<std::function<void()>> drain_waiters_;  // run when unsent falls to low water
    double last_progress_ = 0;
};

// Keeps a connection alive while its code is on the stack; the last guard
// out deletes a connection that closed meanwhile.
struct connection::busy_guard {
    connection* c;
    explicit busy_guard(connection* conn) : c(conn) { ++c->busy_; }
    ~busy_guard() {
        if (--c->busy_ == 0 && c->dead_) {
            delete c;
        }
    }
    busy_guard(const busy_guard&) = delete;
    busy_guard& operator=(const busy_guard&) = delete;
};

class front {
public:
    using request_fn = std::function<void(std::unique_ptr<http_exchange>)>;

    front(event_base* base, request_fn on_request);
    ~front();
    front(const front&) = delete;
    front& operator=(const front&) = delete;

    void configure(const settings& s) { settings_ = s; }
    const settings& config() const { return settings_; }
    event_base* base() const { return base_; }

    // A socket a listener accepted; the front owns it from here. Beyond
    // max_connections it is closed at once (counted as refused).
    void adopt(int fd, const sockaddr* peer, socklen_t len);
    // A socket another process handed over with the bytes it had already read:
    // parsed as if they had just arrived (also while stopping: that request was
    // accepted before, it is answered with Connection: close).
    void adopt(int fd, const sockaddr* peer, socklen_t len, std::string_view already_read, unsigned hops);

    std::size_t open() const { return open_; }
    std::uint64_t total() const { return total_; }
    std::uint64_t cut() const { return cut_; }          // slow clients cut off
    std::uint64_t refused() const { return refused_; }  // over max_connections
    std::uint64_t bad_requests() const { return bad_; }
    // Called with the open count whenever it changes.
    void on_change(std::function<void(std::size_t)> fn) { on_change_ = std::move(fn); }

    // Graceful stop: no keep-alive from now on; idle connections close.
    void stop();
    bool stopping() const { return stopping_; }

private:
    friend class connection;
    connection* take(int fd, const sockaddr* peer, socklen_t len, bool handed);  // nullptr: refused
    void opened(connection* c);
    void closed(connection* c);

    event_base* base_;
    request_fn on_request_;
    settings settings_;
    std::size_t open_ = 0;
    std::uint64_t total_ = 0;
    std::uint64_t cut_ = 0;
    std::uint64_t refused_ = 0;
    std::uint64_t bad_ = 0;
    bool stopping_ = false;
    std::function<void(std::size_t)> on_change_;
    struct registry;
    std::unique_ptr<registry> all_;
};

}  // namespace subhttpd::reactor::http

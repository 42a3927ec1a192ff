// libFuzzer target for the whole HTTP/1.1 connection state machine
// (reactor/http: connection, front, http_exchange, the response writer) fed
// arbitrary bytes over a real socketpair on a real event_base.
//
// Input: byte 0 picks the limits; then records of [control][length][bytes]:
// the bytes are written to the client end, then the loop runs (EVLOOP_NONBLOCK)
// 1-4 times. The control byte also picks how the requests dispatched meanwhile
// are answered (buffered, streamed with back-pressure, on the next turn, never,
// aborted mid-stream, bodiless statuses, refused header fields, a file), whether
// the client reads what the server sent (else the server meets a full socket)
// and whether the client half-closes. At the end the client end is closed, the
// loop drained, and everything freed: ASan, UBSan and LeakSanitizer must stay
// quiet, and every connection must have closed once its client vanished.
#include <event2/event.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "reactor/http/connection.h"
#include "reactor/http/exchange.h"

namespace {

namespace http = subhttpd::reactor::http;
namespace interp = subhttpd::interp;

enum class mode : std::uint8_t {
    buffered,      // a small fixed answer, at once
    streamed,      // chunked blocks, each after the socket drained below the high-water mark
    next_turn,     // no answer until the driver's next loop turn
    never,         // the exchange is dropped without an answer
    read_body,     // reads the body line by line, looks at every field, answers its length
    aborted,       // one streamed block, then abort()
    bodiless,      // 304 with a body written (never sent) and odd app fields
    refused,       // fields with CR/LF/NUL, a Connection: close from the app
    file,          // output discarded, then part of a file (pread or a sendfile segment)
    held,          // hold_stream(), writes, then finish / flush / abort / a file / drain wait
};
constexpr int mode_count = 10;

// A file for mode::file, larger than what the exchange reads into memory.
std::string file_path;
constexpr std::size_t file_size = 40000;

// A streamed answer that writes its blocks as the socket drains.
struct streamer {
    std::unique_ptr<http::http_exchange> ex;
    int blocks_left;
    std::size_t block_size;
    bool done = false;

    void step();
};

struct harness {
    event_base* base = nullptr;
    std::unique_ptr<http::front> front;
    mode current = mode::buffered;
    std::uint8_t knob = 0;  // varies block sizes and counts
    std::vector<std::unique_ptr<http::http_exchange>> later;
    std::vector<std::unique_ptr<streamer>> streams;

    void on_request(std::unique_ptr<http::http_exchange> ex);
    void answer_later();
};

const interp::header_list plain{{"Content-Type", "text/plain"}};

void streamer::step() {
    while (!done) {
        if (ex->gone()) {
            done = true;
            ex.reset();
            return;
        }
        if (blocks_left == 0) {
            ex->finish(200, "OK", plain);
            done = true;
            ex.reset();
            return;
        }
        --blocks_left;
        std::string block(block_size, 'b');
        ex->write(block.data(), block.size());
        if (ex->unsent() > interp::exchange::high_water) {
            ex->when_drained([this] { step(); });
            return;
        }
    }
}

void harness::on_request(std::unique_ptr<http::http_exchange> ex) {
    switch (current) {
    case mode::buffered:
        ex->write("hello\n", 6);
        ex->finish(200, "OK", plain);
        return;
    case mode::streamed: {
        auto s = std::make_unique<streamer>();
        s->blocks_left = 1 + knob % 8;
        s->block_size = knob & 0x80 ? 200000 : 1000 + knob * 37u;
        s->ex = std::move(ex);
        s->ex->start_stream(200, "OK", plain);
        streamer* raw = s.get();
        streams.push_back(std::move(s));
        raw->step();
        return;
    }
    case mode::next_turn:
        later.push_back(std::move(ex));
        return;
    case mode::never:
        return;
    case mode::read_body: {
        const interp::header_list& fields = ex->request_headers();
        std::size_t total = 0;
        for (const auto& [k, v] : fields) {
            total += k.size() + v.size();
        }
        (void)ex->peer();
        (void)ex->field("Host");
        ex->apply_forwarded({"127.0.0.1", "10.0.0.0/8", "::1"});
        std::string line;
        char buf[512];
        std::size_t body = 0;
        while (ex->body_remaining() > 0) {
            std::size_t n = knob & 1 ? ex->read_body_line(line, 1 + knob) : ex->read_body(buf, sizeof buf);
            if (n == 0) {
                break;
            }
            body += n;
        }
        std::string text = std::to_string(body) + " " + std::to_string(total) + " " + std::string(ex->target());
        ex->write(text.data(), text.size());
        ex->finish(200, "", {{"Content-Length", "999"}, {"Transfer-Encoding", "gzip"}});
        return;
    }
    case mode::aborted:
        ex->start_stream(200, "OK", {});
        ex->write("partial", 7);
        ex->abort();
        ex->write("after", 5);  // dropped: the exchange is detached
        ex->finish(200, "OK", {});
        return;
    case mode::bodiless:
        ex->write("never sent", 10);
        ex->finish(knob & 1 ? 304 : 204, "", {{"Content-Length", "10"}, {"Date", "x"}, {"Keep-Alive", "1"}});
        return;
    case mode::refused:
        ex->write("r", 1);
        ex->finish(200, "Bad\r\nReason", {{"X-A", "a\r\nX-Injected: 1"}, {"X\nB", "b"}, {"X-C", std::string("c\0d", 3)},
                                          {"", "empty"}, {"Connection", "close"}});
        return;
    case mode::file: {
        ex->write("dropped", 7);
        ex->discard_output();
        std::uint64_t offset = knob * 97u % file_size;
        std::uint64_t length = knob & 2 ? file_size - offset : (knob * 13u) % (file_size - offset);
        if (knob & 1) {
            ex->start_stream(200, "OK", knob & 4 ? interp::header_list{{"Content-Length", "100"}} : plain);
        }
        (void)ex->send_file(file_path, offset, length);
        (void)ex->send_file("/nonexistent/file", 0, 10);
        ex->finish(200, "OK", plain);
        return;
    }
    case mode::held: {
        ex->hold_stream(knob & 8 ? 304 : 200, "OK",
                        knob & 4 ? interp::header_list{{"Content-Length", "5"}} : plain);
        ex->write("held;", 5);
        (void)ex->unsent();
        switch (knob % 5) {
        case 0:
            break;  // finish(): one response with a Content-Length
        case 1:
            ex->flush();  // a stream from here
            ex->write("more", 4);
            break;
        case 2:
            ex->abort();  // sent as a stream, then cut
            break;
        case 3:
            (void)ex->send_file(file_path, 0, knob * 41u % file_size);
            break;
        case 4: {
            http::http_exchange* raw = ex.get();
            later.push_back(std::move(ex));
            raw->when_drained([] {});
            return;
        }
        }
        ex->finish(200, "ignored", {});
        return;
    }
    }
}

void harness::answer_later() {
    std::vector<std::unique_ptr<http::http_exchange>> now;
    now.swap(later);
    for (auto& ex : now) {
        ex->write("later\n", 6);
        ex->finish(200, "OK", plain);
    }
    now.clear();
    std::erase_if(streams, [](const std::unique_ptr<streamer>& s) { return s->done; });
}

// Reads what the server sent. A field the application set with CR/LF must
// never reach the wire: "\nX-Injected" is looked for across reads (the request
// target, the only request text ever echoed, cannot hold a LF).
void drain_peer(int fd, std::string& tail) {
    static constexpr std::string_view injected = "\nX-Injected";
    char sink[65536];
    for (;;) {
        ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n <= 0) {
            return;
        }
        tail.append(sink, static_cast<std::size_t>(n));
        if (tail.find(injected) != std::string::npos) {
            std::fprintf(stderr, "fuzz_http_connection: a refused header field reached the wire\n");
            std::abort();
        }
        tail.erase(0, tail.size() > injected.size() ? tail.size() - injected.size() : 0);
    }
}

void run_turns(harness& h, int turns) {
    for (int i = 0; i < turns; ++i) {
        event_base_loop(h.base, EVLOOP_NONBLOCK);
        h.answer_later();
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    signal(SIGPIPE, SIG_IGN);  // as the server does: a vanished peer is an EPIPE, not a signal
    subhttpd::log::set_level(subhttpd::log::level::crit);
    char path[] = "/tmp/fuzz_http_connection.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        std::perror("mkstemp");
        std::abort();
    }
    std::string content(file_size, 'f');
    if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
        std::abort();
    }
    ::close(fd);
    file_path = path;
    std::atexit([] { ::unlink(file_path.c_str()); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        return 0;
    }
    harness h;
    h.base = event_base_new();
    h.front = std::make_unique<http::front>(
        h.base, [&h](std::unique_ptr<http::http_exchange> ex) { h.on_request(std::move(ex)); });
    http::settings s;
    std::uint8_t limits = data[0];
    s.max_header_bytes = limits & 1 ? 256 : 64 * 1024;
    s.max_body_bytes = limits & 2 ? 64 : 1024 * 1024;
    s.max_connections = 4;
    h.front->configure(s);
    sockaddr_storage peer{};
    peer.ss_family = AF_UNIX;
    h.front->adopt(sv[0], reinterpret_cast<sockaddr*>(&peer), sizeof(sa_family_t));
    int client = sv[1];
    bool can_write = true;
    std::string tail;  // the last bytes the client read

    std::size_t i = 1;
    while (i < size) {
        std::uint8_t control = data[i++];
        std::size_t len = i < size ? data[i++] : 0;
        if (len > size - i) {
            len = size - i;
        }
        h.current = static_cast<mode>((control >> 4) % mode_count);
        h.knob = static_cast<std::uint8_t>(control * 31u + len);
        if (can_write && len > 0) {
            (void)::send(client, data + i, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        i += len;
        if (can_write && (control & 0x0c) == 0x0c) {
            ::shutdown(client, SHUT_WR);  // the client half-closes
            can_write = false;
        }
        run_turns(h, 1 + (control & 3));
        if (control & 4) {
            drain_peer(client, tail);
        }
    }

    drain_peer(client, tail);
    // The client vanishes: every connection must notice and close by itself.
    ::close(client);
    for (int turn = 0; turn < 64 && h.front->open() > 0; ++turn) {
        run_turns(h, 1);
    }
    if (h.front->open() != 0) {
        std::fprintf(stderr, "fuzz_http_connection: a connection outlived its vanished client\n");
        std::abort();
    }
    h.later.clear();
    h.front.reset();
    run_turns(h, 2);  // callbacks queued with event_base_once run (and free their state)
    h.streams.clear();
    event_base_free(h.base);
    return 0;
}

/* plain_evhttp: the reference of subhttpd's benchmarks. The smallest libevent
 * evhttp server that answers "Hello, world!\n" (text/plain) to any URL, on one
 * thread, with HTTP/1.1 keep-alive as evhttp does it: the CPU per request
 * measured here is what subhttpd's ratios are taken against (subhttpd has its
 * own HTTP/1.1 layer and does not link evhttp; this server does).
 * Usage: plain_evhttp PORT [ADDR]   (ADDR defaults to 127.0.0.1) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static const char body[] = "Hello, world!\n";

static void on_request(struct evhttp_request* req, void* arg) {
    struct evbuffer* out;
    (void)arg;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    out = evhttp_request_get_output_buffer(req);
    evbuffer_add_reference(out, body, sizeof body - 1, NULL, NULL);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void on_signal(evutil_socket_t fd, short what, void* arg) {
    (void)fd;
    (void)what;
    event_base_loopbreak((struct event_base*)arg);
}

int main(int argc, char** argv) {
    struct event_base* base;
    struct evhttp* http;
    struct event* sig_int;
    struct event* sig_term;
    const char* addr = argc > 2 ? argv[2] : "127.0.0.1";
    int port;

    if (argc < 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT [ADDR]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    http = base ? evhttp_new(base) : NULL;
    if (!http) {
        fprintf(stderr, "plain_evhttp: cannot create the event base\n");
        return 1;
    }
    evhttp_set_gencb(http, on_request, NULL);
    if (evhttp_bind_socket(http, addr, (ev_uint16_t)port) != 0) {
        fprintf(stderr, "plain_evhttp: cannot listen on %s:%d\n", addr, port);
        return 1;
    }
    sig_int = evsignal_new(base, SIGINT, on_signal, base);
    sig_term = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(sig_int, NULL);
    event_add(sig_term, NULL);

    event_base_dispatch(base);

    event_free(sig_int);
    event_free(sig_term);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}

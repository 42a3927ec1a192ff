/* floor_epoll: the floor under subhttpd's benchmarks. Not an HTTP server: one
 * thread, one level-triggered epoll set, non-blocking sockets. For each
 * connection it reads, finds the end of every request head ("\r\n\r\n", across
 * partial reads and pipelined heads), and answers each head with the same fixed
 * reply the hello targets send (200, text/plain, Content-Length, the 14-byte
 * body), keeping the connection open. No parsing, no Date header, no bodies: the
 * least any HTTP/1.1 server must do per request on this machine.
 * Usage: floor_epoll PORT [ADDR]   (ADDR defaults to 127.0.0.1; SIGINT/SIGTERM stop it) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char reply[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 14\r\n"
    "\r\n"
    "Hello, world!\n";
#define REPLY_LEN (sizeof reply - 1)
#define REPLIES_PER_WRITE 64
#define HEAD_MAX 8192

/* REPLIES_PER_WRITE copies of the reply back to back: any number of owed
 * replies is written from here, starting OFF bytes into the first one. */
static char replies[REPLIES_PER_WRITE * REPLY_LEN];

struct conn {
    int fd;
    size_t len;      /* bytes in head[] not yet part of a complete head */
    size_t scanned;  /* head[0..scanned) holds no "\r\n\r\n" */
    size_t owed;     /* replies not yet fully written */
    size_t off;      /* bytes of the first owed reply already written */
    int want_out;    /* registered for EPOLLOUT (the socket was full) */
    char head[HEAD_MAX];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static void conn_close(struct conn* c) {
    close(c->fd); /* also leaves the epoll set */
    free(c);
}

/* Writes what the socket takes. 0: all written, 1: the socket is full, -1: error. */
static int conn_flush(struct conn* c) {
    while (c->owed > 0) {
        size_t n = c->owed < REPLIES_PER_WRITE ? c->owed : REPLIES_PER_WRITE;
        ssize_t w = write(c->fd, replies + c->off, n * REPLY_LEN - c->off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
        }
        size_t done = c->off + (size_t)w;
        c->owed -= done / REPLY_LEN;
        c->off = done % REPLY_LEN;
    }
    return 0;
}

/* Counts the complete heads in head[], keeps the partial one. 0, or -1 when a
 * head does not fit in HEAD_MAX. */
static int conn_scan(struct conn* c) {
    size_t start = 0, i = c->scanned >= 3 ? c->scanned - 3 : 0;
    const char* h = c->head;
    while (i + 4 <= c->len) {
        const char* cr = memchr(h + i, '\r', c->len - i);
        if (!cr) {
            i = c->len;
            break;
        }
        i = (size_t)(cr - h);
        if (i + 4 > c->len) break;
        if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n') {
            c->owed++;
            i += 4;
            start = i;
        } else {
            i++;
        }
    }
    if (start > 0) {
        memmove(c->head, c->head + start, c->len - start);
        c->len -= start;
        i -= start;
    }
    c->scanned = i;
    if (c->len == HEAD_MAX) return -1;
    return 0;
}

static int conn_watch(int ep, struct conn* c, int out) {
    struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    c->want_out = out;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_readable(int ep, struct conn* c) {
    ssize_t r = read(c->fd, c->head + c->len, HEAD_MAX - c->len);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
        conn_close(c);
        return;
    }
    c->len += (size_t)r;
    if (conn_scan(c) < 0) {
        conn_close(c);
        return;
    }
    int f = conn_flush(c);
    if (f < 0 || (f > 0 && conn_watch(ep, c, 1) < 0)) conn_close(c);
}

static void on_writable(int ep, struct conn* c) {
    int f = conn_flush(c);
    if (f < 0 || (f == 0 && conn_watch(ep, c, 0) < 0)) conn_close(c);
}

static void on_accept(int ep, int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return; /* EAGAIN, or out of descriptors: try again on the next event */
        }
        struct conn* c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->len = c->scanned = c->owed = c->off = 0;
        c->want_out = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) conn_close(c);
    }
}

int main(int argc, char** argv) {
    const char* addr = argc > 2 ? argv[2] : "127.0.0.1";
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT [ADDR]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < REPLIES_PER_WRITE; i++) memcpy(replies + i * REPLY_LEN, reply, REPLY_LEN);

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "floor_epoll: bad IPv4 address %s\n", addr);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(lfd, (struct sockaddr*)&sin, sizeof sin) < 0 || listen(lfd, 1024) < 0) {
        fprintf(stderr, "floor_epoll: cannot listen on %s:%d: %s\n", addr, port, strerror(errno));
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        fprintf(stderr, "floor_epoll: epoll: %s\n", strerror(errno));
        return 1;
    }

    struct epoll_event evs[256];
    while (!stopping) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "floor_epoll: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn* c = evs[i].data.ptr;
            if (!c) {
                on_accept(ep, lfd);
            } else if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) {
                conn_close(c);
            } else if (c->want_out) {
                on_writable(ep, c);
            } else {
                on_readable(ep, c);
            }
        }
    }
    /* open connections are left to the exit */
    close(ep);
    close(lfd);
    return 0;
}

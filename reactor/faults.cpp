#include "reactor/faults.h"

#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>

#include "common/clock.h"
#include "common/fd_write.h"
#include "common/log.h"

namespace subhttpd::reactor::faults {
namespace {

worker_slot private_slot;
worker_slot* current = &private_slot;
void (*python_dumper)(int) = nullptr;
pthread_t loop_thread;
volatile sig_atomic_t in_crash = 0;

// dst = the pieces joined, cut to cap - 1 bytes and NUL-terminated.
void copy_field(char* dst, std::size_t cap, std::initializer_list<std::string_view> pieces) {
    std::size_t at = 0;
    for (std::string_view s : pieces) {
        std::size_t n = s.size() < cap - 1 - at ? s.size() : cap - 1 - at;
        std::memcpy(dst + at, s.data(), n);
        at += n;
    }
    dst[at] = '\0';
}

// Async-signal-safe output: only write(2) and hand-made number formatting.
// Async-signal-safe output: only write(2) (write_all) and hand-made number formatting.
void put(int fd, const char* s) { write_all(fd, s); }

void put_num(int fd, long long v) {
    char buf[24];
    int i = sizeof buf - 1;
    buf[i] = '\0';
    bool neg = v < 0;
    unsigned long long u = neg ? static_cast<unsigned long long>(-v) : static_cast<unsigned long long>(v);
    do {
        buf[--i] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0 && i > 1);
    if (neg) {
        buf[--i] = '-';
    }
    put(fd, buf + i);
}

void on_crash(int sig, siginfo_t* info, void*) {
    int fd = log::error_fd();
    if (fd < 0) {
        fd = 2;
    }
    if (in_crash != 0) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    in_crash = 1;
    alarm(3);  // a handler that hangs (a lock held by the crashed code) still ends
    bool on_loop = pthread_equal(pthread_self(), loop_thread) != 0;
    put(fd, "[crash] worker ");
    put_num(fd, getpid());
    put(fd, " got ");
    put(fd, signal_name(sig));
    if (info != nullptr && info->si_code <= 0) {
        put(fd, " sent by pid ");
        put_num(fd, info->si_pid);
    }
    put(fd, on_loop ? " on the loop thread" : " on another thread");
    worker_slot& s = *current;
    if (s.busy.load() != 0) {
        put(fd, " while running interpreter '");
        put(fd, s.interp);
        put(fd, "' handler '");
        put(fd, s.handler);
        put(fd, "' for \"");
        put(fd, s.request);
        put(fd, "\"\n");
    } else {
        put(fd, " (no request on the loop thread)\n");
    }
    put(fd, "[crash] C stack (most recent call first):\n");
    void* frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, fd);
    if (python_dumper != nullptr) {
        put(fd, "[crash] Python stack of this thread (most recent call first):\n");
        python_dumper(fd);
    }
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    raise(sig);
}

}  // namespace

worker_slot* map_slots(std::size_t n) {
    void* p = mmap(nullptr, sizeof(worker_slot) * n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return nullptr;
    }
    auto* slots = static_cast<worker_slot*>(p);
    for (std::size_t i = 0; i < n; ++i) {
        new (&slots[i]) worker_slot();
    }
    return slots;
}

void reset(worker_slot& s) {
    s.pid = 0;
    s.beat_ms = 0;
    s.requests = 0;
    s.rss_bytes = 0;
    s.recycle = 0;
    s.busy = 0;
    s.reloads = 0;
    s.interp[0] = s.handler[0] = s.request[0] = '\0';
}

void attach(worker_slot* slot) {
    current = slot != nullptr ? slot : &private_slot;
    current->pid = getpid();
}

worker_slot& self() { return *current; }

void set_current(std::string_view interp, std::initializer_list<std::string_view> handler,
                 std::initializer_list<std::string_view> request_line) {
    worker_slot& s = *current;
    s.busy.store(0);
    copy_field(s.interp, sizeof s.interp, {interp});
    copy_field(s.handler, sizeof s.handler, handler);
    copy_field(s.request, sizeof s.request, request_line);
    s.busy.store(1);
}

void clear_current() { current->busy.store(0); }

void install_crash_handler(void (*dump_python)(int fd)) {
    python_dumper = dump_python;
    loop_thread = pthread_self();
    void* warm[2];
    backtrace(warm, 2);  // loads libgcc now, not inside the handler
    static char alt_stack[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, nullptr);
    struct sigaction sa{};
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL}) {
        sigaction(sig, &sa, nullptr);
    }
}

bool descriptors_available(int n) {
    int src = -1;
    for (int fd : {0, 1, 2}) {
        if (fcntl(fd, F_GETFD) >= 0) {
            src = fd;
            break;
        }
    }
    if (src < 0) {
        return true;  // nothing to measure with; let the attempt decide
    }
    int got[64];
    int k = 0;
    n = n > 64 ? 64 : n;
    for (; k < n; ++k) {
        got[k] = fcntl(src, F_DUPFD_CLOEXEC, 0);
        if (got[k] < 0) {
            break;
        }
    }
    for (int i = 0; i < k; ++i) {
        ::close(got[i]);
    }
    return k == n;
}

std::uint64_t current_rss() {
    int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    char buf[128];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    unsigned long long size = 0, resident = 0;
    if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) {
        return 0;
    }
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

const char* signal_name(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGFPE: return "SIGFPE";
        case SIGABRT: return "SIGABRT";
        case SIGILL: return "SIGILL";
        case SIGKILL: return "SIGKILL";
        case SIGTERM: return "SIGTERM";
        case SIGINT: return "SIGINT";
        case SIGQUIT: return "SIGQUIT";
        case SIGHUP: return "SIGHUP";
        case SIGPIPE: return "SIGPIPE";
        case SIGALRM: return "SIGALRM";
        case SIGUSR1: return "SIGUSR1";
        case SIGUSR2: return "SIGUSR2";
        case SIGXCPU: return "SIGXCPU";
        case SIGXFSZ: return "SIGXFSZ";
        case SIGSYS: return "SIGSYS";
        case SIGTRAP: return "SIGTRAP";
        default: return "a signal";
    }
}

}  // namespace subhttpd::reactor::faults

// connection's output side: a buffered answer in one writev (head, body and
// any file segments), flushing what the kernel takes, the write event while
// output waits, drain waiters and the lingering close (see connection.h).
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "reactor/http/clock.h"
#include "reactor/http/connection.h"
#include "reactor/http/exchange.h"

namespace subhttpd::reactor::http {

void connection::send_buffered(bool with_body, bool close_after) {
    if (fd_ < 0) {
        return;
    }
    if (close_after) {
        close_after_ = true;
    }
    if (body_ev_used_) {
        evbuffer_add(out_, head_text_.data(), head_text_.size());
        if (with_body) {
            evbuffer_add_buffer(out_, body_ev_);
        } else {
            evbuffer_drain(body_ev_, evbuffer_get_length(body_ev_));
        }
        flush();
        return;
    }
    // The common case: head and body in one send, straight from our buffers.
    if (evbuffer_get_length(out_) == 0) {
        iovec iov[2] = {{head_text_.data(), head_text_.size()},
                        {body_text_.data(), with_body ? body_text_.size() : 0}};
        std::size_t total = iov[0].iov_len + iov[1].iov_len;
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = iov[1].iov_len > 0 ? 2 : 1;
        ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            close();
            return;
        }
        std::size_t sent = n < 0 ? 0 : static_cast<std::size_t>(n);
        if (sent < total) {
            if (sent < iov[0].iov_len) {
                evbuffer_add(out_, head_text_.data() + sent, head_text_.size() - sent);
                sent = 0;
            } else {
                sent -= iov[0].iov_len;
            }
            if (iov[1].iov_len > sent) {
                evbuffer_add(out_, body_text_.data() + sent, iov[1].iov_len - sent);
            }
            flush();
            return;
        }
        last_progress_ = 0;
        if (close_after_ && active_ == nullptr) {
            finish_close();
        }
        return;
    }
    evbuffer_add(out_, head_text_.data(), head_text_.size());
    if (with_body) {
        evbuffer_add(out_, body_text_.data(), body_text_.size());
    }
    flush();
}

bool connection::flush() {
    if (fd_ < 0) {
        return false;
    }
    while (evbuffer_get_length(out_) > 0) {
        int n = evbuffer_write(out_, fd_);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                break;
            }
            close();
            return false;
        }
        if (n == 0) {
            break;
        }
        last_progress_ = mono_now();
    }
    if (evbuffer_get_length(out_) > 0) {
        if (!writing_) {
            writing_ = true;
            event_add(write_ev_, nullptr);
            last_progress_ = mono_now();
            if (front_.config().write_timeout_ms > 0) {
                set_deadline(last_progress_ + static_cast<double>(front_.config().write_timeout_ms) / 1000.0);
            }
        }
        return true;
    }
    if (writing_) {
        writing_ = false;
        event_del(write_ev_);
    }
    if (!drain_waiters_.empty()) {
        run_drain_waiters();
        if (fd_ < 0) {
            return false;
        }
    }
    if (close_after_ && active_ == nullptr) {
        finish_close();
        return false;
    }
    return true;
}

// Closing right after the last answer would make the kernel reset the
// connection if the client is still sending (an unread body), and a reset can
// destroy the answer before the client reads it. So: half-close, read and drop
// for a short while, then close (nginx's lingering close).
void connection::finish_close() {
    if (fd_ < 0 || lingering_) {
        return;
    }
    lingering_ = true;
    phase_ = phase::closing;
    ::shutdown(fd_, SHUT_WR);
    if (read_paused_) {
        read_paused_ = false;
    }
    event_add(read_ev_, nullptr);
    deadline_ = 0;
    set_deadline(mono_now() + 2.0);
}

void connection::write_ready() {
    flush();
    if (fd_ >= 0 && !drain_waiters_.empty() && evbuffer_get_length(out_) <= interp::exchange::low_water) {
        run_drain_waiters();
    }
    if (fd_ >= 0 && writing_ && front_.config().write_timeout_ms > 0) {
        set_deadline(last_progress_ + static_cast<double>(front_.config().write_timeout_ms) / 1000.0);
    }
}

void connection::add_drain_waiter(std::function<void()> fn) { drain_waiters_.push_back(std::move(fn)); }

void connection::run_drain_waiters() {
    std::vector<std::function<void()>> now;
    now.swap(drain_waiters_);
    for (auto& fn : now) {
        fn();
    }
}

}  // namespace subhttpd::reactor::http

// faults: the shared worker slots, the "current request" record (bounded
// copies), signal names, the descriptor probe and the RSS reading.
#include "reactor/faults.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>

namespace subhttpd::reactor::faults {
namespace {

TEST(faults_slots, map_slots_gives_zeroed_slots_and_reset_clears_one) {
    worker_slot* slots = map_slots(3);
    ASSERT_NE(slots, nullptr);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(slots[i].pid.load(), 0);
        EXPECT_EQ(slots[i].requests.load(), 0u);
        EXPECT_STREQ(slots[i].interp, "");
    }
    slots[1].pid = 42;
    slots[1].requests = 7;
    slots[1].recycle = 1;
    slots[1].busy = 1;
    std::strcpy(slots[1].interp, "x");
    std::strcpy(slots[1].handler, "y");
    std::strcpy(slots[1].request, "GET / HTTP/1.1");
    reset(slots[1]);
    EXPECT_EQ(slots[1].pid.load(), 0);
    EXPECT_EQ(slots[1].requests.load(), 0u);
    EXPECT_EQ(slots[1].recycle.load(), 0u);
    EXPECT_EQ(slots[1].busy.load(), 0u);
    EXPECT_STREQ(slots[1].interp, "");
    EXPECT_STREQ(slots[1].handler, "");
    EXPECT_STREQ(slots[1].request, "");
}

TEST(faults_slots, attach_records_the_pid_and_null_means_a_private_slot) {
    worker_slot* slots = map_slots(1);
    ASSERT_NE(slots, nullptr);
    attach(&slots[0]);
    EXPECT_EQ(&self(), &slots[0]);
    EXPECT_EQ(slots[0].pid.load(), static_cast<std::int64_t>(getpid()));
    attach(nullptr);
    EXPECT_NE(&self(), &slots[0]);
    EXPECT_EQ(self().pid.load(), static_cast<std::int64_t>(getpid()));
}

TEST(faults_current, set_and_clear_the_running_request) {
    attach(nullptr);
    set_current("site-a", {"hello", "::", "handler"}, {"GET", " ", "/x", " ", "HTTP/1.1"});
    EXPECT_EQ(self().busy.load(), 1u);
    EXPECT_STREQ(self().interp, "site-a");
    EXPECT_STREQ(self().handler, "hello::handler");  // pieces joined in place
    EXPECT_STREQ(self().request, "GET /x HTTP/1.1");
    clear_current();
    EXPECT_EQ(self().busy.load(), 0u);
    set_current("", {}, {""});
    EXPECT_STREQ(self().interp, "");
    EXPECT_STREQ(self().handler, "");
    EXPECT_STREQ(self().request, "");
    clear_current();
}

TEST(faults_current, long_fields_are_cut_and_terminated) {
    attach(nullptr);
    const std::string interp(500, 'i');
    const std::string path = "/" + std::string(1000, 'a');
    const std::string handler(sizeof(worker_slot::handler), 'h');
    set_current(interp, {handler, "::more"}, {"GET ", path, " HTTP/1.1"});
    EXPECT_EQ(std::strlen(self().interp), sizeof(worker_slot::interp) - 1);
    EXPECT_EQ(std::strlen(self().handler), sizeof(worker_slot::handler) - 1);
    EXPECT_EQ(std::strlen(self().request), sizeof(worker_slot::request) - 1);
    EXPECT_EQ(std::string(self().request, 5), "GET /");
    // A piece that crosses the end is cut there; the later pieces are dropped.
    set_current("x", {std::string(sizeof(worker_slot::handler) - 3, 'h'), "abcdef"}, {"r"});
    EXPECT_EQ(std::string(self().handler).substr(sizeof(worker_slot::handler) - 3), "ab");
    // A shorter record after a long one is not polluted by the old tail.
    set_current("b", {"c"}, {"d"});
    EXPECT_STREQ(self().interp, "b");
    EXPECT_STREQ(self().handler, "c");
    EXPECT_STREQ(self().request, "d");
    clear_current();
}

TEST(faults_signals, names_of_known_and_unknown_signals) {
    EXPECT_STREQ(signal_name(SIGSEGV), "SIGSEGV");
    EXPECT_STREQ(signal_name(SIGABRT), "SIGABRT");
    EXPECT_STREQ(signal_name(SIGKILL), "SIGKILL");
    EXPECT_STREQ(signal_name(SIGUSR2), "SIGUSR2");
    EXPECT_STREQ(signal_name(0), "a signal");
    EXPECT_STREQ(signal_name(-1), "a signal");
    EXPECT_STREQ(signal_name(SIGRTMIN + 1), "a signal");
}

TEST(faults_descriptors, probe_sees_the_limit_and_closes_what_it_opened) {
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    EXPECT_TRUE(descriptors_available(8));
    EXPECT_TRUE(descriptors_available(0));
    // The probe leaves no descriptor behind: the next one opened is the same.
    int a = dup(0);
    ASSERT_GE(a, 0);
    close(a);
    EXPECT_TRUE(descriptors_available(16));
    int b = dup(0);
    EXPECT_EQ(a, b);
    close(b);
    // Room for only a few more descriptors.
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(a + 4);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    EXPECT_TRUE(descriptors_available(2));
    EXPECT_FALSE(descriptors_available(10));
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    EXPECT_TRUE(descriptors_available(10));
}

TEST(faults_rss, current_rss_reads_a_plausible_size) {
    std::uint64_t rss = current_rss();
    EXPECT_GT(rss, 0u);
    EXPECT_EQ(rss % static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)), 0u);
}

}  // namespace
}  // namespace subhttpd::reactor::faults

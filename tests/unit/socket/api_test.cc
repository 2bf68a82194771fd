// The Berkeley C API (<ustack/socket.h>) over a real Runtime: a Stack with only its
// loopback interface, driven by the runtime thread (or inline). Each call should
// behave as Linux's call of the same name: socket(2), recv(2), poll(2), fcntl(2),
// socket(7).
#include "ustack/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "socket/descriptors.h"
#include "stack/stack.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ustack::runtime::Mode;
using ustack::runtime::Runtime;

sockaddr_in lo(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
const sockaddr* sa(const sockaddr_in& a) { return reinterpret_cast<const sockaddr*>(&a); }

/// A runtime in `mode` installed as the default for ustack_socket(); torn down in
/// order: no new sockets, descriptors dropped, thread stopped, then the stack.
class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(Mode mode = Mode::threaded) : rt_(stack_, mode) {
    rt_.start();
    ustack::socket::set_default_runtime(&rt_);
  }
  ~ApiTest() override {
    ustack::socket::set_default_runtime(nullptr);
    ustack::socket::DescriptorTable::instance().release_runtime(&rt_);
    rt_.stop();
  }
  int udp_bound(std::uint16_t port, int type_flags = 0) {
    const int fd = ustack_socket(AF_INET, SOCK_DGRAM | type_flags, 0);
    EXPECT_GE(fd, 0);
    const auto a = lo(port);
    EXPECT_EQ(ustack_bind(fd, sa(a), sizeof a), 0) << std::strerror(errno);
    return fd;
  }
  ssize_t send_to_port(int fd, std::uint16_t port, const std::string& msg) {
    const auto a = lo(port);
    return ustack_sendto(fd, msg.data(), msg.size(), 0, sa(a), sizeof a);
  }

  ustack::stack::Stack stack_;
  Runtime rt_;
};

TEST_F(ApiTest, UdpOverLoopback) {
  const int rx = udp_bound(9000);
  const int tx = udp_bound(9001);
  ASSERT_EQ(send_to_port(tx, 9000, "hello"), 5);
  char buf[64];
  sockaddr_in from{};
  socklen_t fromlen = sizeof from;
  const ssize_t n = ustack_recvfrom(rx, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
  ASSERT_EQ(n, 5) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_EQ(fromlen, sizeof(sockaddr_in));
  EXPECT_EQ(from.sin_family, AF_INET);
  EXPECT_EQ(ntohs(from.sin_port), 9001);
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), INADDR_LOOPBACK);
  sockaddr_in name{};
  socklen_t namelen = sizeof name;
  ASSERT_EQ(ustack_getsockname(rx, reinterpret_cast<sockaddr*>(&name), &namelen), 0);
  EXPECT_EQ(ntohs(name.sin_port), 9000);
  // getpeername(2): "ENOTCONN The socket is not connected."
  EXPECT_EQ(ustack_getpeername(rx, reinterpret_cast<sockaddr*>(&name), &namelen), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(ustack_close(rx), 0);
  EXPECT_EQ(ustack_close(tx), 0);
}

TEST_F(ApiTest, DescriptorsAreSmallAndTheLowestFreeIsReused) {
  const int a = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  const int b = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  const int c = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(a, 0);
  EXPECT_LT(a, 16);
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(c, a + 2);
  // POSIX open(): "the lowest numbered unused file descriptor" (socket(2) likewise).
  ASSERT_EQ(ustack_close(b), 0);
  EXPECT_EQ(ustack_socket(AF_INET, SOCK_DGRAM, 0), b);
  EXPECT_EQ(ustack_socket(AF_INET, SOCK_DGRAM, 0), c + 1);
}

TEST_F(ApiTest, ClosedDescriptorIsEbadf) {
  const int fd = udp_bound(9000);
  ASSERT_EQ(ustack_close(fd), 0);
  char buf[8];
  errno = 0;
  EXPECT_EQ(ustack_recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(send_to_port(fd, 9000, "x"), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(ustack_close(fd), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(ustack_close(-1), -1);
  EXPECT_EQ(ustack_close(100000), -1);
}

TEST_F(ApiTest, BlockingRecvIsWokenBySendFromAnotherThread) {
  const int rx = udp_bound(9000);
  const int tx = udp_bound(9001);
  std::thread sender([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(send_to_port(tx, 9000, "wake"), 4);
  });
  char buf[16];
  const auto t0 = Clock::now();
  const ssize_t n = ustack_recv(rx, buf, sizeof buf, 0);
  const auto elapsed = Clock::now() - t0;
  sender.join();
  ASSERT_EQ(n, 4) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, 4), "wake");
  EXPECT_GE(elapsed, 90ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ApiTest, RcvtimeoEndsABlockingRecvWithEagain) {
  const int rx = udp_bound(9000);
  const timeval tv{0, 200000};
  ASSERT_EQ(ustack_setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  timeval back{};
  socklen_t len = sizeof back;
  ASSERT_EQ(ustack_getsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &back, &len), 0);
  EXPECT_EQ(len, sizeof(timeval));
  EXPECT_EQ(back.tv_sec, 0);
  EXPECT_EQ(back.tv_usec, 200000);
  char buf[8];
  const auto t0 = Clock::now();
  errno = 0;
  // socket(7) SO_RCVTIMEO: "If a blocking operation ... has blocked for this time,
  // it shall return ... with errno set to EAGAIN or EWOULDBLOCK".
  EXPECT_EQ(ustack_recv(rx, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  const auto elapsed = Clock::now() - t0;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LE(elapsed, 700ms);
}

TEST_F(ApiTest, NonBlockingModesGiveEagainAtOnce) {
  char buf[8];
  auto expect_eagain_now = [&](int fd, int flags) {
    const auto t0 = Clock::now();
    errno = 0;
    EXPECT_EQ(ustack_recv(fd, buf, sizeof buf, flags), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_LT(Clock::now() - t0, 100ms);
  };
  // fcntl(2) O_NONBLOCK.
  const int a = udp_bound(9000);
  EXPECT_EQ(ustack_fcntl(a, F_GETFL) & O_NONBLOCK, 0);
  ASSERT_EQ(ustack_fcntl(a, F_SETFL, ustack_fcntl(a, F_GETFL) | O_NONBLOCK), 0);
  EXPECT_NE(ustack_fcntl(a, F_GETFL) & O_NONBLOCK, 0);
  expect_eagain_now(a, 0);
  // socket(2) SOCK_NONBLOCK.
  const int b = udp_bound(9001, SOCK_NONBLOCK);
  EXPECT_NE(ustack_fcntl(b, F_GETFL) & O_NONBLOCK, 0);
  expect_eagain_now(b, 0);
  // recv(2) MSG_DONTWAIT on a blocking socket.
  const int c = udp_bound(9002);
  expect_eagain_now(c, MSG_DONTWAIT);
}

TEST_F(ApiTest, PollReportsReadinessAndIgnoresNegativeDescriptors) {
  const int rx = udp_bound(9000);
  const int tx = udp_bound(9001);
  const int closed = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(ustack_close(closed), 0);
  pollfd fds[3] = {{rx, POLLIN, 0}, {-1, POLLIN, 0}, {closed, POLLIN, 0}};
  // poll(2): a timeout of zero returns at once. "POLLNVAL Invalid request: fd not
  // open"; "If this field is negative, then the corresponding events field is ignored
  // and the revents field returns zero."
  const auto t0 = Clock::now();
  EXPECT_EQ(ustack_poll(fds, 3, 0), 1);
  EXPECT_LT(Clock::now() - t0, 100ms);
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, 0);
  EXPECT_EQ(fds[2].revents, POLLNVAL);

  ASSERT_EQ(send_to_port(tx, 9000, "x"), 1);
  pollfd one{rx, POLLIN, 0};
  EXPECT_EQ(ustack_poll(&one, 1, 1000), 1);
  EXPECT_EQ(one.revents, POLLIN);
  pollfd out{tx, POLLOUT, 0};
  EXPECT_EQ(ustack_poll(&out, 1, 0), 1);
  EXPECT_EQ(out.revents, POLLOUT);
  // Only a negative descriptor: nothing to wait for but the time.
  pollfd none{-1, POLLIN, 0};
  EXPECT_EQ(ustack_poll(&none, 1, 10), 0);
}

TEST_F(ApiTest, PollBlockingInOneThreadIsWokenBySendFromAnother) {
  const int rx = udp_bound(9000);
  const int tx = udp_bound(9001);
  std::thread sender([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(send_to_port(tx, 9000, "p"), 1);
  });
  pollfd p{rx, POLLIN, 0};
  const auto t0 = Clock::now();
  const int n = ustack_poll(&p, 1, 5000);
  const auto elapsed = Clock::now() - t0;
  sender.join();
  EXPECT_EQ(n, 1);
  EXPECT_EQ(p.revents, POLLIN);
  EXPECT_GE(elapsed, 90ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ApiTest, SockaddrErrors) {
  const int fd = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  const auto a = lo(9000);
  errno = 0;
  // bind(2): "EINVAL addrlen is wrong"; "EAFNOSUPPORT" for a family other than AF_INET
  // (ip(7)); "EFAULT addr points outside the user's accessible address space".
  EXPECT_EQ(ustack_bind(fd, sa(a), sizeof a - 1), -1);
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in six = a;
  six.sin_family = AF_INET6;
  errno = 0;
  EXPECT_EQ(ustack_bind(fd, sa(six), sizeof six), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  errno = 0;
  EXPECT_EQ(ustack_bind(fd, nullptr, sizeof a), -1);
  EXPECT_EQ(errno, EFAULT);
  errno = 0;
  EXPECT_EQ(ustack_sendto(fd, "x", 1, 0, sa(a), 3), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(ustack_socket(AF_INET6, SOCK_DGRAM, 0), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_EQ(ustack_bind(fd, sa(a), sizeof a), 0);  // the socket is still usable
}

TEST(ApiNoRuntime, SocketWithoutARuntimeIsEnetdown) {
  ustack::socket::set_default_runtime(nullptr);
  errno = 0;
  EXPECT_EQ(ustack_socket(AF_INET, SOCK_DGRAM, 0), -1);
  EXPECT_EQ(errno, ENETDOWN);
}

TEST_F(ApiTest, EightThreadsBlockedInRecvEachGetTheirOwnDatagram) {
  constexpr int kThreads = 8;
  std::vector<int> fds;
  for (int i = 0; i < kThreads; ++i) fds.push_back(udp_bound(static_cast<std::uint16_t>(9100 + i)));
  const int tx = udp_bound(9001);
  std::vector<std::string> got(kThreads);
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const timeval tv{5, 0};  // a bug must fail the test, not hang it
      EXPECT_EQ(ustack_setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
      ++started;
      char buf[32];
      const ssize_t n = ustack_recv(fds[i], buf, sizeof buf, 0);
      if (n > 0) got[i] = std::string(buf, static_cast<std::size_t>(n));
      // Exactly one: nothing else is queued.
      EXPECT_EQ(ustack_recv(fds[i], buf, sizeof buf, MSG_DONTWAIT), -1);
    });
  }
  while (started < kThreads) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);  // let them block
  for (int i = kThreads - 1; i >= 0; --i)
    ASSERT_EQ(send_to_port(tx, static_cast<std::uint16_t>(9100 + i), "for " + std::to_string(i)), 5);
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(got[i], "for " + std::to_string(i));
}

class InlineApiTest : public ApiTest {
 protected:
  InlineApiTest() : ApiTest(Mode::inline_loop) {}
};

TEST_F(InlineApiTest, BlockingRecvDrivesTheStackItself) {
  // No runtime thread: the loopback datagram is delivered only because the blocking
  // recv polls the stack while it waits.
  const int fd = udp_bound(9000);
  const timeval tv{2, 0};
  ASSERT_EQ(ustack_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  ASSERT_EQ(send_to_port(fd, 9000, "self"), 4);
  char buf[16];
  const auto t0 = Clock::now();
  const ssize_t n = ustack_recv(fd, buf, sizeof buf, 0);
  ASSERT_EQ(n, 4) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, 4), "self");
  EXPECT_LT(Clock::now() - t0, 1s);
  // And a poll with a timeout also drives it.
  ASSERT_EQ(send_to_port(fd, 9000, "again"), 5);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(ustack_poll(&p, 1, 1000), 1);
  EXPECT_EQ(p.revents, POLLIN);
}

}  // namespace

// The Berkeley C API on stream sockets over a Stack's loopback, driven by the
// runtime thread: listen(2), accept(2), connect(2) (blocking, EINPROGRESS,
// ECONNREFUSED), send(2) (whole buffer, EPIPE/SIGPIPE, MSG_NOSIGNAL), recv(2)
// (MSG_WAITALL, MSG_PEEK), SO_LINGER and TCP options, and epoll(7).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/time.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "runtime/runtime.h"
#include "socket/descriptors.h"
#include "stack/stack.h"
#include "ustack/socket.h"

namespace {

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

std::atomic<int> g_sigpipes{0};
void on_sigpipe(int) { ++g_sigpipes; }

class TcpApiTest : public ::testing::Test {
 protected:
  TcpApiTest() : rt_(stack_, Mode::threaded) {
    rt_.start();
    ustack::socket::set_default_runtime(&rt_);
  }
  ~TcpApiTest() override {
    ustack::socket::set_default_runtime(nullptr);
    ustack::socket::DescriptorTable::instance().release_runtime(&rt_);
    rt_.stop();
  }
  void SetUp() override {
    const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) GTEST_SKIP() << "TCP not yet in the stack";
    ustack_close(fd);
  }
  int listener(std::uint16_t port, int backlog = 128) {
    const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    const auto a = lo(port);
    EXPECT_EQ(ustack_bind(fd, sa(a), sizeof a), 0) << std::strerror(errno);
    EXPECT_EQ(ustack_listen(fd, backlog), 0) << std::strerror(errno);
    return fd;
  }
  int connected_client(std::uint16_t port) {
    const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
    const auto a = lo(port);
    EXPECT_EQ(ustack_connect(fd, sa(a), sizeof a), 0) << std::strerror(errno);
    return fd;
  }
  /// A connected pair: {client, accepted}.
  std::pair<int, int> pair(std::uint16_t port) {
    const int l = listener(port);
    const int c = connected_client(port);
    const int s = ustack_accept(l, nullptr, nullptr);
    EXPECT_GE(s, 0) << std::strerror(errno);
    ustack_close(l);
    return {c, s};
  }
  void set_rcvtimeo(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ASSERT_EQ(ustack_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  }

  ustack::stack::Stack stack_;
  Runtime rt_;
};

TEST_F(TcpApiTest, ListenAcceptConnectSendRecv) {
  const int l = listener(8000);
  const int c = connected_client(8000);
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  const int s = ustack_accept(l, reinterpret_cast<sockaddr*>(&peer), &plen);
  ASSERT_GE(s, 0) << std::strerror(errno);
  EXPECT_EQ(plen, sizeof(sockaddr_in));
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), INADDR_LOOPBACK);
  sockaddr_in mine{};
  socklen_t mlen = sizeof mine;
  ASSERT_EQ(ustack_getsockname(c, reinterpret_cast<sockaddr*>(&mine), &mlen), 0);
  EXPECT_EQ(mine.sin_port, peer.sin_port);
  // accept(2): the new descriptor is the lowest free one.
  EXPECT_EQ(s, std::max(l, c) + 1);
  ASSERT_EQ(ustack_send(c, "hello", 5, 0), 5);
  char buf[16];
  ASSERT_EQ(ustack_recv(s, buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  ASSERT_EQ(ustack_send(s, "world!", 6, 0), 6);
  ASSERT_EQ(ustack_recv(c, buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "world!");
  ASSERT_EQ(ustack_close(c), 0);
  EXPECT_EQ(ustack_recv(s, buf, sizeof buf, 0), 0);  // end of stream
  ustack_close(s);
  ustack_close(l);
}

TEST_F(TcpApiTest, AcceptOnNonBlockingListenerSaysEagainAndAccept4SetsFlags) {
  const int l = listener(8001);
  ASSERT_EQ(ustack_fcntl(l, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(ustack_accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(ustack_accept4(l, nullptr, nullptr, 0x7), -1);
  EXPECT_EQ(errno, EINVAL);
  const int c = connected_client(8001);
  pollfd p{l, POLLIN, 0};
  ASSERT_EQ(ustack_poll(&p, 1, 2000), 1);
  const int s = ustack_accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
  ASSERT_GE(s, 0) << std::strerror(errno);
  EXPECT_TRUE(ustack_fcntl(s, F_GETFL) & O_NONBLOCK);
  char b;
  EXPECT_EQ(ustack_recv(s, &b, 1, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  ustack_close(c);
  ustack_close(s);
  ustack_close(l);
}

TEST_F(TcpApiTest, BlockingAcceptHonoursSoRcvtimeo) {
  const int l = listener(8002);
  set_rcvtimeo(l, 100);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(ustack_accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(90));
  ustack_close(l);
}

TEST_F(TcpApiTest, NonBlockingConnectGivesEinprogressThenPollOutAndSoErrorZero) {
  const int l = listener(8003);
  const int c = ustack_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const auto a = lo(8003);
  ASSERT_EQ(ustack_connect(c, sa(a), sizeof a), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  pollfd p{c, POLLOUT, 0};
  ASSERT_EQ(ustack_poll(&p, 1, 2000), 1);
  EXPECT_TRUE(p.revents & POLLOUT);
  int err = -1;
  socklen_t len = sizeof err;
  ASSERT_EQ(ustack_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(ustack_connect(c, sa(a), sizeof a), -1);
  EXPECT_EQ(errno, EISCONN);
  ustack_close(c);
  ustack_close(l);
}

TEST_F(TcpApiTest, ConnectToAClosedPortIsRefused) {
  const int c = ustack_socket(AF_INET, SOCK_STREAM, 0);
  const auto a = lo(8004);
  EXPECT_EQ(ustack_connect(c, sa(a), sizeof a), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ustack_close(c);

  const int n = ustack_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_EQ(ustack_connect(n, sa(a), sizeof a), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  pollfd p{n, POLLOUT, 0};
  ASSERT_EQ(ustack_poll(&p, 1, 2000), 1);
  EXPECT_TRUE(p.revents & POLLERR);
  int err = 0;
  socklen_t len = sizeof err;
  ASSERT_EQ(ustack_getsockopt(n, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, ECONNREFUSED);
  ASSERT_EQ(ustack_getsockopt(n, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);  // SO_ERROR is cleared by reading it
  ustack_close(n);
}

TEST_F(TcpApiTest, MsgWaitallWaitsForTheWholeLength) {
  auto [c, s] = pair(8005);
  std::thread writer([c = c] {
    for (int i = 0; i < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ustack_send(c, "abcd", 4, 0);
    }
  });
  char buf[16];
  EXPECT_EQ(ustack_recv(s, buf, 16, MSG_WAITALL), 16);
  EXPECT_EQ(std::string(buf, 16), "abcdabcdabcdabcd");
  writer.join();
  // At the end of the stream MSG_WAITALL returns what there is.
  ustack_send(c, "xy", 2, 0);
  ustack_shutdown(c, SHUT_WR);
  EXPECT_EQ(ustack_recv(s, buf, 16, MSG_WAITALL), 2);
  ustack_close(c);
  ustack_close(s);
}

TEST_F(TcpApiTest, MsgPeekLeavesTheBytes) {
  auto [c, s] = pair(8006);
  ASSERT_EQ(ustack_send(c, "peek", 4, 0), 4);
  char buf[8];
  ASSERT_EQ(ustack_recv(s, buf, 4, MSG_PEEK | MSG_WAITALL), 4);
  ASSERT_EQ(ustack_recv(s, buf, 8, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "peek");
  ustack_close(c);
  ustack_close(s);
}

TEST_F(TcpApiTest, SendAfterShutdownIsEpipeWithSigpipeUnlessMsgNosignal) {
  struct sigaction act{}, old{};
  act.sa_handler = on_sigpipe;
  sigaction(SIGPIPE, &act, &old);
  auto [c, s] = pair(8007);
  ASSERT_EQ(ustack_shutdown(c, SHUT_WR), 0);
  g_sigpipes = 0;
  EXPECT_EQ(ustack_send(c, "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(g_sigpipes.load(), 0);
  EXPECT_EQ(ustack_send(c, "x", 1, 0), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(g_sigpipes.load(), 1);
  EXPECT_EQ(ustack_write(c, "x", 1), -1);
  EXPECT_EQ(g_sigpipes.load(), 2);
  sigaction(SIGPIPE, &old, nullptr);
  ustack_close(c);
  ustack_close(s);
}

TEST_F(TcpApiTest, BlockingSendQueuesTheWholeBuffer) {
  auto [c, s] = pair(8008);
  constexpr std::size_t kLen = 8 << 20;  // far more than the send and receive buffers
  std::string data(kLen, '\0');
  for (std::size_t i = 0; i < kLen; ++i) data[i] = static_cast<char>(i * 131 + (i >> 12));
  set_rcvtimeo(s, 10000);  // a stall fails the test instead of hanging it
  timeval tv{10, 0};
  ASSERT_EQ(ustack_setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
  std::string got;
  std::thread reader([&, s = s] {
    std::vector<char> buf(65536);
    while (true) {
      const ssize_t n = ustack_recv(s, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      got.append(buf.data(), static_cast<std::size_t>(n));
    }
  });
  EXPECT_EQ(ustack_send(c, data.data(), data.size(), 0), static_cast<ssize_t>(kLen));
  ustack_close(c);
  reader.join();
  EXPECT_EQ(got.size(), kLen);
  EXPECT_TRUE(got == data);
  ustack_close(s);
}

TEST_F(TcpApiTest, LingerAndTcpOptionsRoundTrip) {
  const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
  linger l{1, 5};
  ASSERT_EQ(ustack_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
  linger got{};
  socklen_t len = sizeof got;
  ASSERT_EQ(ustack_getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
  EXPECT_EQ(len, sizeof got);
  EXPECT_EQ(got.l_onoff, 1);
  EXPECT_EQ(got.l_linger, 5);
  EXPECT_EQ(ustack_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(int)), -1);
  EXPECT_EQ(errno, EINVAL);
  const int one = 1;
  ASSERT_EQ(ustack_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0) << std::strerror(errno);
  int v = 0;
  len = sizeof v;
  ASSERT_EQ(ustack_getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  EXPECT_NE(v, 0);
  ASSERT_EQ(ustack_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one), 0);
  const int idle = 30;
  ASSERT_EQ(ustack_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle), 0);
  len = sizeof v;
  ASSERT_EQ(ustack_getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
  EXPECT_EQ(v, 30);
  ustack_close(fd);
}

TEST_F(TcpApiTest, EpollControlErrorsAreLinuxs) {
  const int ep = ustack_epoll_create1(0);
  ASSERT_GE(ep, 0);
  const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  EXPECT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), -1);
  EXPECT_EQ(errno, ENOENT);
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  EXPECT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ustack_epoll_ctl(fd, EPOLL_CTL_ADD, ep, &ev), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(ustack_epoll_wait(ep, &ev, 0, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ustack_recv(ep, &ev, 1, 0), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr), 0);
  EXPECT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(ustack_close(ep), 0);
  EXPECT_EQ(ustack_close(fd), 0);
}

TEST_F(TcpApiTest, EpollIsLevelTriggeredAndHonoursOneshotAndEdgeTriggering) {
  auto [c, s] = pair(8009);
  const int ep = ustack_epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 42;
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
  epoll_event out[4];
  EXPECT_EQ(ustack_epoll_wait(ep, out, 4, 0), 0);
  ASSERT_EQ(ustack_send(c, "ab", 2, 0), 2);
  ASSERT_EQ(ustack_epoll_wait(ep, out, 4, 2000), 1);
  EXPECT_EQ(out[0].data.u64, 42u);
  EXPECT_EQ(out[0].events, static_cast<std::uint32_t>(EPOLLIN));
  // Level-triggered: still readable, so reported again.
  ASSERT_EQ(ustack_epoll_wait(ep, out, 4, 0), 1);
  char b[2];
  ASSERT_EQ(ustack_recv(s, b, 2, 0), 2);
  EXPECT_EQ(ustack_epoll_wait(ep, out, 4, 0), 0);
  // One-shot: reported once, then disarmed until EPOLL_CTL_MOD.
  ev.events = EPOLLIN | EPOLLONESHOT;
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
  ASSERT_EQ(ustack_send(c, "c", 1, 0), 1);
  ASSERT_EQ(ustack_epoll_wait(ep, out, 4, 2000), 1);
  EXPECT_EQ(ustack_epoll_wait(ep, out, 4, 50), 0);
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
  ASSERT_EQ(ustack_epoll_wait(ep, out, 4, 0), 1);
  // Edge-triggered: reported once until more data comes.
  ev.events = EPOLLIN | EPOLLET;
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
  ASSERT_EQ(ustack_epoll_wait(ep, out, 4, 0), 1);
  EXPECT_EQ(ustack_epoll_wait(ep, out, 4, 50), 0);
  ASSERT_EQ(ustack_send(c, "d", 1, 0), 1);
  ASSERT_EQ(ustack_epoll_wait(ep, out, 4, 2000), 1);
  // The peer's close shows as EPOLLIN|EPOLLRDHUP when asked for.
  ASSERT_EQ(ustack_recv(s, b, 2, 0), 2);  // "c" and "d"
  ev.events = EPOLLIN | EPOLLRDHUP;
  ASSERT_EQ(ustack_epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
  ustack_close(c);
  bool rdhup = false;
  for (int i = 0; i < 20 && !rdhup; ++i) {
    ASSERT_GE(ustack_epoll_wait(ep, out, 4, 100), 0);
    rdhup = out[0].events & EPOLLRDHUP;
  }
  EXPECT_TRUE(rdhup);
  // Closing a descriptor removes it from the epoll set.
  ustack_close(s);
  EXPECT_EQ(ustack_epoll_wait(ep, out, 4, 0), 0);
  ustack_close(ep);
}

TEST_F(TcpApiTest, EpollServesAThousandConnections) {
  constexpr int kConns = 1000;
  const int l = listener(8010, 4096);
  ASSERT_EQ(ustack_fcntl(l, F_SETFL, O_NONBLOCK), 0);
  // The server: one thread, epoll, echoes each 8-byte message.
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};
  std::thread server([&] {
    const int ep = ustack_epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = l;
    ustack_epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    std::vector<epoll_event> out(256);
    std::vector<int> conns;
    while (!stop) {
      const int n = ustack_epoll_wait(ep, out.data(), static_cast<int>(out.size()), 50);
      for (int i = 0; i < n; ++i) {
        const int fd = out[static_cast<std::size_t>(i)].data.fd;
        if (fd == l) {
          int a;
          while ((a = ustack_accept4(l, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
            epoll_event cev{};
            cev.events = EPOLLIN;
            cev.data.fd = a;
            ustack_epoll_ctl(ep, EPOLL_CTL_ADD, a, &cev);
            conns.push_back(a);
          }
          continue;
        }
        char buf[64];
        const ssize_t r = ustack_recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
          ++served;  // before the echo: the client may check the count as soon as it has it
          ustack_send(fd, buf, static_cast<size_t>(r), MSG_NOSIGNAL);
        } else if (r == 0) {
          ustack_close(fd);
        }
      }
    }
    ustack_close(ep);
  });
  std::vector<int> clients;
  for (int i = 0; i < kConns; ++i) {
    const int c = connected_client(8010);
    ASSERT_GE(c, 0);
    set_rcvtimeo(c, 5000);
    clients.push_back(c);
  }
  for (int i = 0; i < kConns; ++i) {
    char msg[8];
    std::snprintf(msg, sizeof msg, "%07d", i);
    ASSERT_EQ(ustack_send(clients[static_cast<std::size_t>(i)], msg, 8, 0), 8);
  }
  for (int i = 0; i < kConns; ++i) {
    char buf[8];
    ASSERT_EQ(ustack_recv(clients[static_cast<std::size_t>(i)], buf, 8, MSG_WAITALL), 8) << i << " " << std::strerror(errno);
    char want[8];
    std::snprintf(want, sizeof want, "%07d", i);
    ASSERT_EQ(std::memcmp(buf, want, 8), 0);
  }
  EXPECT_EQ(served.load(), kConns);
  for (int c : clients) ustack_close(c);
  stop = true;
  server.join();
  ustack_close(l);
}

}  // namespace

namespace ustack::socket {
namespace {

TEST_F(TcpApiTest, TcpCongestionSetsAndReportsTheAlgorithmByName) {
  // tcp(7) TCP_CONGESTION: a string; Linux's default is cubic; an unknown name is ENOENT.
  const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
  char name[32] = {};
  socklen_t len = sizeof name;
  ASSERT_EQ(ustack_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
  EXPECT_STREQ(name, "cubic");
  EXPECT_EQ(len, 16u);  // TCP_CA_NAME_MAX
  EXPECT_EQ(ustack_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);  // no NUL needed
  len = sizeof name;
  ASSERT_EQ(ustack_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
  EXPECT_STREQ(name, "reno");
  EXPECT_EQ(ustack_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "bogus", 6), -1);
  EXPECT_EQ(errno, ENOENT);
  len = 3;  // a short buffer gets a prefix
  std::memset(name, 0, sizeof name);
  ASSERT_EQ(ustack_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
  EXPECT_EQ(len, 3u);
  EXPECT_STREQ(name, "ren");
  ustack_close(fd);
  // On a connection it switches at once, and TCP_INFO still reads.
  auto [c, s] = pair(8102);
  EXPECT_EQ(ustack_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 5), 0);
  len = sizeof name;
  ASSERT_EQ(ustack_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
  EXPECT_STREQ(name, "reno");
  const int u = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(ustack_setsockopt(u, IPPROTO_TCP, TCP_CONGESTION, "reno", 5), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
  ustack_close(u);
  ustack_close(s);
  ustack_close(c);
}

TEST_F(TcpApiTest, TcpInfoReportsStateOptionsAndCounters) {
  // tcp(7) TCP_INFO: the state in Linux's numbering, the agreed options, and counters.
  auto [c, s] = pair(8100);
  std::vector<char> data(100000, 'x');
  ASSERT_EQ(ustack_send(c, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  std::vector<char> in(data.size());
  ASSERT_EQ(ustack_recv(s, in.data(), in.size(), MSG_WAITALL), static_cast<ssize_t>(in.size()));
  tcp_info info{};
  socklen_t len = sizeof info;
  ASSERT_EQ(ustack_getsockopt(c, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_EQ(len, sizeof info);
  EXPECT_EQ(info.tcpi_state, 1);        // TCP_ESTABLISHED
  EXPECT_EQ(info.tcpi_options & 7, 7);  // timestamps, SACK, window scaling
  EXPECT_EQ(info.tcpi_snd_wscale, 7);
  EXPECT_GE(info.tcpi_rto, 200000u);    // at least the 200 ms minimum, in microseconds
  EXPECT_EQ(info.tcpi_snd_mss, 65495u - 12u);  // loopback MSS less the timestamps option
  EXPECT_GT(info.tcpi_snd_cwnd, 0u);
  // Linux's longer struct goes on with tcpi_pacing_rate (bytes/s) at offset 104.
  unsigned char linux_info[120] = {};
  socklen_t llen = sizeof linux_info;
  ASSERT_EQ(ustack_getsockopt(c, IPPROTO_TCP, TCP_INFO, linux_info, &llen), 0);
  ASSERT_GE(llen, 112u);
  std::uint64_t pacing_rate = 1, max_pacing_rate = 0;
  std::memcpy(&pacing_rate, linux_info + 104, sizeof pacing_rate);
  std::memcpy(&max_pacing_rate, linux_info + 112, sizeof max_pacing_rate);
  // No pacing rate without an RTT (loopback's may be under the 1 ms timestamp clock).
  EXPECT_EQ(pacing_rate > 0, info.tcpi_rtt > 0) << pacing_rate << " " << info.tcpi_rtt;
  EXPECT_EQ(max_pacing_rate, ~std::uint64_t{0});
  // A shorter buffer gets a prefix, and the length says how much.
  tcp_info part{};
  socklen_t plen = 8;
  ASSERT_EQ(ustack_getsockopt(s, IPPROTO_TCP, TCP_INFO, &part, &plen), 0);
  EXPECT_EQ(plen, 8u);
  EXPECT_EQ(part.tcpi_state, 1);
  const int l = listener(8101);
  ASSERT_EQ(ustack_getsockopt(l, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_EQ(info.tcpi_state, 10);  // TCP_LISTEN
  const int u = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(ustack_getsockopt(u, IPPROTO_TCP, TCP_INFO, &info, &len), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  ustack_close(u);
  ustack_close(l);
  ustack_close(s);
  ustack_close(c);
}

}  // namespace
}  // namespace ustack::socket

// TCP between two ustack stacks on the simulated network: the handshake, bulk
// data both ways byte-exact (clean and under seeded loss, reordering and
// duplication), and the close sequence.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include <numeric>
#include <vector>

#include "host/sim_world.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

struct Pair {
  host::SimWorld world;
  stack::Stack* a = nullptr;
  stack::Stack* b = nullptr;
  explicit Pair(std::uint64_t seed, std::optional<link::ImpairSpec> impair = std::nullopt,
                link::LinkParams params = {std::chrono::microseconds(500), 100'000'000, 1000},
                int syncookies = 1)
      : world(seed) {
    world.host_config().tcp_syncookies = syncookies;
    auto& pa = world.net().add_port("a");
    auto& pb = world.net().add_port("b");
    EXPECT_TRUE(world.net().connect(pa, pb, params).ok());
    link::Device& da = impair ? world.impair(pa, *impair) : static_cast<link::Device&>(pa);
    a = &world.add_host("a", da, {Ipv4Addr(198, 18, 0, 1), 24});
    b = &world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  }
};

std::vector<base::Byte> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<base::Byte> v(n);
  std::uint32_t x = seed | 1;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<base::Byte>(x);
  }
  return v;
}

/// Connects a to b:port; returns {client on a, server on b}.
std::pair<SocketId, SocketId> open(Pair& p, std::uint16_t port) {
  auto l = *p.b->socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_TRUE(p.b->bind(l, {Ipv4Addr::any(), port}).ok());
  EXPECT_TRUE(p.b->listen(l, 16).ok());
  auto c = *p.a->socket(AF_INET, SOCK_STREAM, 0);
  auto st = p.a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), port});
  EXPECT_EQ(st.error(), base::Errc::in_progress);
  std::optional<SocketId> server;
  EXPECT_TRUE(p.world.run_until([&] {
    if (!server) {
      auto r = p.b->accept(l, nullptr);
      if (r) server = *r;
    }
    return server && (p.a->readiness(c) & POLLOUT);
  }, 10s));
  EXPECT_EQ(*p.a->get_option(c, SOL_SOCKET, SO_ERROR), 0);
  (void)p.b->close(l);
  return {c, server.value_or(-1)};
}

/// Moves `data` from (sa, from) to (sb, to), reading as it goes; returns what arrived.
std::vector<base::Byte> transfer(Pair& p, stack::Stack& sa, SocketId from, stack::Stack& sb, SocketId to,
                                 const std::vector<base::Byte>& data, base::Duration limit) {
  std::vector<base::Byte> got;
  std::size_t sent = 0;
  std::vector<base::Byte> buf(65536);
  p.world.run_until([&] {
    while (sent < data.size()) {
      auto n = sa.send_to(from, base::ByteSpan(data).subspan(sent), nullptr, 0);
      if (!n) break;
      sent += *n;
    }
    if (sent == data.size()) (void)sa.shutdown(from, SHUT_WR);
    while (true) {
      auto r = sb.recv_from(to, buf, 0);
      if (!r || r->copied == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(r->copied));
    }
    return got.size() == data.size() && sent == data.size();
  }, limit);
  return got;
}

TEST(TcpSim, HandshakeThenBulkBothWaysByteExactThenClose) {
  Pair p(1);
  auto [c, s] = open(p, 8080);
  ASSERT_GE(s, 0);
  const auto up = pattern(1 << 20, 1);
  const auto got_up = transfer(p, *p.a, c, *p.b, s, up, 60s);
  EXPECT_EQ(got_up.size(), up.size());
  EXPECT_TRUE(got_up == up);
  const auto down = pattern(1 << 20, 2);
  const auto got_down = transfer(p, *p.b, s, *p.a, c, down, 60s);
  EXPECT_TRUE(got_down == down);
  // Both directions are shut: each side reads the end of the stream.
  std::vector<base::Byte> buf(16);
  EXPECT_TRUE(p.world.run_until([&] {
    auto r1 = p.a->recv_from(c, buf, 0);
    auto r2 = p.b->recv_from(s, buf, 0);
    return r1 && r1->copied == 0 && r2 && r2->copied == 0;
  }, 5s));
  EXPECT_TRUE(p.a->close(c).ok());
  EXPECT_TRUE(p.b->close(s).ok());
  p.world.run_for(1s);
  EXPECT_EQ(p.a->counters().TcpActiveOpens, 1u);
  EXPECT_EQ(p.b->counters().TcpPassiveOpens, 1u);
  EXPECT_EQ(p.a->counters().TcpEstabResets + p.b->counters().TcpEstabResets, 0u);
  // A link that loses nothing: nothing is sent twice.
  EXPECT_EQ(p.a->counters().TcpRetransSegs, 0u);
  EXPECT_EQ(p.b->counters().TcpRetransSegs, 0u);
}

TEST(TcpSim, ConnectToAClosedPortIsRefused) {
  Pair p(2);
  auto c = *p.a->socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(p.a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 9}).error(), base::Errc::in_progress);
  EXPECT_TRUE(p.world.run_until([&] { return (p.a->readiness(c) & POLLERR) != 0; }, 5s));
  EXPECT_EQ(*p.a->get_option(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
}

class TcpSimImpaired : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TcpSimImpaired, TransferIsByteExactUnderLossReorderAndDuplication) {
  link::ImpairSpec spec;
  spec.loss = 0.02;
  spec.reorder = 0.02;
  spec.dup = 0.01;
  spec.seed = GetParam();
  Pair p(GetParam(), spec);
  auto [c, s] = open(p, 8080);
  ASSERT_GE(s, 0);
  const auto data = pattern(512 * 1024, static_cast<std::uint32_t>(GetParam()));
  const auto got = transfer(p, *p.a, c, *p.b, s, data, 300s);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  // The impairment did bite: segments were lost and sent again.
  EXPECT_GT(p.a->counters().TcpRetransSegs, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, TcpSimImpaired, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace ustack

namespace ustack {
namespace {

TEST(TcpSim, SimultaneousOpenEstablishesBothSides) {
  // RFC 9293 3.5, Figure 8: both ends send SYN at once; each goes SYN-SENT ->
  // SYN-RECEIVED -> ESTABLISHED.
  Pair p(5);
  auto ca = *p.a->socket(AF_INET, SOCK_STREAM, 0);
  auto cb = *p.b->socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(p.a->bind(ca, {Ipv4Addr::any(), 5000}).ok());
  ASSERT_TRUE(p.b->bind(cb, {Ipv4Addr::any(), 6000}).ok());
  EXPECT_EQ(p.a->connect(ca, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 6000}).error(), base::Errc::in_progress);
  EXPECT_EQ(p.b->connect(cb, base::Endpoint{Ipv4Addr(198, 18, 0, 1), 5000}).error(), base::Errc::in_progress);
  ASSERT_TRUE(p.world.run_until([&] {
    return (p.a->readiness(ca) & POLLOUT) && (p.b->readiness(cb) & POLLOUT);
  }, 10s));
  EXPECT_EQ(*p.a->get_option(ca, SOL_SOCKET, SO_ERROR), 0);
  EXPECT_EQ(*p.b->get_option(cb, SOL_SOCKET, SO_ERROR), 0);
  const auto data = pattern(10000, 9);
  EXPECT_TRUE(transfer(p, *p.a, ca, *p.b, cb, data, 10s) == data);
}

TEST(TcpSim, HalfCloseLetsThePeerKeepSending) {
  // RFC 9293 3.6: after our FIN the connection still carries the peer's data.
  Pair p(6);
  auto [c, s] = open(p, 8080);
  ASSERT_TRUE(p.a->shutdown(c, SHUT_WR).ok());
  std::vector<base::Byte> buf(64);
  ASSERT_TRUE(p.world.run_until([&] {
    auto r = p.b->recv_from(s, buf, 0);
    return r && r->copied == 0;  // the server reads the end of the stream
  }, 5s));
  const auto data = pattern(200000, 3);
  EXPECT_TRUE(transfer(p, *p.b, s, *p.a, c, data, 30s) == data);
  EXPECT_EQ(p.a->send_to(c, base::as_bytes("x", 1), nullptr, MSG_NOSIGNAL).error(), base::Errc::pipe);
}

TEST(TcpSim, SynForAPairInTimeWaitOpensANewIncarnationWhenItsTimestampIsNewer) {
  // RFC 6191: the server closed first and holds the pair in TIME-WAIT; the
  // client's new SYN from the same port carries a newer timestamp and is accepted.
  Pair p(7);
  auto l = *p.b->socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(p.b->bind(l, {Ipv4Addr::any(), 8080}).ok());
  ASSERT_TRUE(p.b->listen(l, 4).ok());
  auto connect_from = [&](std::uint16_t port) {
    auto c = *p.a->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_TRUE(p.a->set_option(c, SOL_SOCKET, SO_REUSEADDR, 1).ok());
    EXPECT_TRUE(p.a->bind(c, {Ipv4Addr::any(), port}).ok());
    (void)p.a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 8080});
    std::optional<SocketId> s;
    EXPECT_TRUE(p.world.run_until([&] {
      if (!s) if (auto r = p.b->accept(l, nullptr)) s = *r;
      return s && (p.a->readiness(c) & POLLOUT);
    }, 10s));
    return std::pair{c, s.value_or(-1)};
  };
  auto [c1, s1] = connect_from(40000);
  ASSERT_GE(s1, 0);
  ASSERT_TRUE(p.b->close(s1).ok());  // the server closes first: it will hold TIME-WAIT
  std::vector<base::Byte> buf(16);
  ASSERT_TRUE(p.world.run_until([&] { auto r = p.a->recv_from(c1, buf, 0); return r && r->copied == 0; }, 5s));
  ASSERT_TRUE(p.a->close(c1).ok());
  p.world.run_for(2s);  // well inside 2*MSL (60 s)
  auto [c2, s2] = connect_from(40000);
  EXPECT_GE(s2, 0);
  EXPECT_EQ(p.b->counters().TcpTimeWaitReused, 1u);
  EXPECT_EQ(*p.a->get_option(c2, SOL_SOCKET, SO_ERROR), 0);
}

}  // namespace
}  // namespace ustack

namespace ustack {
namespace {

TEST(TcpSim, ABurstWhileArpReResolvesIsDeliveredAndCrashesNothing) {
  // Regression: after the ARP entry aged out (60 s), a burst larger than ARP's
  // queue overflowed it; the overflow was reported back into the connection while
  // it was sending (a re-entrant tcp_after). Overflow is now only counted, and
  // TCP retransmits what was dropped.
  Pair p(12);
  auto [c, s] = open(p, 8080);
  ASSERT_GE(s, 0);
  p.world.run_for(61s);
  const auto data = pattern(300000, 12);
  const auto got = transfer(p, *p.a, c, *p.b, s, data, 120s);
  EXPECT_TRUE(got == data);
  EXPECT_GT(p.a->counters().DropArpQueueOverflow, 0u);
  EXPECT_EQ(p.a->counters().TcpEstabResets, 0u);
}

}  // namespace
}  // namespace ustack

namespace ustack {
namespace {

TEST(TcpSim, CloseWithDataQueuedDeliversAllOfItBeforeTheFin) {
  // RFC 9293 3.10.4 CLOSE: "Queue this until all preceding SENDs have been
  // segmentized, then form a FIN segment and send it." The socket is gone at
  // once; the stack finishes the orphaned connection.
  Pair p(13);
  auto [c, s] = open(p, 8080);
  const auto data = pattern(1 << 20, 13);
  std::size_t queued = 0;
  while (queued < data.size()) {
    auto n = p.a->send_to(c, base::ByteSpan(data).subspan(queued), nullptr, 0);
    if (!n) break;
    queued += *n;
  }
  ASSERT_GT(queued, 0u);
  ASSERT_TRUE(p.a->close(c).ok());  // most of it still unsent
  std::vector<base::Byte> got, buf(65536);
  bool eof = false;
  ASSERT_TRUE(p.world.run_until([&] {
    while (auto r = p.b->recv_from(s, buf, 0)) {
      if (r->copied == 0) { eof = true; break; }
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(r->copied));
    }
    return eof;
  }, 60s));
  ASSERT_EQ(got.size(), queued);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));
  EXPECT_EQ(p.a->counters().TcpOutRsts, 0u);
}

TEST(TcpSim, ListenBacklogBoundsTheAcceptQueueAndLaterSynsAreRetried) {
  // listen(2): "The backlog argument defines the maximum length to which the queue
  // of pending connections ... may grow." As Linux (sk_acceptq_is_full: more than
  // backlog), backlog 1 lets two connections wait; without SYN cookies
  // (tcp_syncookies=0) further SYNs are dropped once the SYN queue holds more than
  // the backlog, and their retransmissions get in once accept() makes room.
  Pair p(14, std::nullopt, {std::chrono::microseconds(500), 100'000'000, 1000}, /*syncookies=*/0);
  auto l = *p.b->socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(p.b->bind(l, {Ipv4Addr::any(), 8080}).ok());
  ASSERT_TRUE(p.b->listen(l, 1).ok());
  std::vector<SocketId> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(*p.a->socket(AF_INET, SOCK_STREAM, 0));
    (void)p.a->connect(clients.back(), base::Endpoint{Ipv4Addr(198, 18, 0, 2), 8080});
  }
  p.world.run_for(500ms);
  // The first two completed; the others' SYNs were dropped (the SYN queue was full).
  int accepted = 0;
  while (p.b->accept(l, nullptr)) ++accepted;
  EXPECT_EQ(accepted, 2);
  EXPECT_GE(p.b->counters().TcpExtTCPReqQFullDrop, 2u);
  EXPECT_EQ(p.b->counters().TcpExtSyncookiesSent, 0u);
  // With room made, the SYN retransmissions (at 1 s) bring the others in.
  EXPECT_TRUE(p.world.run_until([&] {
    while (p.b->accept(l, nullptr)) ++accepted;
    return accepted == 4;
  }, 10s));
  for (auto c : clients) EXPECT_EQ(*p.a->get_option(c, SOL_SOCKET, SO_ERROR), 0);
}

TEST(TcpSim, WithCookiesAFullAcceptQueueDropsTheCookieAckAndTheClientsDataGetsItIn) {
  // With SYN cookies (the default) the third and fourth SYN get cookies; their
  // ACKs meet a full accept queue and are dropped (TcpExtListenOverflows). The
  // clients believe they are connected; the data they send carries the cookie
  // again, and its retransmission is accepted once accept() made room.
  Pair p(14);
  auto l = *p.b->socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(p.b->bind(l, {Ipv4Addr::any(), 8080}).ok());
  ASSERT_TRUE(p.b->listen(l, 1).ok());
  std::vector<SocketId> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(*p.a->socket(AF_INET, SOCK_STREAM, 0));
    (void)p.a->connect(clients.back(), base::Endpoint{Ipv4Addr(198, 18, 0, 2), 8080});
  }
  p.world.run_for(100ms);
  EXPECT_EQ(p.b->counters().TcpExtSyncookiesSent, 2u);
  EXPECT_GE(p.b->counters().TcpExtListenOverflows, 2u);
  const std::vector<base::Byte> hello(100, base::Byte{'h'});
  for (auto c : clients) ASSERT_TRUE(p.a->send_to(c, hello, nullptr, 0).ok());
  std::vector<SocketId> accepted;
  std::size_t received = 0;
  std::vector<base::Byte> buf(1000);
  EXPECT_TRUE(p.world.run_until([&] {
    while (auto s = p.b->accept(l, nullptr)) accepted.push_back(*s);
    for (auto s : accepted)
      while (auto r = p.b->recv_from(s, buf, 0)) {
        if (r->copied == 0) break;
        received += r->copied;
      }
    return accepted.size() == 4 && received == 400;
  }, 10s));
  EXPECT_EQ(p.b->counters().TcpExtSyncookiesRecv, p.b->counters().TcpExtSyncookiesSent + 2);  // 2 dropped, 2 again
  for (auto c : clients) EXPECT_EQ(*p.a->get_option(c, SOL_SOCKET, SO_ERROR), 0);
}

}  // namespace
}  // namespace ustack

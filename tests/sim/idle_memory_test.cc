// Memory per idle connection (issue 5, "Scale"): what one stack holds per
// established, idle connection, beyond buffered data, stays within 2 KB; the
// buffers' storage goes back when a connection goes idle and comes back, with
// every byte intact, when it is busy again; the settings that sockets share
// (copy on write) still change for one socket only.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

#include "bench/idle_scale.h"
#include "host/sim_world.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

// The bench's scale rows (bench/idle_scale.h) at 2,000 connections: 4,000
// endpoints, each having carried a 100-byte request, then idle. The target is
// issue 5's: 2 KB or less per endpoint. Every TCB, socket entry, congestion
// control object, table entry and vector capacity is in the count (malloc's
// bytes in use, chunk headers included; under ASan its allocator's bytes).
TEST(IdleMemory, HeapPerIdleEndpointIsWithinTwoKilobytes) {
  const bench::IdleScaleResult r = bench::measure_idle_connections(2000);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.established, 2000u);
  std::printf("heap per idle endpoint at 2,000 connections: %.0f bytes\n", r.bytes_per_endpoint);
  EXPECT_LE(r.bytes_per_endpoint, 2048.0) << "heap grew " << r.heap_delta << " bytes for 4,000 endpoints";
  // And not for want of counting: an endpoint is at least its TCB.
  EXPECT_GE(r.bytes_per_endpoint, 1000.0);
}

struct Pair {
  host::SimWorld world{3};
  stack::Stack* a = nullptr;
  stack::Stack* b = nullptr;
  Pair() {
    auto& pa = world.net().add_port("a");
    auto& pb = world.net().add_port("b");
    EXPECT_TRUE(world.net().connect(pa, pb, {std::chrono::microseconds(500), 100'000'000, 1000}).ok());
    a = &world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
    b = &world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  }
  /// a connects to b:port; {client on a, server on b}.
  std::pair<SocketId, SocketId> open(std::uint16_t port, const std::function<void(SocketId)>& on_listener = {}) {
    auto l = *b->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_TRUE(b->bind(l, {Ipv4Addr::any(), port}).ok());
    if (on_listener) on_listener(l);
    EXPECT_TRUE(b->listen(l, 16).ok());
    auto c = *a->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), port}).error(), base::Errc::in_progress);
    std::optional<SocketId> s;
    EXPECT_TRUE(world.run_until([&] {
      if (!s)
        if (auto r = b->accept(l, nullptr)) s = *r;
      return s && (a->readiness(c) & POLLOUT);
    }, 10s));
    (void)b->close(l);
    return {c, s.value_or(-1)};
  }
};

std::vector<base::Byte> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<base::Byte> v(n);
  std::uint32_t x = seed | 1;
  for (auto& byte : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = static_cast<base::Byte>(x);
  }
  return v;
}

/// Sends `data` from (sa, from) while reading it at (sb, to); what arrived.
std::vector<base::Byte> transfer(Pair& p, stack::Stack& sa, SocketId from, stack::Stack& sb, SocketId to,
                                 const std::vector<base::Byte>& data, bool* saw_storage) {
  std::vector<base::Byte> got;
  std::size_t sent = 0;
  std::vector<base::Byte> buf(4096);
  p.world.run_until([&] {
    while (sent < data.size()) {
      auto n = sa.send_to(from, base::ByteSpan(data).subspan(sent), nullptr, 0);
      if (!n) break;
      sent += *n;
    }
    if (sa.tcp_buffer_storage() > 0 || sb.tcp_buffer_storage() > 0) *saw_storage = true;
    while (auto r = sb.recv_from(to, buf, 0)) {
      if (r->copied == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->copied));
    }
    return got.size() >= data.size();
  }, 30s);
  return got;
}

// Linux frees a socket's queued skbs once read or acknowledged (and gives the
// memory back with sk_mem_reclaim); ustack's rings do the same: an idle
// connection holds no send or receive storage, whichever way data last went,
// and a busy one grows it back and moves every byte.
TEST(IdleMemory, BuffersAreReturnedWhenIdleAndGrowBackWhenBusy) {
  Pair p;
  auto [c, s] = p.open(80);
  ASSERT_GE(s, 0);
  EXPECT_EQ(p.a->tcp_buffer_storage(), 0u);  // established, nothing sent yet: no rings
  EXPECT_EQ(p.b->tcp_buffer_storage(), 0u);
  for (std::uint32_t round = 0; round < 3; ++round) {
    const auto up = pattern(300'000 + round * 1000, 7 + round);
    const auto down = pattern(200'000 + round * 777, 70 + round);
    bool storage_up = false, storage_down = false;
    EXPECT_EQ(transfer(p, *p.a, c, *p.b, s, up, &storage_up), up) << "round " << round;
    EXPECT_EQ(transfer(p, *p.b, s, *p.a, c, down, &storage_down), down) << "round " << round;
    EXPECT_TRUE(storage_up);  // busy: the rings were there
    EXPECT_TRUE(storage_down);
    // Everything read and acknowledged (delayed ACKs out), and the rings that
    // auto-tuning grew past 256 KB kept for Connection::kIdleRelease (1 s):
    // idle again.
    p.world.run_for(2s);
    EXPECT_EQ(p.a->tcp_buffer_storage(), 0u) << "round " << round;
    EXPECT_EQ(p.b->tcp_buffer_storage(), 0u) << "round " << round;
    EXPECT_EQ(p.a->memory().usage(), 0u);
    EXPECT_EQ(p.b->memory().usage(), 0u);
  }
}

// The options of every socket start as one shared copy of the stack's defaults
// (copy on write): setting one on a socket, or on a listener before its
// connections are accepted, changes it there and nowhere else.
TEST(IdleMemory, SharedSettingsChangeForOneSocketOnly) {
  Pair p;
  auto [c1, s1] = p.open(81);
  auto [c2, s2] = p.open(82, [&](SocketId l) { ASSERT_TRUE(p.b->set_option(l, IPPROTO_TCP, TCP_NODELAY, 1).ok()); });
  ASSERT_GE(s1, 0);
  ASSERT_GE(s2, 0);
  EXPECT_EQ(*p.b->get_option(s1, IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_EQ(*p.b->get_option(s2, IPPROTO_TCP, TCP_NODELAY), 1);  // inherited from its listener
  ASSERT_TRUE(p.a->set_option(c1, IPPROTO_TCP, TCP_NODELAY, 1).ok());
  ASSERT_TRUE(p.a->set_option(c1, IPPROTO_TCP, TCP_KEEPIDLE, 30).ok());
  EXPECT_EQ(*p.a->get_option(c1, IPPROTO_TCP, TCP_NODELAY), 1);
  EXPECT_EQ(*p.a->get_option(c1, IPPROTO_TCP, TCP_KEEPIDLE), 30);
  EXPECT_EQ(*p.a->get_option(c2, IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_EQ(*p.a->get_option(c2, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
  auto fresh = *p.a->socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(*p.a->get_option(fresh, IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_EQ(*p.a->get_option(fresh, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
  ASSERT_TRUE(p.a->set_congestion_control(c2, "reno").ok());
  EXPECT_EQ(*p.a->get_congestion_control(c2), "reno");
  EXPECT_EQ(*p.a->get_congestion_control(c1), "cubic");
  EXPECT_EQ(*p.a->get_congestion_control(fresh), "cubic");
  // And the connection itself follows its socket's setting: with TCP_NODELAY
  // on c1, two small writes leave at once as two segments, not one after an ACK.
  const auto before = p.a->counters().TcpOutSegs;
  const std::vector<base::Byte> small(10, base::Byte{1});
  ASSERT_TRUE(p.a->send_to(c1, small, nullptr, 0).ok());
  ASSERT_TRUE(p.a->send_to(c1, small, nullptr, 0).ok());
  EXPECT_EQ(p.a->counters().TcpOutSegs - before, 2u);
}

}  // namespace
}  // namespace ustack

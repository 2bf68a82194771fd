// Congestion control and pacing on the simulated network: a window sent at once
// after idle overflows a small bottleneck queue unless it is paced; slow start
// doubles the window each round trip; transfers under loss with NewReno and
// CUBIC (the figures printed are the ones docs/congestion-control.md quotes).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <cstdio>
#include <string>
#include <vector>

#include "host/sim_world.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

struct Net {
  host::SimWorld world;
  link::SimPort* pa = nullptr;
  stack::Stack* a = nullptr;
  stack::Stack* b = nullptr;
  Net(link::LinkParams params, tcp::Config tcp, std::optional<link::ImpairSpec> impair = std::nullopt,
      std::uint64_t seed = 1)
      : world(seed) {
    pa = &world.net().add_port("a");
    auto& pb = world.net().add_port("b");
    EXPECT_TRUE(world.net().connect(*pa, pb, params).ok());
    world.host_config().tcp = tcp;
    world.host_config().tcp.rcvbuf = world.host_config().tcp.sndbuf = 4u << 20;
    link::Device& da = impair ? world.impair(*pa, *impair) : static_cast<link::Device&>(*pa);
    a = &world.add_host("a", da, {Ipv4Addr(198, 18, 0, 1), 24});
    b = &world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  }
  /// Connects a to b; returns {client on a, server on b}.
  std::pair<SocketId, SocketId> open() {
    auto l = *b->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_TRUE(b->bind(l, {Ipv4Addr::any(), 5001}).ok());
    EXPECT_TRUE(b->listen(l, 4).ok());
    auto c = *a->socket(AF_INET, SOCK_STREAM, 0);
    (void)a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
    std::optional<SocketId> s;
    EXPECT_TRUE(world.run_until([&] {
      if (!s) {
        auto r = b->accept(l, nullptr);
        if (r) s = *r;
      }
      return s && (a->readiness(c) & POLLOUT);
    }, 10s));
    return {c, s.value_or(-1)};
  }
  std::uint64_t queue_drops() const { return pa->out_channel()->stats().queue_drops; }
  /// Sends n bytes from c and reads them at s; returns how long it took (or nullopt).
  std::optional<base::Duration> move(SocketId c, SocketId s, std::size_t n, base::Duration limit) {
    std::vector<base::Byte> chunk(65536), buf(65536);
    std::size_t sent = 0, got = 0;
    const base::Instant start = world.now();
    const bool done = world.run_until([&] {
      while (sent < n) {
        auto r = a->send_to(c, base::ByteSpan(chunk).first(std::min(chunk.size(), n - sent)), nullptr, 0);
        if (!r) break;
        sent += *r;
      }
      while (true) {
        auto r = b->recv_from(s, buf, 0);
        if (!r || r->copied == 0) break;
        got += r->copied;
      }
      return got == n;
    }, limit);
    if (!done) return std::nullopt;
    return world.now() - start;
  }
};

/// 10 Mbit/s, 10 ms each way, a queue of 4 frames at the sender's side.
constexpr link::LinkParams kSmallQueue{10ms, 10'000'000, 4};

std::uint64_t drops_of_a_window_after_idle(bool pacing) {
  tcp::Config cfg;
  cfg.pacing = pacing;
  Net n(kSmallQueue, cfg);
  auto [c, s] = n.open();
  EXPECT_GE(s, 0);
  // A first exchange gives an RTT sample (the handshake gave one already); then idle.
  EXPECT_TRUE(n.move(c, s, 1000, 5s));
  n.world.run_for(2s);
  const std::uint64_t before = n.queue_drops();
  // The application writes ten segments at once: the initial window, all open.
  EXPECT_TRUE(n.move(c, s, 10 * 1448, 30s));
  return n.queue_drops() - before;
}

TEST(TcpPacing, AWindowAfterIdleDoesNotLeaveAsOneBurst) {
  // Unpaced, ten segments meet a queue of four at 10 Mbit/s: most are dropped.
  // Paced at 2 x cwnd / SRTT (about 11.6 Mbit/s here), the queue never fills.
  const std::uint64_t unpaced = drops_of_a_window_after_idle(false);
  const std::uint64_t paced = drops_of_a_window_after_idle(true);
  std::printf("window after idle into a 4-frame queue: %llu drops unpaced, %llu paced\n",
              static_cast<unsigned long long>(unpaced), static_cast<unsigned long long>(paced));
  EXPECT_GT(unpaced, 0u);
  EXPECT_EQ(paced, 0u);
}

TEST(TcpPacing, RateIsLinuxsAndShownInTcpInfo) {
  tcp::Config cfg;
  Net n(kSmallQueue, cfg);
  auto [c, s] = n.open();
  ASSERT_GE(s, 0);
  auto info = n.a->tcp_info(c);
  ASSERT_TRUE(info);
  ASSERT_GT(info->rtt_us, 0u);
  // Slow start: 2 x cwnd / SRTT, in bytes per second.
  const std::uint64_t cwnd_bytes = 10ull * (info->snd_mss);
  const std::uint64_t want = cwnd_bytes * 200 * 10000 / info->rtt_us;
  EXPECT_NEAR(static_cast<double>(info->pacing_rate), static_cast<double>(want), want * 0.01);
  EXPECT_EQ(info->congestion_control, "cubic");
}

TEST(TcpSlowStart, WindowGrowsEachRoundTrip) {
  // 1 Gbit/s, 25 ms each way: no queue builds. CUBIC's slow start (HyStart++, RFC
  // 9406: cwnd += min(N, L*SMSS), L = 8) doubles the window per RTT even though
  // the receiver acknowledges every second segment; NewReno's (RFC 5681 3.1: at
  // most SMSS per ACK) grows by half as much per RTT with delayed ACKs.
  for (const char* cc : {"reno", "cubic"}) {
    tcp::Config cfg;
    cfg.congestion_control = cc;
    Net n({25ms, 1'000'000'000, 10000}, cfg);
    auto [c, s] = n.open();
    ASSERT_GE(s, 0);
    // Enough data for five round trips of growth: 10+20+40+80+160 segments.
    std::vector<base::Byte> data(4u << 20);
    std::size_t sent = 0;
    while (sent < data.size()) {
      auto r = n.a->send_to(c, base::ByteSpan(data).subspan(sent), nullptr, 0);
      if (!r) break;
      sent += *r;
    }
    std::vector<std::uint32_t> cwnds;
    std::vector<base::Byte> buf(1 << 20);
    for (int rtt = 0; rtt < 5; ++rtt) {
      n.world.run_for(50ms);
      while (true) {
        auto r = n.b->recv_from(s, buf, 0);
        if (!r || r->copied == 0) break;
      }
      cwnds.push_back(n.a->tcp_info(c)->snd_cwnd);
    }
    for (std::size_t i = 1; i < cwnds.size(); ++i) {
      if (std::string(cc) == "cubic") {
        EXPECT_NEAR(cwnds[i], 2.0 * cwnds[i - 1], 0.15 * cwnds[i]) << cc << " round " << i;
      } else {  // 2x while the first 16 segments are ACKed at once (quick ACKs), then 1.5x
        EXPECT_GE(cwnds[i], 1.4 * cwnds[i - 1]) << cc << " round " << i;
        EXPECT_LE(cwnds[i], 2.1 * cwnds[i - 1]) << cc << " round " << i;
      }
    }
    EXPECT_EQ(n.a->tcp_info(c)->snd_ssthresh, 0x7fffffffu) << cc;  // still in slow start
  }
}

struct Measured {
  double seconds = 0;
  std::uint64_t retrans = 0;
};

Measured transfer_under_loss(const char* cc, double loss, std::uint64_t seed, std::size_t bytes) {
  tcp::Config cfg;
  cfg.congestion_control = cc;
  link::ImpairSpec spec;
  spec.loss = loss;
  spec.seed = seed;
  Net n({20ms, 50'000'000, 200}, cfg, spec, seed);
  auto [c, s] = n.open();
  EXPECT_GE(s, 0);
  auto took = n.move(c, s, bytes, 600s);
  EXPECT_TRUE(took) << cc << " loss " << loss << " seed " << seed;
  if (!took) for (const auto& line : n.a->tcp_describe()) std::printf("%s\n", line.c_str());
  if (!took) for (const auto& line : n.b->tcp_describe()) std::printf("%s\n", line.c_str());
  return {took ? std::chrono::duration<double>(*took).count() : 600.0, n.a->counters().TcpRetransSegs};
}

TEST(TcpCongestionControl, RenoAndCubicUnderLoss) {
  // 50 Mbit/s, 40 ms RTT, a 200-frame queue; random loss in both directions.
  // Reported, and CUBIC must not be worse than NewReno beyond noise.
  constexpr std::size_t kBytes = 8u << 20;
  for (double loss : {0.0, 0.001, 0.01}) {
    double reno = 0, cubic = 0;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const Measured r = transfer_under_loss("reno", loss, seed, kBytes);
      const Measured c = transfer_under_loss("cubic", loss, seed, kBytes);
      reno += r.seconds;
      cubic += c.seconds;
    }
    std::printf("loss %.1f%%: 8 MiB in %.2f s with reno (%.1f Mbit/s), %.2f s with cubic (%.1f Mbit/s), mean of 3\n",
                loss * 100, reno / 3, kBytes * 8 / (reno / 3) / 1e6, cubic / 3, kBytes * 8 / (cubic / 3) / 1e6);
    EXPECT_LE(cubic, reno * 1.10) << "loss " << loss;
  }
}

}  // namespace
}  // namespace ustack

// ECN end to end on the simulated network (RFC 3168): a bottleneck whose queue
// marks ECN-capable packets CE above a threshold (and drops the others there,
// as a RED router "instead of dropping" only for ECT) carries an ECN flow with
// no loss and no retransmission, while the same flow without ECN loses packets
// to the same queue and retransmits them.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include <cstdio>
#include <vector>

#include "host/sim_world.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

struct Outcome {
  bool done = false;
  double seconds = 0;
  std::uint64_t retrans = 0, queue_drops = 0, ce_marks = 0;
  tcp::Snapshot sender, receiver;
};

/// Moves `bytes` from a to b through 20 Mbit/s, 10 ms each way, a 40-frame
/// queue that marks (or drops) above 8 frames. `client_ecn`: the sender's tcp_ecn.
Outcome transfer(int client_ecn, std::size_t bytes) {
  host::SimWorld world(7);
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  link::LinkParams params{10ms, 20'000'000, 40};
  params.ecn_mark_threshold = 8;
  EXPECT_TRUE(world.net().connect(pa, pb, params).ok());
  world.host_config().tcp.ecn = client_ecn;
  stack::Stack& a = world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
  world.host_config().tcp.ecn = 2;  // Linux's default: accept ECN when asked
  stack::Stack& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});

  auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_TRUE(b.bind(l, {Ipv4Addr::any(), 5001}).ok());
  EXPECT_TRUE(b.listen(l, 4).ok());
  auto c = *a.socket(AF_INET, SOCK_STREAM, 0);
  (void)a.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
  std::optional<SocketId> s;
  EXPECT_TRUE(world.run_until([&] {
    if (!s) {
      auto r = b.accept(l, nullptr);
      if (r) s = *r;
    }
    return s && (a.readiness(c) & POLLOUT);
  }, 10s));
  Outcome o;
  if (!s) return o;
  std::vector<base::Byte> chunk(65536), buf(65536);
  std::size_t sent = 0, got = 0;
  const base::Instant start = world.now();
  o.done = world.run_until([&] {
    while (sent < bytes) {
      auto r = a.send_to(c, base::ByteSpan(chunk).first(std::min(chunk.size(), bytes - sent)), nullptr, 0);
      if (!r) break;
      sent += *r;
    }
    while (true) {
      auto r = b.recv_from(*s, buf, 0);
      if (!r || r->copied == 0) break;
      got += r->copied;
    }
    return got == bytes;
  }, 120s);
  o.seconds = std::chrono::duration<double>(world.now() - start).count();
  o.retrans = a.counters().TcpRetransSegs;
  o.queue_drops = pa.out_channel()->stats().queue_drops;
  o.ce_marks = pa.out_channel()->stats().ce_marks;
  o.sender = *a.tcp_info(c);
  o.receiver = *b.tcp_info(*s);
  return o;
}

TEST(TcpEcn, MarkingQueueCarriesAnEcnFlowWithoutLoss) {
  constexpr std::size_t kBytes = 8u << 20;
  const Outcome ecn = transfer(1, kBytes);
  const Outcome plain = transfer(2, kBytes);  // the client does not ask for ECN
  std::printf("8 MiB through 20 Mbit/s x 20 ms, 40-frame queue marking above 8:\n"
              "  ECN:    %.2f s, %llu CE marks, %llu drops, %llu retransmissions, %llu window reductions\n"
              "  no ECN: %.2f s, %llu drops, %llu retransmissions\n",
              ecn.seconds, static_cast<unsigned long long>(ecn.ce_marks),
              static_cast<unsigned long long>(ecn.queue_drops), static_cast<unsigned long long>(ecn.retrans),
              static_cast<unsigned long long>(ecn.sender.info.ecn_reductions), plain.seconds,
              static_cast<unsigned long long>(plain.queue_drops), static_cast<unsigned long long>(plain.retrans));
  ASSERT_TRUE(ecn.done);
  ASSERT_TRUE(plain.done);
  // Negotiated on both ends, and both saw ECT or CE.
  EXPECT_TRUE(ecn.sender.ecn);
  EXPECT_TRUE(ecn.receiver.ecn);
  EXPECT_TRUE(ecn.receiver.ecn_seen);
  EXPECT_FALSE(plain.sender.ecn);
  EXPECT_FALSE(plain.receiver.ecn);
  // The queue signalled congestion by marks alone; the receiver echoed them and
  // the sender reduced its window, and nothing had to be sent twice.
  EXPECT_GT(ecn.ce_marks, 0u);
  EXPECT_GT(ecn.receiver.info.ecn_ce_in, 0u);
  EXPECT_GT(ecn.sender.info.ecn_reductions, 0u);
  EXPECT_EQ(ecn.queue_drops, 0u);
  EXPECT_EQ(ecn.retrans, 0u);
  // Without ECN the same queue drops, and the sender retransmits.
  EXPECT_EQ(plain.ce_marks, 0u);
  EXPECT_GT(plain.queue_drops, 0u);
  EXPECT_GT(plain.retrans, 0u);
  // The price (docs/congestion-control.md): a queue that marks every packet above
  // a fixed threshold keeps marking for a while after the sender's reduction, so
  // RFC 3168's once-per-window rule often lets two reductions follow each other
  // (cwnd 40 -> 28 -> 16 segments here), where a loss's recovery, which lasts
  // longer, saw only one. 70% of the bottleneck today; at least 60% asserted.
  const double mbps = kBytes * 8 / ecn.seconds / 1e6;
  EXPECT_GE(mbps, 0.60 * 20);
}

}  // namespace
}  // namespace ustack

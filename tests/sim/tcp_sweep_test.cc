// TCP under seeded impairment sweeps: full-duplex bulk transfers verified byte
// for byte, and many short connections. Sizes: 100 MB each way in an optimised
// build (the figure), 16 MB under the sanitizers, which run ~10x slower.
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

#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kBulkBytes = 16u << 20;
constexpr int kShortConnections = 2000;
#else
constexpr std::size_t kBulkBytes = 100u << 20;
constexpr int kShortConnections = 10000;
#endif

/// A reproducible byte stream: the sender makes it, the receiver checks it.
class Stream {
 public:
  explicit Stream(std::uint64_t seed) : rng_(seed) {}
  void fill(base::MutByteSpan out) {
    for (auto& b : out) {
      if (left_ == 0) {
        word_ = rng_.next_u64();
        left_ = 8;
      }
      b = static_cast<base::Byte>(word_);
      word_ >>= 8;
      --left_;
    }
  }

 private:
  base::Random rng_;
  std::uint64_t word_ = 0;
  int left_ = 0;
};

struct Direction {
  stack::Stack* from;
  SocketId out;
  stack::Stack* to;
  SocketId in;
  Stream sender, checker;
  std::size_t total, sent = 0, received = 0, mismatches = 0;
  std::vector<base::Byte> pending;  // generated, not yet accepted by send()
  std::size_t pending_off = 0;
  bool shut = false;

  Direction(stack::Stack* f, SocketId o, stack::Stack* t, SocketId i, std::uint64_t seed, std::size_t n)
      : from(f), out(o), to(t), in(i), sender(seed), checker(seed), total(n) {}

  void step() {
    while (sent < total) {
      if (pending_off == pending.size()) {
        pending.resize(std::min<std::size_t>(65536, total - sent));
        sender.fill(pending);
        pending_off = 0;
      }
      auto n = from->send_to(out, base::ByteSpan(pending).subspan(pending_off), nullptr, 0);
      if (!n) break;
      pending_off += *n;
      sent += *n;
    }
    if (sent == total && !shut) shut = from->shutdown(out, SHUT_WR).ok();
    std::vector<base::Byte> buf(65536), want(65536);
    while (true) {
      auto r = to->recv_from(in, buf, 0);
      if (!r || r->copied == 0) break;
      checker.fill(base::MutByteSpan(want).first(r->copied));
      for (std::size_t i = 0; i < r->copied; ++i) mismatches += buf[i] != want[i];
      received += r->copied;
    }
  }
  bool done() const { return received == total; }
};

struct SweepCase {
  const char* name;
  double loss, reorder, dup;
  base::Duration delay;
  std::uint64_t seed;
};

class TcpSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(TcpSweep, FullDuplexBulkTransferIsByteExact) {
  const SweepCase& c = GetParam();
  host::SimWorld world(c.seed);
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  ASSERT_TRUE(world.net().connect(pa, pb, {c.delay, 1'000'000'000, 1000}).ok());
  link::ImpairSpec spec;
  spec.loss = c.loss;
  spec.reorder = c.reorder;
  spec.dup = c.dup;
  spec.seed = c.seed;
  auto& a = world.add_host("a", world.impair(pa, spec), {Ipv4Addr(198, 18, 0, 1), 24});
  auto& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(b.bind(l, {Ipv4Addr::any(), 5001}).ok());
  ASSERT_TRUE(b.listen(l, 1).ok());
  auto ca = *a.socket(AF_INET, SOCK_STREAM, 0);
  (void)a.connect(ca, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
  std::optional<SocketId> cb;
  ASSERT_TRUE(world.run_until([&] {
    if (!cb) if (auto r = b.accept(l, nullptr)) cb = *r;
    return cb && (a.readiness(ca) & POLLOUT);
  }, 30s));
  Direction up(&a, ca, &b, *cb, c.seed * 2 + 1, kBulkBytes);
  Direction down(&b, *cb, &a, ca, c.seed * 2 + 2, kBulkBytes);
  const base::Instant start = world.now();
  const bool finished = world.run_until([&] {
    up.step();
    down.step();
    return up.done() && down.done();
  }, 3600s);
  // What loss recovery cost: virtual time and segments sent again (both hosts).
  std::printf("[ measure  ] %s: %.3f s virtual, %llu retransmitted segments\n", c.name,
              std::chrono::duration<double>(world.now() - start).count(),
              static_cast<unsigned long long>(a.counters().TcpRetransSegs + b.counters().TcpRetransSegs));
  EXPECT_TRUE(finished) << "up " << up.received << " down " << down.received << " of " << kBulkBytes;
  if (!finished) {
    for (const auto& line : a.tcp_describe()) ADD_FAILURE() << "a: " << line;
    for (const auto& line : b.tcp_describe()) ADD_FAILURE() << "b: " << line;
    for (stack::Stack* st : {&a, &b})
      st->counters().for_each([&](std::string_view n, std::uint64_t v) {
        if (v) ADD_FAILURE() << (st == &a ? "a " : "b ") << n << "=" << v;
      });
  }
  EXPECT_EQ(up.received, kBulkBytes);
  EXPECT_EQ(down.received, kBulkBytes);
  EXPECT_EQ(up.mismatches + down.mismatches, 0u);
  if (c.loss > 0) {
    EXPECT_GT(a.counters().TcpRetransSegs + b.counters().TcpRetransSegs, 0u);
  }
  EXPECT_EQ(a.counters().TcpEstabResets + b.counters().TcpEstabResets, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Impairments, TcpSweep,
    ::testing::Values(SweepCase{"clean", 0, 0, 0, 100us, 1},
                      SweepCase{"loss1_reorder1_dup1_delay5ms", 0.01, 0.01, 0.01, 5ms, 2},
                      SweepCase{"loss5_reorder2", 0.05, 0.02, 0, 1ms, 3},
                      SweepCase{"loss10_dup2", 0.10, 0, 0.02, 1ms, 4}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(TcpShortConnections, TenThousandOpenedAndClosed) {
  host::SimWorld world(11);
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  ASSERT_TRUE(world.net().connect(pa, pb, {50us, 1'000'000'000, 1000}).ok());
  auto& a = world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
  auto& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(b.bind(l, {Ipv4Addr::any(), 80}).ok());
  ASSERT_TRUE(b.listen(l, 128).ok());
  int completed = 0;
  std::vector<base::Byte> buf(64);
  for (int i = 0; i < kShortConnections; ++i) {
    auto c = *a.socket(AF_INET, SOCK_STREAM, 0);
    (void)a.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 80});
    std::optional<SocketId> s;
    bool client_saw_eof = false;
    bool sent = false;
    const bool ok = world.run_until([&] {
      if (!s) if (auto r = b.accept(l, nullptr)) s = *r;
      if (!sent && (a.readiness(c) & POLLOUT)) sent = a.send_to(c, base::as_bytes("hello", 5), nullptr, 0).ok();
      if (s) {
        auto r = b.recv_from(*s, buf, 0);
        if (r && r->copied == 5) {
          (void)b.close(*s);  // the server answers by closing
          s = -1;
        }
      }
      if (auto r = a.recv_from(c, buf, 0); r && r->copied == 0) client_saw_eof = true;
      return client_saw_eof;
    }, 10s);
    if (!ok) break;
    (void)a.close(c);
    ++completed;
  }
  world.run_for(61s);  // past 2*MSL: every TIME-WAIT has ended
  EXPECT_EQ(completed, kShortConnections);
  EXPECT_EQ(a.counters().TcpActiveOpens, static_cast<std::uint64_t>(kShortConnections));
  EXPECT_EQ(b.counters().TcpPassiveOpens, static_cast<std::uint64_t>(kShortConnections));
  EXPECT_EQ(a.counters().TcpAttemptFails, 0u);
  EXPECT_EQ(a.counters().TcpEstabResets + b.counters().TcpEstabResets, 0u);
}

}  // namespace
}  // namespace ustack

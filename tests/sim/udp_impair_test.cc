// UDP through an impaired link (loss, duplication, reordering; link/impair.h):
// RFC 768 promises nothing about delivery, order or duplicates, and the stack
// adds nothing; the simulation replays exactly from its seed.
#include <algorithm>
#include <set>

#include "helpers.h"

namespace ustack::simtest {
namespace {

constexpr int kDatagrams = 100;
constexpr std::uint16_t kEchoPort = 7;

struct EchoRun {
  std::vector<std::uint32_t> received;  // sequence numbers, in arrival order at the client
  std::map<std::string, std::uint64_t> counters_a, counters_b;
  link::ImpairStats impair;
};

/// A sends kDatagrams numbered datagrams, one per millisecond, to an echo loop on
/// B; A's port is impaired by `spec`. Returns what came back, in order.
EchoRun run_echo(link::ImpairSpec spec, std::uint64_t seed) {
  spec.seed = seed;
  Lan lan(seed, spec);
  // Static neighbours: this is about UDP, not about ARP under loss.
  EXPECT_TRUE(lan.a.add_static_arp(kIpB, kMacB).ok());
  EXPECT_TRUE(lan.b.add_static_arp(kIpA, kMacA).ok());
  const SocketId echo = udp_socket(lan.b, Endpoint{base::Ipv4Addr::any(), kEchoPort});
  const SocketId client = udp_socket(lan.a, Endpoint{kIpA, 40000});
  const Endpoint server{kIpB, kEchoPort};
  EchoRun run;
  auto step = [&] {
    lan.world.run_for(1ms);
    for (auto& d : recv_all(lan.b, echo)) EXPECT_TRUE(lan.b.send_to(echo, d.data, &d.from, 0).ok());
    for (auto& d : recv_all(lan.a, client)) {
      EXPECT_EQ(d.data.size(), 64u);
      EXPECT_EQ(d.from, server);
      run.received.push_back(base::load_be32(d.data, 0));
    }
  };
  for (int i = 0; i < kDatagrams; ++i) {
    Bytes msg = pattern(64, static_cast<std::uint8_t>(i));
    base::store_be32(msg, 0, static_cast<std::uint32_t>(i));
    EXPECT_TRUE(lan.a.send_to(client, msg, &server, 0).ok());
    step();
  }
  for (int i = 0; i < 200; ++i) step();
  run.counters_a = counter_map(lan.a);
  run.counters_b = counter_map(lan.b);
  run.impair = static_cast<link::ImpairedDevice&>(lan.dev_a).impair_stats();
  return run;
}

bool operator==(const link::ImpairCounters& x, const link::ImpairCounters& y) {
  return x.dropped == y.dropped && x.duplicated == y.duplicated && x.corrupted == y.corrupted &&
         x.reordered == y.reordered && x.overflow == y.overflow;
}

TEST(UdpImpaired, WithoutImpairmentEverythingArrivesInOrder) {
  const EchoRun run = run_echo({}, 1);
  std::vector<std::uint32_t> expected(kDatagrams);
  for (int i = 0; i < kDatagrams; ++i) expected[i] = static_cast<std::uint32_t>(i);
  EXPECT_EQ(run.received, expected);
  EXPECT_EQ(run.counters_b.at("UdpInDatagrams"), std::uint64_t{kDatagrams});
  EXPECT_EQ(run.counters_a.at("UdpInDatagrams"), std::uint64_t{kDatagrams});
}

TEST(UdpImpaired, LossIsExactlyReproducibleFromTheSeed) {
  const link::ImpairSpec spec{.loss = 0.10};
  const EchoRun first = run_echo(spec, 7);
  const EchoRun again = run_echo(spec, 7);
  const EchoRun other = run_echo(spec, 8);
  // Each frame is lost with probability 0.1 each way: about 81 of 100 come back.
  EXPECT_LT(first.received.size(), std::size_t{kDatagrams});
  EXPECT_GT(first.received.size(), std::size_t{kDatagrams} / 2);
  EXPECT_GT(first.impair.out.dropped, 0u);
  EXPECT_GT(first.impair.in.dropped, 0u);
  // Loss alone neither reorders nor duplicates.
  EXPECT_TRUE(std::is_sorted(first.received.begin(), first.received.end()));
  EXPECT_EQ(std::set<std::uint32_t>(first.received.begin(), first.received.end()).size(), first.received.size());
  // Every datagram that reached B was echoed; the counters agree with the wire.
  EXPECT_EQ(first.counters_b.at("UdpInDatagrams"), kDatagrams - first.impair.out.dropped);
  EXPECT_EQ(first.counters_a.at("UdpInDatagrams"), first.received.size());
  // Same seed: the same run, datagram for datagram and counter for counter.
  EXPECT_EQ(first.received, again.received);
  EXPECT_EQ(first.counters_a, again.counters_a);
  EXPECT_EQ(first.counters_b, again.counters_b);
  EXPECT_TRUE(first.impair.out == again.impair.out);
  EXPECT_TRUE(first.impair.in == again.impair.in);
  // Another seed: another run.
  EXPECT_NE(first.received, other.received);
}

TEST(UdpImpaired, DuplicationDeliversDuplicates) {
  const EchoRun run = run_echo({.dup = 0.2}, 3);
  EXPECT_GT(run.impair.out.duplicated + run.impair.in.duplicated, 0u);
  EXPECT_GT(run.received.size(), std::size_t{kDatagrams});
  std::map<std::uint32_t, int> seen;
  for (auto s : run.received) ++seen[s];
  EXPECT_EQ(seen.size(), std::size_t{kDatagrams});  // nothing lost
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](const auto& p) { return p.second > 1; }));
  EXPECT_EQ(run.counters_b.at("UdpInDatagrams"), kDatagrams + run.impair.out.duplicated);
}

TEST(UdpImpaired, ReorderingChangesTheOrderButLosesNothing) {
  const EchoRun run = run_echo({.reorder = 0.3}, 5);
  EXPECT_GT(run.impair.out.reordered + run.impair.in.reordered, 0u);
  EXPECT_FALSE(std::is_sorted(run.received.begin(), run.received.end()));
  std::vector<std::uint32_t> sorted = run.received;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint32_t> expected(kDatagrams);
  for (int i = 0; i < kDatagrams; ++i) expected[i] = static_cast<std::uint32_t>(i);
  EXPECT_EQ(sorted, expected);
}

}  // namespace
}  // namespace ustack::simtest

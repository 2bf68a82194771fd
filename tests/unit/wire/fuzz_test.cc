// Deterministic fuzzing: random buffers, and mutations of the literal packets, into
// every parser. Each buffer is its own exact-size heap allocation, so under ASan any
// read past the end by a parser or by an accessor of a parsed view fails the test.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "base/random.h"
#include "packets.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

namespace ustack::wire {
namespace {

// Reads every byte of a span, so an out-of-bounds span is caught where it is used.
unsigned touch(base::ByteSpan s) {
  unsigned t = 0;
  for (auto b : s) t += b;
  return t;
}

// Runs every parser over `b` and every accessor of what parses. Returns how many
// parses succeeded (to check that the fuzz reaches the accept paths at all).
int parse_everything(base::ByteSpan b, base::Random& rng) {
  const base::Ipv4Addr src(rng.next_u32()), dst(rng.next_u32());
  int ok = 0;
  unsigned sink = 0;
  if (auto v = EthernetView::parse(b)) {
    ++ok;
    sink += v->dst().bytes()[5] + v->src().bytes()[0] + v->ethertype() + touch(v->payload());
  }
  if (EthernetRepr::parse(b)) ++ok;
  if (auto v = ArpView::parse(b)) {
    ++ok;
    sink += v->hardware_type() + v->protocol_type() + v->hardware_len() + v->protocol_len() + v->operation();
  }
  if (ArpRepr::parse(b)) ++ok;
  if (auto v = Ipv4View::parse(b)) {
    ++ok;
    sink += v->version() + v->tos() + v->ident() + v->frag_offset() + v->ttl() + v->protocol() +
            v->checksum() + v->src().value() + v->dst().value() + v->checksum_ok();
    sink += touch(v->header()) + touch(v->options()) + touch(v->payload()) + touch(v->datagram());
  }
  if (Ipv4Repr::parse(b)) ++ok;
  if (auto v = IcmpView::parse(b)) {
    ++ok;
    sink += v->type() + v->code() + v->checksum() + v->rest() + v->checksum_ok() + touch(v->payload());
  }
  if (auto r = IcmpRepr::parse(b)) {
    ++ok;
    sink += touch(r->data);
  }
  if (auto v = UdpView::parse(b)) {
    ++ok;
    sink += v->src_port() + v->dst_port() + v->length() + v->checksum() + v->checksum_ok(src, dst) +
            touch(v->payload());
  }
  if (UdpRepr::parse(b, src, dst)) ++ok;
  if (auto v = TcpView::parse(b)) {
    ++ok;
    sink += v->src_port() + v->dst_port() + v->seq() + v->ack() + v->flags() + v->window() + v->checksum() +
            v->urgent() + v->checksum_ok(src, dst) + touch(v->options()) + touch(v->payload());
    if (TcpOptions::parse(v->options())) ++ok;
  }
  if (TcpRepr::parse(b, src, dst)) ++ok;
  if (TcpOptions::parse(b)) ++ok;
  volatile unsigned keep = sink;  // the reads must not be optimised away
  (void)keep;
  return ok;
}

TEST(Fuzz, RandomBuffers) {
  base::Random rng(0xf00d);
  long accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::size_t n = rng.chance(0.1) ? rng.below(1600) : rng.below(80);
    auto buf = std::make_unique<std::uint8_t[]>(n);  // exactly n bytes on the heap
    for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::uint8_t>(rng.next_u32());
    // Bias the fields that gate the parsers towards values that pass them.
    if (n > 0 && rng.chance(0.5)) buf[0] = static_cast<std::uint8_t>(0x40 | rng.below(16));
    if (n > 12 && rng.chance(0.5)) buf[12] = static_cast<std::uint8_t>(rng.below(16) << 4);
    if (n > 5 && rng.chance(0.3)) {
      buf[4] = static_cast<std::uint8_t>(n >> 8);
      buf[5] = static_cast<std::uint8_t>(n);
    }
    accepted += parse_everything({buf.get(), n}, rng);
  }
  EXPECT_GT(accepted, 200000);  // the accept paths were exercised, not only the refusals
}

TEST(Fuzz, MutatedPackets) {
  const std::vector<base::ByteSpan> seeds = {
      testdata::span(testdata::kArpRequestFrame),
      testdata::span(testdata::kArpRequestFrame).subspan(14),
      testdata::span(testdata::kIcmpEchoFrame).subspan(14),
      testdata::span(testdata::kIcmpEchoFrame).subspan(34),
      testdata::span(testdata::kUdpDnsPacket),
      testdata::span(testdata::kUdpDnsPacket).subspan(20),
      testdata::span(testdata::kTcpSynPacket),
      testdata::span(testdata::kTcpSynPacket).subspan(20),
      testdata::span(testdata::kTcpSynPacket).subspan(40),  // the options alone
  };
  base::Random rng(0xbeef);
  for (int i = 0; i < 100000; ++i) {
    const auto seed = seeds[rng.below(seeds.size())];
    std::size_t n = seed.size();
    if (rng.chance(0.3)) n = rng.below(n + 1);  // truncate
    auto buf = std::make_unique<std::uint8_t[]>(n);
    std::copy_n(seed.begin(), n, buf.get());
    const std::uint64_t flips = 1 + rng.below(4);
    for (std::uint64_t f = 0; f < flips && n > 0; ++f)
      buf[rng.below(n)] = rng.chance(0.5) ? static_cast<std::uint8_t>(rng.next_u32())
                                          : static_cast<std::uint8_t>(buf[rng.below(n)] ^ (1u << rng.below(8)));
    parse_everything({buf.get(), n}, rng);
  }
}

}  // namespace
}  // namespace ustack::wire

// IsnGenerator (RFC 6528): ISN = M + F(connection-id, secret) with M a 4 us timer
// and F SipHash-2-4; deterministic for a seed, distinct per connection identifier
// and per secret, and advancing with time for one identifier.
#include "tcp/isn.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <set>

#include "base/siphash.h"

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
using base::Endpoint;
using base::Instant;
using base::Ipv4Addr;
using base::kEpoch;

const Endpoint kLocal{Ipv4Addr(198, 18, 0, 2), 80};
const Endpoint kRemote{Ipv4Addr(198, 18, 0, 1), 40000};

TEST(Isn, MatchesTheDefinition) {
  // F is SipHash-2-4, keyed by two draws from the rng, over local address, local
  // port, remote address, remote port in network order; M counts 4 us ticks.
  base::Random keys(5);
  const std::uint64_t k0 = keys.next_u64(), k1 = keys.next_u64();
  const std::array<base::Byte, 12> id = {198, 18, 0, 2, 0, 80, 198, 18, 0, 1, 0x9c, 0x40};
  const std::uint64_t f = base::siphash24(k0, k1, id);

  base::Random rng(5);
  IsnGenerator gen(rng);
  EXPECT_EQ(gen.generate(kLocal, kRemote, kEpoch), static_cast<std::uint32_t>(f));
  EXPECT_EQ(gen.generate(kLocal, kRemote, kEpoch + 1s), static_cast<std::uint32_t>(f + 250000));
}

TEST(Isn, DeterministicPerSeed) {
  base::Random r1(42), r2(42);
  IsnGenerator a(r1), b(r2);
  const Instant t = kEpoch + 123456789ns;
  EXPECT_EQ(a.generate(kLocal, kRemote, t), b.generate(kLocal, kRemote, t));
  // And the generator itself is a pure function of its inputs.
  EXPECT_EQ(a.generate(kLocal, kRemote, t), a.generate(kLocal, kRemote, t));
}

TEST(Isn, DiffersBetweenSecrets) {
  base::Random r1(1), r2(2);
  IsnGenerator a(r1), b(r2);
  EXPECT_NE(a.generate(kLocal, kRemote, kEpoch), b.generate(kLocal, kRemote, kEpoch));
}

TEST(Isn, DiffersBetweenConnectionIdentifiers) {
  base::Random rng(7);
  IsnGenerator gen(rng);
  const Instant t = kEpoch + 5s;
  std::set<std::uint32_t> seen;
  seen.insert(gen.generate(kLocal, kRemote, t));
  seen.insert(gen.generate({Ipv4Addr(198, 18, 0, 3), 80}, kRemote, t));    // local address
  seen.insert(gen.generate({kLocal.addr, 81}, kRemote, t));                // local port
  seen.insert(gen.generate(kLocal, {Ipv4Addr(198, 18, 0, 9), 40000}, t));  // remote address
  seen.insert(gen.generate(kLocal, {kRemote.addr, 40001}, t));             // remote port
  seen.insert(gen.generate(kRemote, kLocal, t));                           // swapped ends
  EXPECT_EQ(seen.size(), 6u);
  // Many remote ports: no collisions expected among a few hundred 32-bit values.
  std::set<std::uint32_t> ports;
  for (std::uint16_t p = 1000; p < 1300; ++p) ports.insert(gen.generate(kLocal, {kRemote.addr, p}, t));
  EXPECT_EQ(ports.size(), 300u);
}

TEST(Isn, AdvancesOnePer4Microseconds) {
  // RFC 6528 3: "M is the 4 microsecond timer".
  base::Random rng(9);
  IsnGenerator gen(rng);
  const Instant t = kEpoch + 10s;  // a tick boundary
  const std::uint32_t isn = gen.generate(kLocal, kRemote, t);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + 3999ns), isn);  // same tick
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + 4us), isn + 1);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + 7us), isn + 1);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + 8us), isn + 2);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + 1ms), isn + 250);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + 1s), isn + 250000);
  // The sum wraps modulo 2^32: 2^32 ticks (about 4.77 hours) later it comes round.
  const auto full_cycle = std::chrono::nanoseconds(4000LL << 32);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + full_cycle), isn);
  EXPECT_EQ(gen.generate(kLocal, kRemote, t + full_cycle + 4us), isn + 1);
}

TEST(Isn, Ipv6AddressesCountInFull) {
  base::Random rng(11);
  IsnGenerator gen(rng);
  std::array<std::uint8_t, 16> a{}, b{};
  a[0] = b[0] = 0x20;
  b[15] = 1;  // differs only in the last byte
  const Endpoint ra{base::IpAddr::v6(a), 443}, rb{base::IpAddr::v6(b), 443};
  const Endpoint local{base::IpAddr::v6(a), 5000};
  EXPECT_NE(gen.generate(local, ra, kEpoch), gen.generate(local, rb, kEpoch));
}

// RFC 7323 7.1 (privacy): a random offset per connection keeps a TSval from
// revealing the host's uptime or linking its connections to different peers.
// As Linux's secure_tcp_ts_off: a keyed hash of the address pair, stable for a
// pair (a SYN cookie's SYN-ACK and the connection rebuilt from its ACK agree).
TEST(Isn, TimestampOffsetIsKeyedPerAddressPair) {
  base::Random r1(3), r2(4);
  IsnGenerator a(r1), b(r2);
  EXPECT_EQ(a.ts_offset(kLocal, kRemote), a.ts_offset(kLocal, kRemote));
  // The ports are not part of it (Linux: saddr and daddr only).
  const Endpoint other_port{kRemote.addr, 40001};
  EXPECT_EQ(a.ts_offset(kLocal, kRemote), a.ts_offset(kLocal, other_port));
  // Another peer, or another secret, gives another offset: 64 peers, 64 offsets.
  std::set<std::uint32_t> seen;
  for (std::uint8_t i = 1; i <= 64; ++i) seen.insert(a.ts_offset(kLocal, Endpoint{Ipv4Addr(198, 18, 1, i), 40000}));
  EXPECT_EQ(seen.size(), 64u);
  EXPECT_NE(a.ts_offset(kLocal, kRemote), b.ts_offset(kLocal, kRemote));
  // And it is not the ISN's hash: knowing one gives nothing of the other.
  EXPECT_NE(a.ts_offset(kLocal, kRemote), a.generate(kLocal, kRemote, kEpoch));
}

}  // namespace
}  // namespace ustack::tcp

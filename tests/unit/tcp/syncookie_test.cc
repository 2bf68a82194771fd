// SYN cookies (tcp/syncookie.h): every MSS of the table survives the trip, the
// options in the timestamp's low bits decode to what was encoded, a cookie
// expires after kMaxAge periods, and the wrong key, pair or sequence is refused.
#include "tcp/syncookie.h"

#include <gtest/gtest.h>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
using base::Endpoint;
using base::Ipv4Addr;

const Endpoint kLocal{Ipv4Addr(198, 18, 0, 2), 80};
const Endpoint kRemote{Ipv4Addr(198, 18, 0, 1), 40000};
const base::Instant kT0 = base::kEpoch + 3600s;  // at the start of a period

SynCookies cookies() { return SynCookies(std::array<std::uint64_t, 4>{1, 2, 3, 4}); }

TEST(SynCookie, EveryMssOfTheTableComesBack) {
  const SynCookies c = cookies();
  for (std::uint16_t mss : SynCookies::kMssTable) {
    const std::uint32_t syn_seq = 0x12345678u + mss;
    const std::uint32_t isn = c.make_isn(kLocal, kRemote, syn_seq, mss, kT0);
    // The ACK: SEG.SEQ = the SYN's + 1, SEG.ACK = ISN + 1.
    EXPECT_EQ(c.check(kLocal, kRemote, syn_seq + 1, isn + 1, kT0 + 5s), mss) << mss;
  }
}

TEST(SynCookie, MssIsRoundedDownToTheTable) {
  EXPECT_EQ(SynCookies::round_mss(100), 536);   // below the smallest: the smallest
  EXPECT_EQ(SynCookies::round_mss(536), 536);
  EXPECT_EQ(SynCookies::round_mss(1299), 536);
  EXPECT_EQ(SynCookies::round_mss(1300), 1300);
  EXPECT_EQ(SynCookies::round_mss(1452), 1440);
  EXPECT_EQ(SynCookies::round_mss(1460), 1460);
  EXPECT_EQ(SynCookies::round_mss(65495), 1460);
  const SynCookies c = cookies();
  const std::uint32_t isn = c.make_isn(kLocal, kRemote, 7, 1452, kT0);
  EXPECT_EQ(c.check(kLocal, kRemote, 8, isn + 1, kT0), 1440);
}

TEST(SynCookie, ExpiresAfterTwoPeriods) {
  const SynCookies c = cookies();
  const std::uint32_t isn = c.make_isn(kLocal, kRemote, 1000, 1460, kT0);
  // Linux check_tcp_syn_cookie: "if (diff >= MAX_SYNCOOKIE_AGE) return (__u32)-1":
  // good in its own period and the next, refused from the one after.
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 1, kT0 + 59s), 1460);
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 1, kT0 + 60s), 1460);
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 1, kT0 + 119s), 1460);
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 1, kT0 + 120s), std::nullopt);
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 1, kT0 + 3600s), std::nullopt);
  // Nor from the future (a counter ahead of now wraps to a large age).
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 1, kT0 - 1s), std::nullopt);
}

TEST(SynCookie, WrongKeyPairOrSequenceIsRefused) {
  const SynCookies c = cookies();
  const std::uint32_t isn = c.make_isn(kLocal, kRemote, 1000, 1460, kT0);
  const SynCookies other(std::array<std::uint64_t, 4>{1, 2, 3, 5});
  EXPECT_EQ(other.check(kLocal, kRemote, 1001, isn + 1, kT0), std::nullopt);
  EXPECT_EQ(c.check(kLocal, {kRemote.addr, 40001}, 1001, isn + 1, kT0), std::nullopt);
  EXPECT_EQ(c.check(kLocal, {Ipv4Addr(198, 18, 0, 3), 40000}, 1001, isn + 1, kT0), std::nullopt);
  EXPECT_EQ(c.check({kLocal.addr, 81}, kRemote, 1001, isn + 1, kT0), std::nullopt);
  EXPECT_EQ(c.check(kLocal, kRemote, 1001 + 4, isn + 1, kT0), std::nullopt);   // another SEG.SEQ
  EXPECT_EQ(c.check(kLocal, kRemote, 1001 + 9999, isn + 1, kT0), std::nullopt);
  EXPECT_EQ(c.check(kLocal, kRemote, 1001, isn + 2, kT0), std::nullopt);  // another SEG.ACK
  // As in Linux, SEG.SEQ is subtracted and the MSS index added: a SEG.SEQ up to 3
  // beyond the SYN's + 1 reads as a smaller index. Only the holder of the cookie
  // can do that; the hash is what keeps the blind out.
  EXPECT_EQ(c.check(kLocal, kRemote, 1002, isn + 1, kT0), 1440);
}

TEST(SynCookie, GuessedCookiesAlmostNeverPass) {
  // A blind attacker guesses SEG.ACK: the top 8 bits must name one of 2 periods
  // and the low 24 bits one of 4 MSS indexes, 8 values in 2^32. 200000 guesses.
  const SynCookies c = cookies();
  int passed = 0;
  for (std::uint32_t guess = 0; guess < 200000; ++guess)
    passed += c.check(kLocal, kRemote, 1001, guess * 21474u, kT0).has_value();
  EXPECT_LE(passed, 2);
}

TEST(SynCookie, TimestampCarriesWscaleSackAndEcn) {
  for (int ws = 0; ws <= 14; ++ws) {
    for (bool sack : {false, true}) {
      for (bool ecn : {false, true}) {
        const CookieTsOptions o{static_cast<std::uint8_t>(ws), sack, ecn};
        const std::uint32_t ts_now = 1000000u + static_cast<std::uint32_t>(ws) * 7;
        const std::uint32_t ts = SynCookies::encode_timestamp(ts_now, o);
        // "we must make sure that the resulting initial timestamp is <= tcp_time_stamp",
        // and no more than one TSBITS period before it.
        EXPECT_LE(ts, ts_now);
        EXPECT_GT(ts, ts_now - 64);
        EXPECT_EQ(SynCookies::decode_timestamp(ts), o) << ws << sack << ecn;
      }
    }
  }
  const CookieTsOptions none{std::nullopt, true, false};
  EXPECT_EQ(SynCookies::decode_timestamp(SynCookies::encode_timestamp(5000, none)), none);
  EXPECT_EQ(SynCookies::encode_timestamp(5000, none) & 0xf, 0xfu);  // 0xf: no window scaling
}

TEST(SynCookie, TimestampNeverGoesAheadAcrossTheWrap) {
  // Near zero the clock wraps: "earlier" is modulo 2^32.
  const CookieTsOptions o{7, true, false};
  const std::uint32_t ts = SynCookies::encode_timestamp(3, o);
  EXPECT_LT(static_cast<std::int32_t>(ts - 3u), 0);
  EXPECT_EQ(SynCookies::decode_timestamp(ts), o);
}

}  // namespace
}  // namespace ustack::tcp

// SYN cookies (RFC 4987 3.6), as Linux's tcp_syncookies (net/ipv4/syncookies.c):
// when a listener's SYN queue is full, the SYN-ACK's ISN encodes what the
// connection needs (a keyed hash of the socket pair and the peer's ISN, a
// counter of 60-second periods, an index into a small table of MSS values), so
// that the listener keeps no state; the ACK that completes the handshake is
// checked against the hash and rebuilds the connection. Window scale, SACK and
// ECN travel in the low 6 bits of the SYN-ACK's TSval and come back in the
// ACK's TSecr; without timestamps a cookie carries only the MSS.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/addr.h"
#include "base/random.h"
#include "base/time.h"

namespace ustack::tcp {

/// The options a cookie's timestamp carries (Linux TS_OPT_*).
struct CookieTsOptions {
  std::optional<std::uint8_t> wscale;  // the peer's shift (0..14); none: it offered no scaling
  bool sack = false;
  bool ecn = false;
  bool operator==(const CookieTsOptions&) const = default;
};

class SynCookies {
 public:
  /// Linux's msstab: "MSS Values are chosen based on the 2011 paper 'An Analysis of
  /// TCP Maximum Segement Sizes' by S. Alcock and R. Nelson"; sorted.
  static constexpr std::array<std::uint16_t, 4> kMssTable{536, 1300, 1440, 1460};
  /// Linux TCP_SYNCOOKIE_PERIOD (60 * HZ): the counter in the cookie's top 8 bits
  /// advances once a period.
  static constexpr base::Duration kPeriod = std::chrono::seconds(60);
  /// Linux MAX_SYNCOOKIE_AGE: a cookie is good while the counter has moved by
  /// less than this (so between 60 and 120 s).
  static constexpr std::uint32_t kMaxAge = 2;
  /// Linux TCP_SYNCOOKIE_VALID: after the last cookie sent, how long a listener
  /// still checks ACKs for cookies (tcp_synq_no_recent_overflow).
  static constexpr base::Duration kValid = kMaxAge * kPeriod;
  /// Linux TSBITS: the low bits of TSval that carry the options.
  static constexpr unsigned kTsBits = 6;

  /// Draws the two 128-bit SipHash keys from rng (Linux syncookie_secret[2]).
  explicit SynCookies(base::Random& rng);
  /// Draws them from a generator of their own seeded with `seed`.
  explicit SynCookies(std::uint64_t seed);
  /// Keys given (tests).
  SynCookies(std::array<std::uint64_t, 4> keys) : keys_(keys) {}

  /// The largest table entry not above `mss` (536 for anything smaller), as
  /// __cookie_v4_init_sequence rounds it down.
  static std::uint16_t round_mss(std::uint16_t mss);

  /// The ISN of a cookie SYN-ACK for a SYN from `remote` to `local` carrying
  /// sequence number `syn_seq` and the peer's MSS `mss` (rounded down).
  std::uint32_t make_isn(const base::Endpoint& local, const base::Endpoint& remote, std::uint32_t syn_seq,
                         std::uint16_t mss, base::Instant now) const;
  /// For an ACK from `remote` to `local` with SEG.SEQ `seq` and SEG.ACK `ack`: the
  /// MSS the cookie (ack - 1) encodes if it is genuine and no more than kMaxAge
  /// periods old (Linux __cookie_v4_check); nullopt otherwise.
  std::optional<std::uint16_t> check(const base::Endpoint& local, const base::Endpoint& remote, std::uint32_t seq,
                                     std::uint32_t ack, base::Instant now) const;

  /// Linux cookie_init_timestamp: `ts_now` with its low kTsBits replaced by the
  /// options, never later than ts_now (the clock that follows must not go back).
  static std::uint32_t encode_timestamp(std::uint32_t ts_now, const CookieTsOptions& options);
  /// Linux cookie_timestamp_decode, from the ACK's TSecr (our TSval echoed).
  static CookieTsOptions decode_timestamp(std::uint32_t tsecr);

  /// The counter of periods at `now` (Linux tcp_cookie_time).
  static std::uint32_t counter(base::Instant now);

 private:
  std::uint32_t hash(const base::Endpoint& local, const base::Endpoint& remote, std::uint32_t count, int which) const;
  std::array<std::uint64_t, 4> keys_;
};

}  // namespace ustack::tcp

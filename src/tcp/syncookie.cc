// SYN cookies (RFC 4987 3.6) with Linux's layout (net/ipv4/syncookies.c):
//   cookie = H0(pair) + SEG.SEQ + (count << 24) + ((H1(pair, count) + mssind) mod 2^24)
// H0 and H1 SipHash-2-4 under two secret keys, count the 60-second period.
#include "tcp/syncookie.h"

#include <array>

#include "base/bytes.h"
#include "base/siphash.h"

namespace ustack::tcp {

namespace {
constexpr unsigned kCookieBits = 24;  // Linux COOKIEBITS: "Upper bits store count"
constexpr std::uint32_t kCookieMask = (std::uint32_t{1} << kCookieBits) - 1;
constexpr std::uint32_t kTsMask = (std::uint32_t{1} << SynCookies::kTsBits) - 1;
constexpr std::uint32_t kTsOptWscaleMask = 0xf;  // "A WScale setting of '0xf' ... means that original
                                                 //  syn did not include the TCP window scaling option"
constexpr std::uint32_t kTsOptSack = 1u << 4;
constexpr std::uint32_t kTsOptEcn = 1u << 5;

void put_be32(std::array<base::Byte, 16>& buf, std::size_t at, std::uint32_t v) {
  buf[at] = static_cast<base::Byte>(v >> 24);
  buf[at + 1] = static_cast<base::Byte>(v >> 16);
  buf[at + 2] = static_cast<base::Byte>(v >> 8);
  buf[at + 3] = static_cast<base::Byte>(v);
}
}  // namespace

SynCookies::SynCookies(base::Random& rng)
    : keys_{rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()} {}

SynCookies::SynCookies(std::uint64_t seed) {
  base::Random rng(seed);
  *this = SynCookies(rng);
}

std::uint32_t SynCookies::counter(base::Instant now) {
  return static_cast<std::uint32_t>(now.time_since_epoch() / kPeriod);
}

std::uint32_t SynCookies::hash(const base::Endpoint& local, const base::Endpoint& remote, std::uint32_t count,
                               int which) const {
  // Linux cookie_hash: siphash_4u32(saddr, daddr, sport << 16 | dport, count,
  // &syncookie_secret[c]), saddr and sport the SYN's source (the peer).
  std::array<base::Byte, 16> buf{};
  put_be32(buf, 0, remote.addr.v4().value());
  put_be32(buf, 4, local.addr.v4().value());
  put_be32(buf, 8, std::uint32_t{remote.port} << 16 | local.port);
  put_be32(buf, 12, count);
  const auto k = static_cast<std::size_t>(which) * 2;
  return static_cast<std::uint32_t>(base::siphash24(keys_[k], keys_[k + 1], base::ByteSpan(buf.data(), buf.size())));
}

std::uint16_t SynCookies::round_mss(std::uint16_t mss) {
  // __cookie_v4_init_sequence: "for (mssind = ARRAY_SIZE(msstab) - 1; mssind ;
  // mssind--) if (mss >= msstab[mssind]) break;"
  std::size_t i = kMssTable.size() - 1;
  for (; i > 0; --i)
    if (mss >= kMssTable[i]) break;
  return kMssTable[i];
}

std::uint32_t SynCookies::make_isn(const base::Endpoint& local, const base::Endpoint& remote, std::uint32_t syn_seq,
                                   std::uint16_t mss, base::Instant now) const {
  std::uint32_t mssind = kMssTable.size() - 1;
  for (; mssind > 0; --mssind)
    if (mss >= kMssTable[mssind]) break;
  const std::uint32_t count = counter(now);
  // secure_tcp_syn_cookie: "HASH(sec1,saddr,sport,daddr,dport,sec1) + sseq +
  // (count * 2^24) + (HASH(sec2,saddr,sport,daddr,dport,count,sec2) % 2^24)",
  // the MSS index added into the second hash.
  return hash(local, remote, 0, 0) + syn_seq + (count << kCookieBits) +
         ((hash(local, remote, count, 1) + mssind) & kCookieMask);
}

std::optional<std::uint16_t> SynCookies::check(const base::Endpoint& local, const base::Endpoint& remote,
                                               std::uint32_t seq, std::uint32_t ack, base::Instant now) const {
  // __cookie_v4_check: "cookie = ntohl(th->ack_seq) - 1; seq = ntohl(th->seq) - 1".
  std::uint32_t cookie = ack - 1;
  const std::uint32_t syn_seq = seq - 1;
  const std::uint32_t count = counter(now);
  // check_tcp_syn_cookie: "Strip away the layers from the cookie".
  cookie -= hash(local, remote, 0, 0) + syn_seq;
  const std::uint32_t diff = (count - (cookie >> kCookieBits)) & (~std::uint32_t{0} >> kCookieBits);
  if (diff >= kMaxAge) return std::nullopt;
  const std::uint32_t mssind = (cookie - hash(local, remote, count - diff, 1)) & kCookieMask;
  if (mssind >= kMssTable.size()) return std::nullopt;
  return kMssTable[mssind];
}

std::uint32_t SynCookies::encode_timestamp(std::uint32_t ts_now, const CookieTsOptions& o) {
  std::uint32_t options = o.wscale ? (*o.wscale & kTsOptWscaleMask) : kTsOptWscaleMask;
  if (o.sack) options |= kTsOptSack;
  if (o.ecn) options |= kTsOptEcn;
  // cookie_init_timestamp: "ts = (ts_now >> TSBITS) << TSBITS; ts |= options; if
  // (ts > ts_now) ts -= (1UL << TSBITS);" (on the 32-bit wrapping clock: "later"
  // is a positive difference).
  std::uint32_t ts = (ts_now & ~kTsMask) | options;
  if (static_cast<std::int32_t>(ts - ts_now) > 0) ts -= kTsMask + 1;
  return ts;
}

CookieTsOptions SynCookies::decode_timestamp(std::uint32_t tsecr) {
  CookieTsOptions o;
  const std::uint32_t options = tsecr & kTsMask;
  o.sack = (options & kTsOptSack) != 0;
  o.ecn = (options & kTsOptEcn) != 0;
  if ((options & kTsOptWscaleMask) != kTsOptWscaleMask)
    o.wscale = static_cast<std::uint8_t>(options & kTsOptWscaleMask);
  return o;
}

}  // namespace ustack::tcp

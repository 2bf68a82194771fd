// TCP header and options (RFC 9293 3.1, 3.2; MSS RFC 9293 3.7.1; window scale and
// timestamps RFC 7323; SACK RFC 2018).
#include "wire/tcp.h"

#include <algorithm>
#include <cassert>

#include "wire/checksum.h"
#include "wire/ipv4.h"

namespace ustack::wire {
namespace {

namespace kind {
constexpr std::uint8_t eol = 0;
constexpr std::uint8_t nop = 1;
constexpr std::uint8_t mss = 2;
constexpr std::uint8_t window_scale = 3;
constexpr std::uint8_t sack_permitted = 4;
constexpr std::uint8_t sack = 5;
constexpr std::uint8_t timestamps = 8;
}  // namespace kind

constexpr std::size_t kMssLen = 4;
constexpr std::size_t kWindowScaleLen = 3;
constexpr std::size_t kSackPermittedLen = 2;
constexpr std::size_t kTimestampsLen = 10;
constexpr std::size_t kSackBaseLen = 2;
constexpr std::size_t kSackBlockLen = 8;

// The layout emit() writes. Every option is laid out in whole 32-bit words as
// Linux's tcp_options_write() does, so no trailing padding is ever needed:
//   MSS          02 04 mm mm
//   TS+SACKOK    04 02 08 0a <tsval> <tsecr>   (NOP NOP instead of 04 02 without SACKOK)
//   SACKOK alone 01 01 04 02                   (only when there are no timestamps)
//   WS           01 03 03 ss
//   SACK         01 01 05 <2+8n> <blocks>
struct Layout {
  std::size_t fixed = 0;  // bytes before the SACK blocks
  std::size_t sack_blocks = 0;
  std::size_t total() const { return fixed + (sack_blocks ? 4 + kSackBlockLen * sack_blocks : 0); }
};

Layout layout_of(const TcpOptions& o) {
  Layout l;
  if (o.mss) l.fixed += 4;
  if (o.timestamps) l.fixed += 12;
  else if (o.sack_permitted) l.fixed += 4;
  if (o.window_scale) l.fixed += 4;
  const std::size_t room = TcpOptions::kMaxLen - l.fixed;
  const std::size_t fit = room >= 4 ? (room - 4) / kSackBlockLen : 0;
  l.sack_blocks = std::min<std::size_t>({o.sack_count, TcpOptions::kMaxSackBlocks, fit});
  return l;
}

}  // namespace

Parsed<TcpOptions> TcpOptions::parse(base::ByteSpan bytes) {
  TcpOptions o;
  if (auto e = parse_into(bytes, o)) return *e;
  return o;
}

std::optional<ParseError> TcpOptions::parse_into(base::ByteSpan bytes, TcpOptions& o) {
  // The options of nearly every segment of an established connection: NOP, NOP,
  // Timestamps, as RFC 7323 Appendix A lays them out and Linux and ustack send them.
  if (bytes.size() == 12 && bytes[0] == kind::nop && bytes[1] == kind::nop && bytes[2] == kind::timestamps &&
      bytes[3] == kTimestampsLen) {
    o.timestamps = TcpTimestamps{base::load_be32(bytes, 4), base::load_be32(bytes, 8)};
    return std::nullopt;
  }
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::uint8_t k = bytes[i];
    // RFC 9293 3.1: "This option code indicates the end of the option list."
    if (k == kind::eol) break;
    if (k == kind::nop) {
      ++i;
      continue;
    }
    // RFC 9293 3.1: every other option is "a byte of option-kind, a byte of
    // option-length, and the actual option-data bytes", the length counting all three.
    // RFC 1122 4.2.2.5: "TCP MUST be prepared to handle an illegal option length
    // (e.g., zero) without crashing".
    if (bytes.size() - i < 2) return ParseError::bad_option;
    const std::size_t len = bytes[i + 1];
    if (len < 2 || len > bytes.size() - i) return ParseError::bad_option;
    const base::ByteSpan opt = bytes.subspan(i, len);
    switch (k) {
      case kind::mss:
        if (len != kMssLen) return ParseError::bad_option;
        o.mss = base::load_be16(opt, 2);
        break;
      case kind::window_scale:
        // The shift is kept as sent; RFC 7323 2.3's clamp to 14 belongs to TCP.
        if (len != kWindowScaleLen) return ParseError::bad_option;
        o.window_scale = opt[2];
        break;
      case kind::sack_permitted:
        if (len != kSackPermittedLen) return ParseError::bad_option;
        o.sack_permitted = true;
        break;
      case kind::timestamps:
        if (len != kTimestampsLen) return ParseError::bad_option;
        o.timestamps = TcpTimestamps{base::load_be32(opt, 2), base::load_be32(opt, 6)};
        break;
      case kind::sack: {
        // RFC 2018 3: "A SACK option that specifies n blocks will have a length of
        // 8*n+2 bytes, so the 40 bytes available for TCP options can specify a
        // maximum of 4 blocks."
        const std::size_t body = len - kSackBaseLen;
        const std::size_t n = body / kSackBlockLen;
        if (body % kSackBlockLen != 0 || n == 0 || n > kMaxSackBlocks) return ParseError::bad_option;
        o.sack_blocks = {};
        for (std::size_t b = 0; b < n; ++b)
          o.sack_blocks[b] = SackBlock{base::load_be32(opt, 2 + 8 * b), base::load_be32(opt, 6 + 8 * b)};
        o.sack_count = static_cast<std::uint8_t>(n);
        break;
      }
      default:
        // RFC 9293 3.2: "A TCP implementation MUST ignore without error any TCP
        // option it does not implement, assuming that the option has a length field."
        break;
    }
    i += len;
  }
  return std::nullopt;
}

std::size_t TcpOptions::encoded_len() const { return layout_of(*this).total(); }

void TcpOptions::emit(base::MutByteSpan out) const {
  const Layout l = layout_of(*this);
  assert(out.size() >= l.total());
  std::size_t i = 0;
  auto put = [&](std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    out[i] = a;
    out[i + 1] = b;
    out[i + 2] = c;
    out[i + 3] = d;
    i += 4;
  };
  if (mss) {
    put(kind::mss, kMssLen, 0, 0);
    base::store_be16(out, i - 2, *mss);
  }
  if (timestamps) {
    if (sack_permitted) put(kind::sack_permitted, kSackPermittedLen, kind::timestamps, kTimestampsLen);
    else put(kind::nop, kind::nop, kind::timestamps, kTimestampsLen);
    base::store_be32(out, i, timestamps->value);
    base::store_be32(out, i + 4, timestamps->echo_reply);
    i += 8;
  } else if (sack_permitted) {
    put(kind::nop, kind::nop, kind::sack_permitted, kSackPermittedLen);
  }
  if (window_scale) put(kind::nop, kind::window_scale, kWindowScaleLen, *window_scale);
  if (l.sack_blocks) {
    put(kind::nop, kind::nop, kind::sack,
        static_cast<std::uint8_t>(kSackBaseLen + kSackBlockLen * l.sack_blocks));
    for (std::size_t b = 0; b < l.sack_blocks; ++b) {
      base::store_be32(out, i, sack_blocks[b].left);
      base::store_be32(out, i + 4, sack_blocks[b].right);
      i += 8;
    }
  }
  assert(i == l.total() && i % 4 == 0 && i <= kMaxLen);
}

Parsed<TcpView> TcpView::parse(base::ByteSpan bytes) {
  if (bytes.size() < kMinHeaderLen) return ParseError::truncated;
  // RFC 9293 3.1: "Data Offset: 4 bits. The number of 32-bit words in the TCP
  // header." It cannot be less than the 5 words of the fixed header.
  const std::size_t header_len = (std::size_t{bytes[12]} >> 4) * 4;
  if (header_len < kMinHeaderLen || header_len > bytes.size()) return ParseError::bad_header_len;
  return TcpView(bytes);
}

bool TcpView::checksum_ok(base::Ipv4Addr src, base::Ipv4Addr dst) const {
  if (bytes_.size() > 0xffff) return false;  // no IPv4 datagram holds it
  Checksum c;
  c.add_pseudo_header(src, dst, ip_proto::tcp, static_cast<std::uint16_t>(bytes_.size()));
  c.add(bytes_);
  return c.finish() == 0;
}

Parsed<TcpRepr> TcpRepr::parse(base::ByteSpan segment, base::Ipv4Addr src, base::Ipv4Addr dst,
                               bool verify_checksum) {
  auto v = TcpView::parse(segment);
  if (!v) return v.error();
  // RFC 9293 3.1: the checksum covers the pseudo-header, header and data; it is
  // checked before the options, whose bytes it protects.
  if (verify_checksum && !v->checksum_ok(src, dst)) return ParseError::bad_checksum;
  // Built in place, options included: this runs for every segment received.
  Parsed<TcpRepr> out{TcpRepr{}};
  TcpRepr& r = *out;
  if (auto e = TcpOptions::parse_into(v->options(), r.options)) {
    out = *e;
    return out;
  }
  r.src_port = v->src_port();
  r.dst_port = v->dst_port();
  r.seq = v->seq();
  r.ack = v->ack();
  r.flags = v->flags();
  r.window = v->window();
  r.urgent = v->urgent();
  return out;
}

void TcpRepr::emit(base::MutByteSpan segment, base::Ipv4Addr src, base::Ipv4Addr dst, bool partial) const {
  const std::size_t hlen = header_len();
  assert(segment.size() >= hlen && segment.size() <= 0xffff);
  base::store_be16(segment, 0, src_port);
  base::store_be16(segment, 2, dst_port);
  base::store_be32(segment, 4, seq);
  base::store_be32(segment, 8, ack);
  segment[12] = static_cast<std::uint8_t>((hlen / 4) << 4);
  segment[13] = flags;
  base::store_be16(segment, 14, window);
  base::store_be16(segment, 16, 0);
  base::store_be16(segment, 18, urgent);
  options.emit(segment.subspan(TcpView::kMinHeaderLen, hlen - TcpView::kMinHeaderLen));
  Checksum c;
  c.add_pseudo_header(src, dst, ip_proto::tcp, static_cast<std::uint16_t>(segment.size()));
  if (partial) {
    base::store_be16(segment, 16, c.folded());
    return;
  }
  c.add(segment);
  base::store_be16(segment, 16, c.finish());
}

}  // namespace ustack::wire

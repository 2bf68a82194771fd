// Ethernet II framing (IEEE 802.3 with an EtherType, no 802.1Q tags yet).
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "base/bytes.h"
#include "wire/parse_error.h"

namespace ustack::wire {

enum class EtherType : std::uint16_t { ipv4 = 0x0800, arp = 0x0806, ipv6 = 0x86dd };

class EthernetView {
 public:
  static constexpr std::size_t kHeaderLen = 14;
  /// Succeeds only if `bytes` holds a whole header.
  static Parsed<EthernetView> parse(base::ByteSpan bytes);
  base::MacAddr dst() const;
  base::MacAddr src() const;
  std::uint16_t ethertype() const { return base::load_be16(bytes_, 12); }
  base::ByteSpan payload() const { return bytes_.subspan(kHeaderLen); }

 private:
  explicit EthernetView(base::ByteSpan b) : bytes_(b) {}
  base::ByteSpan bytes_;
};

struct EthernetRepr {
  base::MacAddr dst;
  base::MacAddr src;
  std::uint16_t ethertype = 0;

  static Parsed<EthernetRepr> parse(base::ByteSpan frame);
  /// Writes the 14-byte header at the start of `out` (out.size() >= kHeaderLen).
  void emit(base::MutByteSpan out) const;
  bool operator==(const EthernetRepr&) const = default;
};

}  // namespace ustack::wire

// Private to src/wire: loading and storing 6-byte MAC addresses in packet bytes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "base/addr.h"
#include "base/bytes.h"

namespace ustack::wire::detail {

inline base::MacAddr load_mac(base::ByteSpan b, std::size_t off) {
  std::array<std::uint8_t, 6> a;
  std::copy_n(b.subspan(off, 6).begin(), 6, a.begin());
  return base::MacAddr(a);
}

inline void store_mac(base::MutByteSpan b, std::size_t off, const base::MacAddr& m) {
  std::copy(m.bytes().begin(), m.bytes().end(), b.subspan(off, 6).begin());
}

}  // namespace ustack::wire::detail

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012):
// the keyed hash F() behind ephemeral ports (RFC 6056 3.3.3) and ISNs (RFC 6528).
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace ustack::base {

/// SipHash-2-4 of `data` under the 128-bit key (k0, k1), where k0 holds key bytes
/// 0..7 and k1 bytes 8..15, each read little-endian as in the reference code.
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, ByteSpan data);

}  // namespace ustack::base

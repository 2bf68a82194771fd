// Byte spans and explicit big-endian (network order) loads and stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ustack::base {

using Byte = std::uint8_t;
using ByteSpan = std::span<const Byte>;
using MutByteSpan = std::span<Byte>;

inline std::uint16_t load_be16(ByteSpan b, std::size_t off) {
  return static_cast<std::uint16_t>((b[off] << 8) | b[off + 1]);
}
inline std::uint32_t load_be32(ByteSpan b, std::size_t off) {
  return (std::uint32_t{b[off]} << 24) | (std::uint32_t{b[off + 1]} << 16) |
         (std::uint32_t{b[off + 2]} << 8) | std::uint32_t{b[off + 3]};
}
inline void store_be16(MutByteSpan b, std::size_t off, std::uint16_t v) {
  b[off] = static_cast<Byte>(v >> 8);
  b[off + 1] = static_cast<Byte>(v);
}
inline void store_be32(MutByteSpan b, std::size_t off, std::uint32_t v) {
  b[off] = static_cast<Byte>(v >> 24);
  b[off + 1] = static_cast<Byte>(v >> 16);
  b[off + 2] = static_cast<Byte>(v >> 8);
  b[off + 3] = static_cast<Byte>(v);
}

inline ByteSpan as_bytes(const void* p, std::size_t n) {
  return {static_cast<const Byte*>(p), n};
}

}  // namespace ustack::base

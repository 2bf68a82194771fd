// Ephemeral port selection (RFC 6056 3.3.1 Algorithm 1 and 3.3.3 Algorithm 3).
// The keyed hash F() is SipHash-2-4 with a 128-bit secret drawn at construction.
#include "ip/ports.h"

#include <array>
#include <utility>

#include "base/bytes.h"
#include "base/siphash.h"

namespace ustack::ip {

namespace {

/// Appends a family tag and the address bytes.
std::size_t put_addr(std::array<base::Byte, 40>& buf, std::size_t at, const base::IpAddr& a) {
  buf[at++] = static_cast<base::Byte>(a.family());
  if (a.is_v4()) {
    for (base::Byte b : a.v4().octets()) buf[at++] = b;
  } else {
    for (base::Byte b : a.v6_bytes()) buf[at++] = b;
  }
  return at;
}

}  // namespace

EphemeralPorts::EphemeralPorts(base::Random& rng, std::uint16_t first, std::uint16_t last)
    : rng_(rng), first_(first), last_(last) {
  if (first_ > last_) std::swap(first_, last_);
  secret_[0] = rng_.next_u64();
  secret_[1] = rng_.next_u64();
}

std::optional<std::uint16_t> EphemeralPorts::pick_random(
    const std::function<bool(std::uint16_t)>& is_free) {
  // RFC 6056 3.3.1: "next_ephemeral = min_ephemeral + (random() % num_ephemeral);
  // count = num_ephemeral; do { if (check_suitable_port(port)) return ...;"
  const std::uint32_t num = std::uint32_t{last_} - first_ + 1;
  const std::uint32_t start = static_cast<std::uint32_t>(rng_.below(num));
  for (std::uint32_t i = 0; i < num; ++i) {
    const auto port = static_cast<std::uint16_t>(first_ + (start + i) % num);
    if (is_free(port)) return port;
  }
  return std::nullopt;
}

std::optional<std::uint16_t> EphemeralPorts::pick_for(
    base::IpAddr local, const base::Endpoint& remote,
    const std::function<bool(std::uint16_t)>& is_free) {
  // RFC 6056 3.3.3: "offset = F(local_IP, remote_IP, remote_port, secret_key);
  // port = min_ephemeral + (next_ephemeral + offset) % num_ephemeral;"
  std::array<base::Byte, 40> buf{};
  std::size_t n = put_addr(buf, 0, local);
  n = put_addr(buf, n, remote.addr);
  buf[n++] = static_cast<base::Byte>(remote.port >> 8);
  buf[n++] = static_cast<base::Byte>(remote.port);
  const std::uint64_t offset = base::siphash24(secret_[0], secret_[1], base::ByteSpan(buf.data(), n));

  const std::uint32_t num = std::uint32_t{last_} - first_ + 1;
  const std::uint64_t base_index = offset % num + next_;
  for (std::uint32_t i = 0; i < num; ++i) {
    const auto port = static_cast<std::uint16_t>(first_ + (base_index + i) % num);
    if (is_free(port)) {
      ++next_;
      return port;
    }
  }
  return std::nullopt;
}

}  // namespace ustack::ip

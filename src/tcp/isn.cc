// Initial sequence numbers (RFC 6528): ISN = M + F(localip, localport, remoteip,
// remoteport, secretkey), F being SipHash-2-4 and M a 4-microsecond timer.
#include "tcp/isn.h"

#include <array>
#include <cstddef>

#include "base/bytes.h"
#include "base/siphash.h"

namespace ustack::tcp {

namespace {

/// Appends the address bytes in network order (4 for IPv4, 16 for IPv6).
std::size_t put_addr(std::array<base::Byte, 36>& buf, std::size_t at, const base::IpAddr& a) {
  if (a.is_v4()) {
    for (base::Byte b : a.v4().octets()) buf[at++] = b;
  } else {
    for (base::Byte b : a.v6_bytes()) buf[at++] = b;
  }
  return at;
}

std::size_t put_port(std::array<base::Byte, 36>& buf, std::size_t at, std::uint16_t port) {
  buf[at++] = static_cast<base::Byte>(port >> 8);
  buf[at++] = static_cast<base::Byte>(port);
  return at;
}

}  // namespace

IsnGenerator::IsnGenerator(base::Random& rng) : key_{rng.next_u64(), rng.next_u64()} {}

std::uint32_t IsnGenerator::generate(const base::Endpoint& local, const base::Endpoint& remote,
                                     base::Instant now) const {
  // RFC 6528 3: "F() is a pseudorandom function (PRF) of the connection-id and
  // some secret data ... F() MUST NOT be computable from the outside".
  std::array<base::Byte, 36> buf{};
  std::size_t n = put_addr(buf, 0, local.addr);
  n = put_port(buf, n, local.port);
  n = put_addr(buf, n, remote.addr);
  n = put_port(buf, n, remote.port);
  const std::uint64_t f = base::siphash24(key_[0], key_[1], base::ByteSpan(buf.data(), n));
  // RFC 6528 3: "M is the 4 microsecond timer"; arithmetic is modulo 2^32.
  const auto m = static_cast<std::uint64_t>(now.time_since_epoch().count() / 4000);
  return static_cast<std::uint32_t>(m + f);
}

std::uint32_t IsnGenerator::ts_offset(const base::Endpoint& local, const base::Endpoint& remote) const {
  // secure_tcp_ts_off(saddr, daddr): the addresses only, under its own key (the
  // ISN key with its halves swapped).
  std::array<base::Byte, 36> buf{};
  std::size_t n = put_addr(buf, 0, local.addr);
  n = put_addr(buf, n, remote.addr);
  return static_cast<std::uint32_t>(base::siphash24(key_[1], key_[0], base::ByteSpan(buf.data(), n)));
}

}  // namespace ustack::tcp

// Link and network addresses: MAC, IPv4, a family-tagged IP address that IPv6 will
// join, prefixes, and transport endpoints (address and port).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ustack::base {

class MacAddr {
 public:
  constexpr MacAddr() = default;
  constexpr explicit MacAddr(std::array<std::uint8_t, 6> b) : bytes_(b) {}
  static constexpr MacAddr broadcast() { return MacAddr({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); }
  /// "02:00:00:00:00:01"; nullopt when malformed.
  static std::optional<MacAddr> parse(std::string_view text);
  const std::array<std::uint8_t, 6>& bytes() const { return bytes_; }
  bool is_broadcast() const { return *this == broadcast(); }
  bool is_multicast() const { return (bytes_[0] & 1) != 0; }
  bool is_zero() const { return *this == MacAddr(); }
  std::string to_string() const;
  auto operator<=>(const MacAddr&) const = default;

 private:
  std::array<std::uint8_t, 6> bytes_{};
};

/// An IPv4 address, held as a host-order integer.
class Ipv4Addr {
 public:
  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(std::uint32_t host_order) : v_(host_order) {}
  constexpr Ipv4Addr(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : v_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}
  static constexpr Ipv4Addr any() { return Ipv4Addr(0u); }
  static constexpr Ipv4Addr broadcast() { return Ipv4Addr(0xffffffffu); }
  static constexpr Ipv4Addr loopback() { return Ipv4Addr(127, 0, 0, 1); }
  /// Dotted quad only ("198.18.0.1"); nullopt when malformed.
  static std::optional<Ipv4Addr> parse(std::string_view text);

  constexpr std::uint32_t value() const { return v_; }
  std::array<std::uint8_t, 4> octets() const {
    return {static_cast<std::uint8_t>(v_ >> 24), static_cast<std::uint8_t>(v_ >> 16),
            static_cast<std::uint8_t>(v_ >> 8), static_cast<std::uint8_t>(v_)};
  }
  constexpr bool is_unspecified() const { return v_ == 0; }
  constexpr bool is_broadcast() const { return v_ == 0xffffffffu; }
  constexpr bool is_multicast() const { return (v_ >> 28) == 0xe; }
  constexpr bool is_loopback() const { return (v_ >> 24) == 127; }
  /// 0.0.0.0/8 ("this network", RFC 1122 3.2.1.3).
  constexpr bool is_this_network() const { return (v_ >> 24) == 0; }
  /// 240.0.0.0/4 but not the limited broadcast.
  constexpr bool is_reserved() const { return (v_ >> 28) == 0xf && !is_broadcast(); }
  std::string to_string() const;
  constexpr auto operator<=>(const Ipv4Addr&) const = default;

 private:
  std::uint32_t v_ = 0;
};

/// An IPv4 prefix: address plus prefix length, as in "198.18.0.2/24".
struct Ipv4Cidr {
  Ipv4Addr addr;
  std::uint8_t prefix_len = 32;

  static std::optional<Ipv4Cidr> parse(std::string_view text);
  constexpr std::uint32_t mask() const {
    return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
  }
  constexpr Ipv4Addr network() const { return Ipv4Addr(addr.value() & mask()); }
  /// The directed broadcast address of the subnet.
  constexpr Ipv4Addr broadcast() const { return Ipv4Addr(addr.value() | ~mask()); }
  constexpr bool contains(Ipv4Addr a) const { return (a.value() & mask()) == network().value(); }
  std::string to_string() const;
  constexpr bool operator==(const Ipv4Cidr&) const = default;
};

enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

/// An IP address of either family. Only IPv4 is routed today; the type is here so
/// that sockets and endpoints do not change shape when IPv6 arrives.
class IpAddr {
 public:
  constexpr IpAddr() = default;
  constexpr IpAddr(Ipv4Addr v4) : family_(Family::v4), v4_(v4) {}  // NOLINT: implicit
  static IpAddr v6(const std::array<std::uint8_t, 16>& bytes) {
    IpAddr a;
    a.family_ = Family::v6;
    a.v6_ = bytes;
    return a;
  }
  constexpr Family family() const { return family_; }
  constexpr bool is_v4() const { return family_ == Family::v4; }
  constexpr Ipv4Addr v4() const { return v4_; }
  const std::array<std::uint8_t, 16>& v6_bytes() const { return v6_; }
  bool is_unspecified() const;
  std::string to_string() const;
  bool operator==(const IpAddr&) const = default;

 private:
  Family family_ = Family::v4;
  Ipv4Addr v4_;
  std::array<std::uint8_t, 16> v6_{};
};

/// A transport endpoint: address and port (host order).
struct Endpoint {
  IpAddr addr;
  std::uint16_t port = 0;
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

}  // namespace ustack::base

// fmt formatters, so that log calls pass addresses and format them only when the
// level is on (never a string built per packet for a disabled log line).
#include <fmt/format.h>

template <>
struct fmt::formatter<ustack::base::Ipv4Addr> : fmt::formatter<std::string_view> {
  auto format(const ustack::base::Ipv4Addr& a, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<ustack::base::MacAddr> : fmt::formatter<std::string_view> {
  auto format(const ustack::base::MacAddr& a, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<ustack::base::Endpoint> : fmt::formatter<std::string_view> {
  auto format(const ustack::base::Endpoint& e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(e.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<ustack::base::Ipv4Cidr> : fmt::formatter<std::string_view> {
  auto format(const ustack::base::Ipv4Cidr& c, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(c.to_string(), ctx);
  }
};

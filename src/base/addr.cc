// Parsing and printing of addresses.
#include "base/addr.h"

#include <fmt/format.h>

#include <charconv>

namespace ustack::base {
namespace {

std::optional<unsigned> parse_number(std::string_view s, int base, unsigned max) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  std::array<std::uint8_t, 6> b{};
  for (int i = 0; i < 6; ++i) {
    const std::size_t want = i < 5 ? 3 : 2;
    if (text.size() < want || (i < 5 && text[2] != ':')) return std::nullopt;
    auto v = parse_number(text.substr(0, 2), 16, 255);
    if (!v || text.substr(0, 2).size() != 2) return std::nullopt;
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*v);
    text.remove_prefix(want);
  }
  if (!text.empty()) return std::nullopt;
  return MacAddr(b);
}

std::string MacAddr::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0], bytes_[1], bytes_[2],
                     bytes_[3], bytes_[4], bytes_[5]);
}

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const auto dot = text.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    const auto part = last ? text : text.substr(0, dot);
    if (part.size() > 1 && part[0] == '0') return std::nullopt;  // no octal ambiguity
    auto n = parse_number(part, 10, 255);
    if (!n) return std::nullopt;
    v = (v << 8) | *n;
    if (!last) text.remove_prefix(dot + 1);
  }
  return Ipv4Addr(v);
}

std::string Ipv4Addr::to_string() const {
  const auto o = octets();
  return fmt::format("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return Ipv4Cidr{*addr, 32};
  auto len = parse_number(text.substr(slash + 1), 10, 32);
  if (!len) return std::nullopt;
  return Ipv4Cidr{*addr, static_cast<std::uint8_t>(*len)};
}

std::string Ipv4Cidr::to_string() const { return fmt::format("{}/{}", addr.to_string(), prefix_len); }

bool IpAddr::is_unspecified() const {
  if (is_v4()) return v4_.is_unspecified();
  for (auto b : v6_)
    if (b != 0) return false;
  return true;
}

std::string IpAddr::to_string() const {
  if (is_v4()) return v4_.to_string();
  std::string s;
  for (std::size_t i = 0; i < 16; i += 2) {
    if (i) s += ':';
    s += fmt::format("{:x}", (v6_[i] << 8) | v6_[i + 1]);
  }
  return s;
}

std::string Endpoint::to_string() const {
  return addr.is_v4() ? fmt::format("{}:{}", addr.to_string(), port)
                      : fmt::format("[{}]:{}", addr.to_string(), port);
}

}  // namespace ustack::base

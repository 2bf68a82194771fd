// TCP sequence numbers: 32-bit, compared modulo 2^32 (RFC 9293 3.4: "all
// arithmetic dealing with sequence numbers must be performed modulo 2**32").
#pragma once

#include <cstdint>

namespace ustack::tcp {

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(std::uint32_t v) : v_(v) {}
  constexpr std::uint32_t value() const { return v_; }

  constexpr Seq operator+(std::uint32_t n) const { return Seq(v_ + n); }
  constexpr Seq operator-(std::uint32_t n) const { return Seq(v_ - n); }
  constexpr Seq& operator+=(std::uint32_t n) { v_ += n; return *this; }
  /// The signed distance a - b, valid when |a - b| < 2^31.
  constexpr std::int32_t operator-(Seq b) const { return static_cast<std::int32_t>(v_ - b.v_); }

  constexpr bool operator==(const Seq&) const = default;
  constexpr bool operator<(Seq b) const { return (*this - b) < 0; }
  constexpr bool operator<=(Seq b) const { return (*this - b) <= 0; }
  constexpr bool operator>(Seq b) const { return (*this - b) > 0; }
  constexpr bool operator>=(Seq b) const { return (*this - b) >= 0; }

 private:
  std::uint32_t v_ = 0;
};

constexpr Seq max(Seq a, Seq b) { return a > b ? a : b; }
constexpr Seq min(Seq a, Seq b) { return a < b ? a : b; }
/// lo <= s < hi, modulo 2^32.
constexpr bool in_window(Seq s, Seq lo, Seq hi) { return lo <= s && s < hi; }

}  // namespace ustack::tcp

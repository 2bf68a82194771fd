// An optional time (an Instant or a Duration) in the space of the value: "none"
// is the one value time never takes, T::min(). std::optional<Instant> is 16
// bytes (8 of them padding for its flag); a TCP connection has a dozen deadlines
// and stamps, and at 100,000 idle connections the flags alone cost 10 MB. The
// interface is std::optional's, so a field changes type and nothing else.
#pragma once

#include <chrono>
#include <optional>

#include "base/time.h"

namespace ustack::base {

template <class T>
class CompactOptional {
 public:
  constexpr CompactOptional() noexcept = default;
  constexpr CompactOptional(std::nullopt_t) noexcept {}             // NOLINT(google-explicit-constructor)
  constexpr CompactOptional(T v) noexcept : v_(v) {}                // NOLINT(google-explicit-constructor)
  constexpr CompactOptional(const std::optional<T>& o) noexcept     // NOLINT(google-explicit-constructor)
      : v_(o ? *o : none()) {}
  constexpr CompactOptional& operator=(std::nullopt_t) noexcept {
    v_ = none();
    return *this;
  }

  constexpr bool has_value() const noexcept { return v_ != none(); }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  /// As std::optional: only when has_value().
  constexpr const T& operator*() const noexcept { return v_; }
  constexpr T& operator*() noexcept { return v_; }
  constexpr const T* operator->() const noexcept { return &v_; }
  constexpr const T& value() const {
    if (!has_value()) throw std::bad_optional_access();
    return v_;
  }
  constexpr T value_or(T other) const noexcept { return has_value() ? v_ : other; }
  constexpr void reset() noexcept { v_ = none(); }
  constexpr T& emplace(T v) noexcept { return v_ = v; }
  constexpr operator std::optional<T>() const noexcept {  // NOLINT(google-explicit-constructor)
    return has_value() ? std::optional<T>(v_) : std::nullopt;
  }

  friend constexpr bool operator==(const CompactOptional& a, const CompactOptional& b) noexcept {
    return a.v_ == b.v_;
  }
  friend constexpr bool operator==(const CompactOptional& a, std::nullopt_t) noexcept { return !a.has_value(); }
  friend constexpr bool operator==(const CompactOptional& a, const T& b) noexcept { return a.has_value() && a.v_ == b; }

 private:
  static constexpr T none() noexcept { return T::min(); }
  T v_ = none();
};

using OptInstant = CompactOptional<Instant>;
using OptDuration = CompactOptional<Duration>;

}  // namespace ustack::base

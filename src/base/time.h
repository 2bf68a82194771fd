// Time as the core sees it: instants on a clock that the core cannot read.
// Only src/runtime/ maps the real monotonic clock onto it; tests step it by hand.
#pragma once

#include <chrono>
#include <cstdint>

namespace ustack::base {

/// The stack's clock. It has no now(): time is always passed in.
struct StackClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<StackClock>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using Instant = StackClock::time_point;

inline constexpr Instant kEpoch{};

inline std::int64_t to_micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
inline std::int64_t to_millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
inline double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace ustack::base

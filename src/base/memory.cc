// The stack-wide memory account (Linux's tcp_mem / udp_mem thresholds).
#include "base/memory.h"

#include <charconv>
#include <limits>

namespace ustack::base {

bool MemoryAccount::try_charge(MemKind kind, std::size_t n, bool below_pressure) {
  if (n > room(below_pressure)) {
    ++refusals_;
    return false;
  }
  usage_ += n;
  by_kind_[static_cast<std::size_t>(kind)] += n;
  if (usage_ > peak_) peak_ = usage_;
  update_pressure();
  return true;
}

void MemoryAccount::uncharge(MemKind kind, std::size_t n) {
  auto& k = by_kind_[static_cast<std::size_t>(kind)];
  if (n > k) n = k;  // never below zero, whatever a caller does
  k -= n;
  usage_ -= n;
  update_pressure();
}

void MemoryAccount::set_limits(MemoryLimits limits) {
  limits_ = limits;
  update_pressure();
}

void MemoryAccount::update_pressure() {
  // Linux __sk_mem_raise_allocated: above limit[1] enter pressure; at or under
  // limit[0] leave it (sk_leave_memory_pressure).
  if (!pressure_ && usage_ > limits_.pressure) {
    pressure_ = true;
    ++pressure_entries_;
  } else if (pressure_ && usage_ <= limits_.min) {
    pressure_ = false;
  }
}

namespace {
std::optional<std::size_t> number(std::string_view t) {
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) return std::nullopt;
  return v;
}
std::optional<std::size_t> scaled(std::optional<std::size_t> v, std::size_t unit) {
  if (!v || *v > std::numeric_limits<std::size_t>::max() / unit) return std::nullopt;
  return *v * unit;
}
}  // namespace

std::optional<MemoryLimits> parse_memory_limits(std::string_view text) {
  MemoryLimits l;
  if (const auto c1 = text.find(','); c1 != std::string_view::npos) {
    const auto c2 = text.find(',', c1 + 1);
    if (c2 == std::string_view::npos) return std::nullopt;
    const auto min = scaled(number(text.substr(0, c1)), 4096);
    const auto pressure = scaled(number(text.substr(c1 + 1, c2 - c1 - 1)), 4096);
    const auto max = scaled(number(text.substr(c2 + 1)), 4096);
    if (!min || !pressure || !max) return std::nullopt;
    l = {*min, *pressure, *max};
  } else {
    std::size_t unit = 1;
    if (!text.empty()) {
      switch (text.back()) {
        case 'k': case 'K': unit = std::size_t{1} << 10; break;
        case 'm': case 'M': unit = std::size_t{1} << 20; break;
        case 'g': case 'G': unit = std::size_t{1} << 30; break;
        default: break;
      }
      if (unit != 1) text.remove_suffix(1);
    }
    const auto max = scaled(number(text), unit);
    if (!max) return std::nullopt;
    l = MemoryLimits::from_max(*max);
  }
  if (l.max == 0 || l.min > l.pressure || l.pressure > l.max) return std::nullopt;
  return l;
}

}  // namespace ustack::base

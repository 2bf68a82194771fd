// A stack-wide memory account with Linux's three thresholds (net.ipv4.tcp_mem,
// udp_mem: min, pressure, max), charged with the bytes that peers' input and
// applications' unread or unsent data hold: TCP receive data (in order and out of
// order), TCP send queues, UDP and raw receive queues, IP fragments awaiting
// reassembly. A charge that would pass `max` is refused, and the caller drops and
// counts (docs/hardening.md, "Memory limits"). Above `pressure` the account is under
// pressure until usage falls back to `min`: receive windows and buffers stop
// growing. Linux's per-socket forward allocation is left out: each charge is exact.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace ustack::base {

/// What holds the memory, for the breakdown that `ss -s` and netstat show
/// (Linux's /proc/net/sockstat: TCP mem, UDP mem, FRAG memory).
enum class MemKind : std::uint8_t { tcp, udp, frag };
inline constexpr std::size_t kMemKinds = 3;

struct MemoryLimits {
  /// Bytes. The defaults are Linux's tcp_mem on a machine of 512 MiB (tcp_init_mem:
  /// limit = free pages / 16; min = 3/4 limit, pressure = limit, max = 2 min),
  /// 5625, 7500 and 11250 pages of 4 KiB.
  std::size_t min = 5625u * 4096;
  std::size_t pressure = 7500u * 4096;
  std::size_t max = 11250u * 4096;
  /// One maximum with Linux's ratios below it: pressure = 2/3, min = 1/2.
  static MemoryLimits from_max(std::size_t max) { return {max / 2, max / 3 * 2, max}; }
};

/// "SIZE" (bytes, optionally with K, M or G: binary units) for from_max(SIZE), or
/// "MIN,PRESSURE,MAX" in 4 KiB pages as Linux's tcp_mem sysctl; nothing when
/// malformed or not ordered min <= pressure <= max, max > 0.
std::optional<MemoryLimits> parse_memory_limits(std::string_view text);

class MemoryAccount {
 public:
  explicit MemoryAccount(MemoryLimits limits = {}) : limits_(limits) {}

  /// Charges n bytes unless usage would pass max (with below_pressure, pressure);
  /// false (nothing charged) then.
  bool try_charge(MemKind kind, std::size_t n, bool below_pressure = false);
  /// What can still be charged: up to max, or up to pressure.
  std::size_t room(bool below_pressure = false) const {
    const std::size_t ceiling = below_pressure ? limits_.pressure : limits_.max;
    return usage_ >= ceiling ? 0 : ceiling - usage_;
  }
  void uncharge(MemKind kind, std::size_t n);

  /// Above `pressure` until usage falls to `min` (Linux tcp_memory_pressure).
  bool under_pressure() const { return pressure_; }
  /// No room for even one more byte.
  bool exhausted() const { return usage_ >= limits_.max; }
  std::size_t usage() const { return usage_; }
  std::size_t usage(MemKind kind) const { return by_kind_[static_cast<std::size_t>(kind)]; }
  /// The most ever charged at once.
  std::size_t peak() const { return peak_; }
  const MemoryLimits& limits() const { return limits_; }
  void set_limits(MemoryLimits limits);
  /// Times the account entered pressure (Linux TCPMemoryPressures).
  std::uint64_t pressure_entries() const { return pressure_entries_; }
  /// Charges refused at max.
  std::uint64_t refusals() const { return refusals_; }

 private:
  void update_pressure();
  MemoryLimits limits_;
  std::size_t usage_ = 0, peak_ = 0;
  std::array<std::size_t, kMemKinds> by_kind_{};
  bool pressure_ = false;
  std::uint64_t pressure_entries_ = 0, refusals_ = 0;
};

/// What one holder has charged (a socket's queue, a reassembly table), given back
/// when it is destroyed. Without an account every charge succeeds and nothing is
/// counted, so code under test need not set one up.
class MemCharge {
 public:
  MemCharge() = default;
  /// below_pressure: this holder may charge only up to the pressure threshold,
  /// leaving the band above it to data that peers send (docs/hardening.md).
  MemCharge(MemoryAccount* account, MemKind kind, bool below_pressure = false)
      : account_(account), kind_(kind), below_pressure_(below_pressure) {}
  MemCharge(const MemCharge&) = delete;
  MemCharge& operator=(const MemCharge&) = delete;
  MemCharge(MemCharge&& o) noexcept
      : account_(std::exchange(o.account_, nullptr)),
        kind_(o.kind_),
        below_pressure_(o.below_pressure_),
        bytes_(std::exchange(o.bytes_, 0)) {}
  MemCharge& operator=(MemCharge&& o) noexcept {
    if (this != &o) {
      release_all();
      account_ = std::exchange(o.account_, nullptr);
      kind_ = o.kind_;
      below_pressure_ = o.below_pressure_;
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  ~MemCharge() { release_all(); }

  /// Charges n more bytes; false, charging nothing, when the account refuses.
  bool try_add(std::size_t n) {
    if (n == 0) return true;
    if (account_ && !account_->try_charge(kind_, n, below_pressure_)) return false;
    bytes_ += n;
    return true;
  }
  /// Gives back n bytes (at most what is held).
  void release(std::size_t n) {
    if (n > bytes_) n = bytes_;
    if (account_ && n) account_->uncharge(kind_, n);
    bytes_ -= n;
  }
  void release_all() { release(bytes_); }
  /// Charges or gives back to hold exactly n bytes; false (unchanged) when a
  /// larger charge is refused.
  bool set(std::size_t n) {
    if (n > bytes_) return try_add(n - bytes_);
    release(bytes_ - n);
    return true;
  }
  std::size_t bytes() const { return bytes_; }
  MemoryAccount* account() const { return account_; }
  bool under_pressure() const { return account_ && account_->under_pressure(); }
  /// What this holder may still charge (unbounded without an account).
  std::size_t room() const { return account_ ? account_->room(below_pressure_) : static_cast<std::size_t>(-1); }

 private:
  MemoryAccount* account_ = nullptr;
  MemKind kind_ = MemKind::tcp;
  bool below_pressure_ = false;
  std::size_t bytes_ = 0;
};

}  // namespace ustack::base

// Fault injection as a device wrapper (like smoltcp's FaultInjector and netem):
// loss, duplication, reordering, corruption, delay with jitter and a rate limit,
// applied in both directions and seeded, so that a run replays exactly.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "link/device.h"

namespace ustack::link {

struct ImpairSpec {
  double loss = 0, dup = 0, reorder = 0, corrupt = 0;  // probabilities 0..1 per frame
  base::Duration delay{0};   // added to every frame
  base::Duration jitter{0};  // delay varies uniformly in [delay - jitter, delay + jitter]
  std::uint64_t rate_bps = 0;  // 0 = unlimited
  std::uint64_t seed = 1;

  /// The CLI syntax: comma-separated key=value, e.g.
  /// "loss=1.5%,dup=1%,reorder=2%,corrupt=0.1%,delay=20ms,jitter=5ms,rate=10mbit,seed=7".
  /// Percentages need '%' and lie in 0..100; times take ms, us or s; rates take bit,
  /// kbit, mbit or gbit. An empty spec means no impairment. On error the message
  /// names the offending part.
  static base::Result<ImpairSpec, std::string> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const ImpairSpec&) const = default;
};

struct ImpairCounters {
  std::uint64_t dropped = 0, duplicated = 0, corrupted = 0, reordered = 0;
  std::uint64_t overflow = 0;  // dropped because the hold queue was full
};

struct ImpairStats {
  ImpairCounters out;  // stack -> inner device
  ImpairCounters in;   // inner device -> stack
};

/// Wraps a device and impairs frames both ways. It either owns the inner device
/// (unique_ptr constructor) or references one that must outlive it (Device&).
///
/// Held frames are released by time. Outbound: every call to transmit() or receive()
/// first hands due outbound frames to the inner device, each with its due
/// time as `now`; the stack calls receive() on every poll, and next_deadline() says
/// when the next one is due. Inbound: receive() returns the earliest due frame; only
/// when none is due does it pull what the inner device has (up to a batch), so the
/// hold queue keeps what the delay line holds plus one batch, and a backlog stays in
/// the inner device (for a TAP, the kernel's queue, bounded and counted there).
///
/// Reordering holds a frame back until the next frame in the same direction has
/// been sent ahead of it (or until delay + kReorderHoldMax if none comes); jitter
/// alone never reorders. Corruption flips one random bit (past the Ethernet header
/// on an Ethernet device). Duplicates follow the original through the same pipeline.
class ImpairedDevice : public Device {
 public:
  static constexpr std::size_t kQueueLimit = 10000;  // per direction; beyond: overflow
  static constexpr base::Duration kReorderHoldMax = std::chrono::milliseconds(10);
  static constexpr std::size_t kPullBatch = 64;

  ImpairedDevice(Device& inner, const ImpairSpec& spec);
  ImpairedDevice(std::unique_ptr<Device> inner, const ImpairSpec& spec);
  ImpairedDevice(const ImpairedDevice&) = delete;
  ImpairedDevice& operator=(const ImpairedDevice&) = delete;

  Medium medium() const override { return inner_->medium(); }
  std::size_t mtu() const override { return inner_->mtu(); }
  std::string name() const override { return inner_->name(); }
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  /// Accepts the frame into the outbound pipeline. A frame lost by impairment still
  /// returns true (the sender cannot tell, as on a real wire; see impair_stats());
  /// false (tx_dropped) only when the hold queue is full. An inner device refusing
  /// a frame later counts it in its own stats.
  bool transmit(base::Instant now, base::ByteSpan frame) override;
  std::optional<base::Instant> next_deadline() const override;
  int pollable_fd() const override { return inner_->pollable_fd(); }
  /// Flushes the inner device. Held frames stay held: they are on the wire.
  void flush() override { inner_->flush(); }
  /// Held frames go to the inner device when due; what it batches leaves now.
  void flush_tx() override { inner_->flush_tx(); }
  // rx_checksum_trusted() stays false: frames come out of the hold queue, not
  // from the inner device's last receive(). The host turns TAP offloads off under
  // impairment (per-segment loss and reordering need per-segment frames).
  std::string offloads() const override { return inner_->offloads(); }
  const DeviceStats& stats() const override { return stats_; }

  ImpairStats impair_stats() const { return {out_.counters, in_.counters}; }
  const ImpairSpec& spec() const { return spec_; }
  Device& inner() { return *inner_; }

 private:
  struct Held {
    base::Instant due;
    std::vector<base::Byte> bytes;
  };
  // One direction's pipeline: what is held, the rate limiter, a frame held for reordering.
  struct Direction {
    std::deque<Held> queue;  // sorted by due; equal dues keep arrival order
    base::Instant busy_until{};
    base::Instant last_due{};
    std::optional<Held> held_back;  // waits for a later frame to overtake it
    ImpairCounters counters;
  };

  /// Runs a frame through loss, dup, corrupt, rate, delay, reorder. False only when
  /// the hold queue is full (a loss by impairment is silent, as on a real wire).
  bool admit(Direction& d, base::Instant now, base::ByteSpan frame);
  bool enqueue(Direction& d, base::Instant now, std::vector<base::Byte> bytes);
  static void insert_sorted(Direction& d, Held h);
  static void release_held_back(Direction& d, base::Instant now);
  void flush_outbound(base::Instant now);
  void pull_inbound(base::Instant now);

  std::unique_ptr<Device> owned_;
  Device* inner_;
  ImpairSpec spec_;
  base::Random rng_;
  Direction out_, in_;
  std::vector<base::Byte> scratch_;
  DeviceStats stats_;
};

}  // namespace ustack::link

// A network device as the stack sees it: frames in and out, told the time.
// Ethernet devices (TAP, simulated ports) carry Ethernet II frames; IP devices
// (TUN, loopback) carry bare IPv4 datagrams.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/time.h"

namespace ustack::link {

enum class Medium { ethernet, ip };

struct DeviceStats {
  std::uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
  std::uint64_t rx_dropped = 0;  // frames lost before the stack saw them (too big, read errors)
  std::uint64_t tx_dropped = 0;  // frames the device could not send (full, write errors)
};

class Device {
 public:
  virtual ~Device() = default;

  virtual Medium medium() const = 0;
  /// The largest IP datagram the device carries (Ethernet payload, not frame).
  virtual std::size_t mtu() const = 0;
  virtual std::string name() const = 0;

  /// Copies the next received frame that is due at `now` into `buf` and returns
  /// its length, or nullopt when none is waiting. A frame longer than buf is
  /// dropped and counted (rx_dropped), never truncated silently.
  virtual std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) = 0;
  /// Sends one frame. Returns false if it was dropped (counted in tx_dropped).
  virtual bool transmit(base::Instant now, base::ByteSpan frame) = 0;

  /// When a frame held back by the device (delay, rate limit) becomes due.
  virtual std::optional<base::Instant> next_deadline() const { return std::nullopt; }
  /// A descriptor that becomes readable when frames arrive, or -1 (in-memory devices).
  virtual int pollable_fd() const { return -1; }
  /// Flushes buffered output (pcap files); called when the stack stops.
  virtual void flush() {}

  virtual const DeviceStats& stats() const = 0;
};

/// A device wrapped around another (pcap, live capture): it owns the inner
/// device or references one that must outlive it, and forwards every call it
/// does not override, stats included (a wrapper changes nothing on the path).
class WrapperDevice : public Device {
 public:
  Medium medium() const override { return inner_->medium(); }
  std::size_t mtu() const override { return inner_->mtu(); }
  std::string name() const override { return inner_->name(); }
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override {
    return inner_->receive(now, buf);
  }
  bool transmit(base::Instant now, base::ByteSpan frame) override { return inner_->transmit(now, frame); }
  std::optional<base::Instant> next_deadline() const override { return inner_->next_deadline(); }
  int pollable_fd() const override { return inner_->pollable_fd(); }
  void flush() override { inner_->flush(); }
  const DeviceStats& stats() const override { return inner_->stats(); }

  Device& inner() { return *inner_; }

 protected:
  explicit WrapperDevice(Device& inner) : inner_(&inner) {}
  explicit WrapperDevice(std::unique_ptr<Device> inner) : owned_(std::move(inner)), inner_(owned_.get()) {}

 private:
  std::unique_ptr<Device> owned_;
  Device* inner_;
};

}  // namespace ustack::link

// A network device as the stack sees it: frames in and out, told the time.
// Ethernet devices (TAP, simulated ports) carry Ethernet II frames; IP devices
// (TUN, loopback) carry bare IPv4 datagrams.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/packet.h"
#include "base/time.h"

namespace ustack::link {

enum class Medium { ethernet, ip };

struct DeviceStats {
  std::uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
  std::uint64_t rx_dropped = 0;  // frames lost before the stack saw them (too big, read errors)
  std::uint64_t tx_dropped = 0;  // frames the device could not send (full, write errors)
  // TAP offloads (IFF_VNET_HDR, docs/performance.md): super-frames received (GRO
  // or TSO from the kernel, one TCP segment each), super-frames sent (TSO) and the
  // segments they carried, and frames refused for a bad vnet header (in rx_dropped
  // too). A super-frame counts once in rx_frames/tx_frames.
  std::uint64_t rx_gso_frames = 0, tx_gso_frames = 0, tx_gso_segments = 0, rx_bad_vnet = 0;
  // Batched writes (a TUN/TAP with io_uring, link/uring_tx.h): system calls that
  // wrote frames (one write() per frame when plain, one io_uring_enter() per
  // batch), and the most frames one of them carried. Frames per submit:
  // (tx_frames + tx_dropped) / tx_submits.
  std::uint64_t tx_submits = 0, tx_batch_max = 0;
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

  // Frames handed over as buffers, for devices that queue them as such (the
  // simulated link): no copy in or out. Other devices take the copying calls
  // above, which is also what the defaults do.
  /// Sends one frame whose buffer the device may keep.
  virtual bool transmit_buf(base::Instant now, base::PacketBuf&& frame) { return transmit(now, frame.data()); }
  /// True when receive_buf() hands frames over; receive() is then still valid.
  virtual bool receives_buffers() const { return false; }
  /// The next received frame due at `now`, as its own buffer; a frame longer than
  /// `max_len` is dropped and counted as receive() does. nullopt when none is
  /// waiting (or the device does not hand buffers over).
  virtual std::optional<base::PacketBuf> receive_buf(base::Instant /*now*/, std::size_t /*max_len*/) {
    return std::nullopt;
  }

  /// When a frame held back by the device (delay, rate limit) becomes due.
  virtual std::optional<base::Instant> next_deadline() const { return std::nullopt; }
  /// A descriptor that becomes readable when frames arrive, or -1 (in-memory devices).
  virtual int pollable_fd() const { return -1; }
  /// Flushes buffered output (pcap files); called when the stack stops.
  virtual void flush() {}
  /// Writes frames held back to be batched (TSO coalescing): the stack calls it
  /// at the end of each poll() and the runtime after each socket call, so that a
  /// frame never waits longer than the round of work that made it.
  virtual void flush_tx() {}
  /// True when the frame the last receive() returned carries a TCP or UDP
  /// checksum that must not be verified: the kernel left it partial
  /// (VIRTIO_NET_HDR_F_NEEDS_CSUM) or checked it (DATA_VALID). Only a TAP with
  /// offloads says so.
  virtual bool rx_checksum_trusted() const { return false; }
  /// True when the device finishes the TCP checksum of every IPv4 TCP frame it
  /// sends (its field holding the pseudo-header sum, CHECKSUM_PARTIAL): the stack
  /// then leaves TCP's checksums partial. Only a TAP with offloads says so.
  virtual bool tx_checksum_offload() const { return false; }
  /// The offloads in use, for people ("vnet_hdr csum tso4"), or why none are.
  virtual std::string offloads() const { return "none"; }

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
  void flush_tx() override { inner_->flush_tx(); }
  bool rx_checksum_trusted() const override { return inner_->rx_checksum_trusted(); }
  bool tx_checksum_offload() const override { return inner_->tx_checksum_offload(); }
  std::string offloads() const override { return inner_->offloads(); }
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

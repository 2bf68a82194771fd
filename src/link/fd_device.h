// A device backed by a Linux TUN/TAP descriptor, non-blocking. TapDevice and
// TunDevice open it. One read() per frame in (the stack reads until the
// descriptor is empty or its rx_batch is reached). Out: with TxIo::uring the
// frames of a round of work are queued (TxBatch) and written with one
// io_uring_enter() at flush_tx(), or when 64 are queued; with TxIo::plain (or
// where io_uring is unavailable: offloads() says why) one write() per frame.
// With TAP offloads (IFF_VNET_HDR, link/vnet.h): each frame has a virtio-net
// header; the kernel hands over super-frames (GRO/TSO) with partial checksums,
// and consecutive TCP segments are coalesced into TSO super-frames on the way
// out, written at flush_tx().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "link/device.h"
#include "link/tx_batch.h"
#include "link/uring_tx.h"
#include "link/vnet.h"

namespace ustack::link {

/// How a TUN/TAP writes frames: batched through io_uring, or one write() each;
/// automatic: io_uring for plain frames, one write() per super-frame with TAP
/// offloads (measured, docs/performance.md: with offloads the copy of 64 KB
/// super-frames into the batch costs more than the system calls it saves).
enum class TxIo { uring, plain, automatic };
/// "uring", "plain" or "auto"; nullopt for anything else.
std::optional<TxIo> parse_tx_io(std::string_view s);

class FdDevice : public Device, private VnetFrameSink {
 public:
  FdDevice(const FdDevice&) = delete;
  FdDevice& operator=(const FdDevice&) = delete;
  ~FdDevice() override;

  Medium medium() const override { return medium_; }
  std::size_t mtu() const override { return mtu_; }
  std::string name() const override { return name_; }

  /// Reads until a frame fits in buf or the descriptor is empty (EAGAIN -> nullopt).
  /// Frames longer than buf are dropped and counted, never returned truncated.
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  /// Plain: one write(); EAGAIN, a short write or an error count tx_dropped. With
  /// offloads the frame goes through the TSO coalescer: false when a write made in
  /// this call failed (this frame, or the pending one it flushed); a TCP segment
  /// held for coalescing is written later, and if that fails it counts only in
  /// tx_dropped.
  bool transmit(base::Instant now, base::ByteSpan frame) override;
  void flush_tx() override;
  /// Due at once while the coalescer holds a frame (poll() then flushes it).
  std::optional<base::Instant> next_deadline() const override;
  bool rx_checksum_trusted() const override { return rx_trusted_; }
  /// With offloads: every TCP frame leaves with VIRTIO_NET_HDR_F_NEEDS_CSUM (vnet.h).
  bool tx_checksum_offload() const override { return vnet_; }
  std::string offloads() const override { return offloads_; }
  int pollable_fd() const override { return fd_; }
  const DeviceStats& stats() const override { return stats_; }
  bool vnet() const { return vnet_; }
  /// True when frames go out through io_uring in batches.
  bool tx_batched() const { return uring_ != nullptr; }
  /// Frames held for the next batch at most (an io_uring_enter() each).
  static constexpr unsigned kTxBatchDepth = 64;

 protected:
  struct Opened {
    int fd = -1;
    std::size_t mtu = 1500;
    bool vnet = false;       // IFF_VNET_HDR with TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4)
    std::string offloads;    // what offloads() says
  };
  FdDevice(const Opened& o, Medium medium, std::string name)
      : fd_(o.fd), medium_(medium), name_(std::move(name)), mtu_(o.mtu), vnet_(o.vnet), offloads_(o.offloads) {}

  /// Attaches to the EXISTING interface `ifname` with TUNSETIFF and `flags`
  /// (IFF_TAP or IFF_TUN, IFF_NO_PI is added). Fails with no_device when the
  /// interface does not exist, because TUNSETIFF would silently create it.
  /// With `offload` (TAP only), asks for IFF_VNET_HDR, TUNSETVNETHDRSZ and
  /// TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4); if any of them fails, attaches again
  /// without them (plain frames) and says why in Opened::offloads. Without it, the
  /// device's offloads are switched off (TUNSETOFFLOAD 0: an earlier user may have
  /// left them on, and the kernel would then send super-frames to a reader that
  /// cannot tell). The descriptor is non-blocking; mtu is 1500 if unknown.
  static base::Result<Opened> open_tuntap(const std::string& ifname, short flags, bool offload,
                                          std::string* why);
  /// Sets up the write path asked for (after construction); with TxIo::uring
  /// where io_uring is unavailable, writes plain and says why in offloads().
  void start_tx(TxIo io);

 private:
  void write_frame(const VnetHeader& h, base::ByteSpan frame, std::size_t segments) override;
  /// Queues a frame (prefix: the vnet header, or empty) for the next batch,
  /// writing the batch first when it is full.
  void queue_frame(base::ByteSpan prefix, base::ByteSpan frame, std::size_t segments);
  void submit_batch();
  void count_written(std::size_t frame_bytes, std::size_t segments);

  static constexpr int kMaxDropsPerReceive = 64;  // bounds the loop in receive()
  int fd_;
  Medium medium_;
  std::string name_;
  std::size_t mtu_;
  bool vnet_ = false;
  bool rx_trusted_ = false;
  std::string offloads_;
  TsoCoalescer coalescer_;
  std::unique_ptr<UringTx> uring_;
  TxBatch tx_batch_{kTxBatchDepth};
  DeviceStats stats_;
};

}  // namespace ustack::link

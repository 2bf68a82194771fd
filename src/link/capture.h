// Live capture (`ustack capture`): a device wrapper that hands a copy of every
// frame crossing the device to whoever subscribed, as a classic pcap stream.
//
// The data path pays one relaxed atomic load per frame while nobody listens.
// Each subscriber has its own filter (tcpdump's language, compiled by libpcap)
// and a bounded queue of pcap bytes: a reader that falls behind loses frames,
// counted, and never slows the stack down or makes it allocate without bound.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "link/device.h"
#include "link/pcap.h"

namespace ustack::link {

/// A compiled capture filter. The empty expression matches every frame.
class CaptureFilter {
 public:
  CaptureFilter() = default;  // matches everything
  /// Compiles `expr` for frames of `type`; on error, libpcap's message.
  static base::Result<CaptureFilter, std::string> compile(std::string_view expr, LinkType type);

  bool matches(base::ByteSpan frame) const;
  const std::string& expression() const { return expr_; }

 private:
  struct Program;
  std::shared_ptr<const Program> program_;  // null: match all
  std::string expr_;
};

/// One reader's queue. The hub appends pcap records; the reader takes them.
class CaptureSubscription {
 public:
  /// Everything queued since the last call (the first call begins with the
  /// pcap global header); empty when nothing is waiting.
  std::string take();

  std::uint64_t captured() const { return captured_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  const CaptureFilter& filter() const { return filter_; }

 private:
  friend class CaptureHub;
  CaptureSubscription(CaptureFilter filter, std::size_t max_queued, std::function<void()> notify)
      : filter_(std::move(filter)), max_queued_(max_queued), notify_(std::move(notify)) {}

  CaptureFilter filter_;
  std::size_t max_queued_;
  std::function<void()> notify_;  // called when the queue goes from empty to not empty
  std::mutex mu_;
  std::string queued_;
  std::atomic<std::uint64_t> captured_{0}, dropped_{0};
};

/// The subscribers of one device. Thread-safe: the data path records on the
/// runtime thread while the control server subscribes on its own.
class CaptureHub {
 public:
  static constexpr std::size_t kDefaultMaxQueued = 8u << 20;

  CaptureHub(LinkType type, std::chrono::system_clock::time_point wall_at_epoch)
      : type_(type), wall_at_epoch_(wall_at_epoch) {}

  LinkType link_type() const { return type_; }

  /// A new reader of frames that pass `filter`. The hub keeps a weak reference:
  /// dropping the last shared_ptr unsubscribes.
  std::shared_ptr<CaptureSubscription> subscribe(CaptureFilter filter, std::function<void()> notify,
                                                 std::size_t max_queued = kDefaultMaxQueued);

  /// Offers one frame to every subscriber; cheap when there is none.
  void record(base::Instant at, base::ByteSpan frame);

  std::size_t subscribers() const;

 private:
  LinkType type_;
  std::chrono::system_clock::time_point wall_at_epoch_;
  std::atomic<bool> active_{false};
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<CaptureSubscription>> subs_;
};

/// Wraps a device and offers every frame it receives and every frame handed to
/// transmit() to a hub.
class CaptureDevice : public WrapperDevice {
 public:
  CaptureDevice(std::unique_ptr<Device> inner, std::shared_ptr<CaptureHub> hub)
      : WrapperDevice(std::move(inner)), hub_(std::move(hub)) {}
  CaptureDevice(Device& inner, std::shared_ptr<CaptureHub> hub) : WrapperDevice(inner), hub_(std::move(hub)) {}

  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  bool transmit(base::Instant now, base::ByteSpan frame) override;

  CaptureHub& hub() { return *hub_; }

 private:
  std::shared_ptr<CaptureHub> hub_;
};

}  // namespace ustack::link

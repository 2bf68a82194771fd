// A loopback device: what is transmitted is received back, in order (an in-memory
// FIFO of IP datagrams, bounded; overflow is tail-dropped and counted).
#pragma once

#include <deque>
#include <vector>

#include "link/device.h"

namespace ustack::link {

class LoopbackDevice : public Device {
 public:
  static constexpr std::size_t kMtu = 65536;
  static constexpr std::size_t kDefaultQueueLimit = 1024;

  explicit LoopbackDevice(std::size_t queue_limit = kDefaultQueueLimit)
      : queue_limit_(queue_limit) {}

  Medium medium() const override { return Medium::ip; }
  std::size_t mtu() const override { return kMtu; }
  std::string name() const override { return "lo"; }
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  /// Queues the datagram; false (tx_dropped) when the queue is full or it exceeds the MTU.
  bool transmit(base::Instant now, base::ByteSpan frame) override;
  /// Queued datagrams are due at once: returns a deadline in the past while any wait.
  std::optional<base::Instant> next_deadline() const override;
  const DeviceStats& stats() const override { return stats_; }

  std::size_t queued() const { return queue_.size(); }

 private:
  std::size_t queue_limit_;
  std::deque<std::vector<base::Byte>> queue_;
  DeviceStats stats_;
};

}  // namespace ustack::link

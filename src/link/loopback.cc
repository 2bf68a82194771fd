// The loopback device's FIFO.
#include "link/loopback.h"

#include <cstring>

namespace ustack::link {

std::optional<std::size_t> LoopbackDevice::receive(base::Instant /*now*/, base::MutByteSpan buf) {
  while (!queue_.empty()) {
    std::vector<base::Byte> frame = std::move(queue_.front());
    queue_.pop_front();
    if (frame.size() > buf.size()) {
      ++stats_.rx_dropped;
      continue;
    }
    if (!frame.empty()) std::memcpy(buf.data(), frame.data(), frame.size());
    ++stats_.rx_frames;
    stats_.rx_bytes += frame.size();
    return frame.size();
  }
  return std::nullopt;
}

bool LoopbackDevice::transmit(base::Instant /*now*/, base::ByteSpan frame) {
  if (queue_.size() >= queue_limit_ || frame.size() > kMtu) {
    ++stats_.tx_dropped;
    return false;
  }
  queue_.emplace_back(frame.begin(), frame.end());
  ++stats_.tx_frames;
  stats_.tx_bytes += frame.size();
  return true;
}

std::optional<base::Instant> LoopbackDevice::next_deadline() const {
  if (queue_.empty()) return std::nullopt;
  return base::kEpoch;
}

}  // namespace ustack::link

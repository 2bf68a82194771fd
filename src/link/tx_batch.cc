// TxBatch: recycled slots for the frames of one batched write.
#include "link/tx_batch.h"

#include <cstring>

namespace ustack::link {

bool TxBatch::add(base::ByteSpan prefix, base::ByteSpan frame, std::uint32_t tag) {
  if (full()) return false;
  if (slots_.size() <= count_) {
    slots_.emplace_back();
    lens_.push_back(0);
    tags_.push_back(0);
  }
  auto& slot = slots_[count_];
  const std::size_t len = prefix.size() + frame.size();
  if (slot.size() < len) slot.resize(len);
  if (!prefix.empty()) std::memcpy(slot.data(), prefix.data(), prefix.size());
  if (!frame.empty()) std::memcpy(slot.data() + prefix.size(), frame.data(), frame.size());
  lens_[count_] = len;
  tags_[count_] = tag;
  ++count_;
  return true;
}

std::size_t TxBatch::capacity_bytes() const {
  std::size_t n = 0;
  for (const auto& s : slots_) n += s.capacity();
  return n;
}

}  // namespace ustack::link

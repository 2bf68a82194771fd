// Frames queued for one batched write (io_uring, link/uring_tx.h): each is
// copied into a recycled slot, a prefix (the virtio-net header) first, and stays
// there until the batch has been written and its completions reaped, since the
// stack reuses the buffer a frame was handed over in. Pure: no descriptor, so
// the queue's rules are tested apart from the kernel (tests/unit/link).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"

namespace ustack::link {

class TxBatch {
 public:
  /// `depth`: the most frames one batch holds (at least 1).
  explicit TxBatch(std::size_t depth) : depth_(depth ? depth : 1) {}

  /// Copies `prefix` then `frame` into the next slot, with `tag` (what the
  /// writer wants back per frame: segments of a super-frame). False when the
  /// batch is full: write it first. A slot grows to the largest frame it has
  /// held and keeps that size, so a steady flow allocates nothing.
  bool add(base::ByteSpan prefix, base::ByteSpan frame, std::uint32_t tag = 1);

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == depth_; }
  std::size_t depth() const { return depth_; }
  /// The bytes of frame `i` as queued (prefix and frame), i < size().
  base::ByteSpan bytes(std::size_t i) const { return {slots_[i].data(), lens_[i]}; }
  std::uint32_t tag(std::size_t i) const { return tags_[i]; }
  /// Forgets the frames; the slots stay for the next batch.
  void clear() { count_ = 0; }
  /// Bytes the slots hold (for people and tests).
  std::size_t capacity_bytes() const;

 private:
  std::size_t depth_;
  std::size_t count_ = 0;
  std::vector<std::vector<base::Byte>> slots_;
  std::vector<std::size_t> lens_;
  std::vector<std::uint32_t> tags_;
};

}  // namespace ustack::link

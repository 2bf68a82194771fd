// Out-of-order bookkeeping for a byte stream: which ranges past the contiguous
// front have arrived, in a bounded number of ranges (as smoltcp's Assembler).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace ustack::base {

class Assembler {
 public:
  explicit Assembler(std::size_t max_ranges = 32) : max_ranges_(max_ranges) {}

  /// Records [offset, offset + len) relative to the front (offset 0 is the next
  /// byte expected). Overlaps merge. Returns false, recording nothing, when it
  /// would need more than max_ranges separate ranges, except for a range at the
  /// front (offset 0), which is always recorded: the caller takes it at once with
  /// remove_front(), and data at the front must never be refused for want of a
  /// slot, or a receiver whose slots hold islands could never move forward.
  bool add(std::size_t offset, std::size_t len);
  /// When a range starts at the front, removes it and returns its length (the
  /// front moves past it, and the other ranges' offsets shrink by as much); else 0.
  std::size_t remove_front();
  /// Forgets the last range (the one furthest from the front) and returns its
  /// length; 0 when empty. A TCP receiver prunes out-of-order data this way.
  std::size_t remove_back();
  bool empty() const { return ranges_.empty(); }
  /// The bytes the ranges cover.
  std::size_t bytes() const { return bytes_; }
  std::size_t max_ranges() const { return max_ranges_; }
  /// Changes the bound for later add()s; ranges already held stay, even past it.
  void set_max_ranges(std::size_t n) { max_ranges_ = n; }
  /// The ranges held, [start, end) relative to the front, in order.
  const std::vector<std::pair<std::size_t, std::size_t>>& ranges() const { return ranges_; }
  void clear() {
    std::vector<std::pair<std::size_t, std::size_t>>().swap(ranges_);
    bytes_ = 0;
  }
  /// Whether the ranges hold heap memory now: only while there are any (an
  /// idle TCP connection's receiver holds none).
  bool allocated() const { return ranges_.capacity() > 0; }

 private:
  void release_if_empty() {
    if (ranges_.empty()) std::vector<std::pair<std::size_t, std::size_t>>().swap(ranges_);
  }
  std::size_t max_ranges_;
  std::vector<std::pair<std::size_t, std::size_t>> ranges_;
  std::size_t bytes_ = 0;
};

}  // namespace ustack::base

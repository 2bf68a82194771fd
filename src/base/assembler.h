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
  /// would need more than max_ranges separate ranges.
  bool add(std::size_t offset, std::size_t len);
  /// When a range starts at the front, removes it and returns its length (the
  /// front moves past it, and the other ranges' offsets shrink by as much); else 0.
  std::size_t remove_front();
  bool empty() const { return ranges_.empty(); }
  /// The ranges held, [start, end) relative to the front, in order.
  const std::vector<std::pair<std::size_t, std::size_t>>& ranges() const { return ranges_; }
  void clear() { ranges_.clear(); }

 private:
  std::size_t max_ranges_;
  std::vector<std::pair<std::size_t, std::size_t>> ranges_;
};

}  // namespace ustack::base

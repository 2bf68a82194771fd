// Out-of-order bookkeeping: sorted, disjoint, non-touching [start, end) ranges
// relative to the front of the stream, at most max_ranges_ of them (a range at
// the front may pass that bound until remove_front() takes it).
#include "base/assembler.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace ustack::base {

bool Assembler::add(std::size_t offset, std::size_t len) {
  if (len == 0) return true;
  const std::size_t end =
      len > std::numeric_limits<std::size_t>::max() - offset ? std::numeric_limits<std::size_t>::max()
                                                             : offset + len;
  // The ranges that overlap or touch [offset, end) are [first, last): the first
  // whose end reaches offset, up to the first whose start lies past end.
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), offset,
                                [](const auto& r, std::size_t v) { return r.second < v; });
  auto last = std::upper_bound(first, ranges_.end(), end,
                               [](std::size_t v, const auto& r) { return v < r.first; });
  const auto merged = static_cast<std::size_t>(std::distance(first, last));
  if (merged == 0) {
    if (ranges_.size() >= max_ranges_ && offset != 0) return false;
    ranges_.insert(first, {offset, end});
    bytes_ += end - offset;
    return true;
  }
  for (auto it = first; it != last; ++it) bytes_ -= it->second - it->first;
  first->first = std::min(first->first, offset);
  first->second = std::max(std::prev(last)->second, end);
  bytes_ += first->second - first->first;
  ranges_.erase(std::next(first), last);
  return true;
}

std::size_t Assembler::remove_back() {
  if (ranges_.empty()) return 0;
  const std::size_t len = ranges_.back().second - ranges_.back().first;
  ranges_.pop_back();
  bytes_ -= len;
  release_if_empty();
  return len;
}

std::size_t Assembler::remove_front() {
  if (ranges_.empty() || ranges_.front().first != 0) return 0;
  const std::size_t len = ranges_.front().second;
  ranges_.erase(ranges_.begin());
  bytes_ -= len;
  for (auto& r : ranges_) {
    r.first -= len;
    r.second -= len;
  }
  release_if_empty();
  return len;
}

}  // namespace ustack::base

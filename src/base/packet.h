// A packet buffer with headroom, so that each layer pushes its header in front of
// the payload without copying it (as gVisor's and Seastar's buffers do).
#pragma once

#include <cassert>
#include <cstring>
#include <vector>

#include "base/bytes.h"

namespace ustack::base {

class PacketBuf {
 public:
  /// Room for Ethernet + IPv4 (with options) + the largest transport header.
  static constexpr std::size_t kDefaultHeadroom = 128;

  PacketBuf() : PacketBuf(0) {}
  explicit PacketBuf(std::size_t size, std::size_t headroom = kDefaultHeadroom)
      : storage_(headroom + size), head_(headroom) {}
  static PacketBuf copy_of(ByteSpan bytes, std::size_t headroom = kDefaultHeadroom) {
    PacketBuf p(bytes.size(), headroom);
    if (!bytes.empty()) std::memcpy(p.data().data(), bytes.data(), bytes.size());
    return p;
  }

  MutByteSpan data() { return {storage_.data() + head_, storage_.size() - head_}; }
  ByteSpan data() const { return {storage_.data() + head_, storage_.size() - head_}; }
  std::size_t size() const { return storage_.size() - head_; }
  std::size_t headroom() const { return head_; }

  /// Grows the packet at the front by n bytes and returns them (a header to fill).
  MutByteSpan push_front(std::size_t n) {
    if (n > head_) {  // not enough headroom: move the data back (rare by design)
      const std::size_t extra = n - head_ + kDefaultHeadroom;
      storage_.insert(storage_.begin(), extra, 0);
      head_ += extra;
    }
    head_ -= n;
    return {storage_.data() + head_, n};
  }
  /// Drops n bytes from the front (a parsed header).
  void pop_front(std::size_t n) {
    assert(n <= size());
    head_ += n;
  }
  /// Keeps the first n bytes.
  void truncate(std::size_t n) {
    if (n < size()) storage_.resize(head_ + n);
  }
  void append(ByteSpan bytes) { storage_.insert(storage_.end(), bytes.begin(), bytes.end()); }

 private:
  std::vector<Byte> storage_;
  std::size_t head_;
};

}  // namespace ustack::base

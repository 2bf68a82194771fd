// A packet buffer with headroom, so that each layer pushes its header in front of
// the payload without copying it (as gVisor's and Seastar's buffers do). Its
// storage is a recycled block (base/block_cache.h): a packet made and dropped
// for every segment costs no heap allocation once traffic is flowing.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstring>

#include "base/block_cache.h"
#include "base/bytes.h"

namespace ustack::base {

class PacketBuf {
 public:
  /// Room for Ethernet + IPv4 (with options) + the largest transport header.
  static constexpr std::size_t kDefaultHeadroom = 128;

  PacketBuf() : PacketBuf(0) {}
  /// `size` zero bytes after `headroom` bytes of room for headers.
  explicit PacketBuf(std::size_t size, std::size_t headroom = kDefaultHeadroom)
      : PacketBuf(size, headroom, Uninitialized{}) {
    if (size) std::memset(block_.data() + head_, 0, size);
  }
  /// `size` bytes whose every byte the caller will write (a segment's header and
  /// payload): no zeroing first.
  static PacketBuf uninitialized(std::size_t size, std::size_t headroom = kDefaultHeadroom) {
    return PacketBuf(size, headroom, Uninitialized{});
  }
  static PacketBuf copy_of(ByteSpan bytes, std::size_t headroom = kDefaultHeadroom) {
    PacketBuf p(bytes.size(), headroom, Uninitialized{});
    if (!bytes.empty()) std::memcpy(p.data().data(), bytes.data(), bytes.size());
    return p;
  }
  PacketBuf(const PacketBuf& o) : PacketBuf(o.size(), o.head_, Uninitialized{}) {
    if (o.size()) std::memcpy(block_.data() + head_, o.block_.data() + o.head_, o.size());
  }
  PacketBuf& operator=(const PacketBuf& o) {
    if (this != &o) *this = PacketBuf(o);
    return *this;
  }
  PacketBuf(PacketBuf&& o) noexcept
      : block_(std::move(o.block_)), head_(std::exchange(o.head_, 0)), end_(std::exchange(o.end_, 0)) {}
  PacketBuf& operator=(PacketBuf&& o) noexcept {
    if (this != &o) {
      block_ = std::move(o.block_);
      head_ = std::exchange(o.head_, 0);
      end_ = std::exchange(o.end_, 0);
    }
    return *this;
  }

  MutByteSpan data() { return {block_.data() + head_, end_ - head_}; }
  ByteSpan data() const { return {block_.data() + head_, end_ - head_}; }
  std::size_t size() const { return end_ - head_; }
  std::size_t headroom() const { return head_; }

  /// Grows the packet at the front by n bytes and returns them (a header to fill).
  MutByteSpan push_front(std::size_t n) {
    if (n > head_) regrow(n - head_ + kDefaultHeadroom, 0);  // rare by design
    head_ -= n;
    return {block_.data() + head_, n};
  }
  /// Drops n bytes from the front (a parsed header).
  void pop_front(std::size_t n) {
    assert(n <= size());
    head_ += n;
  }
  /// Keeps the first n bytes.
  void truncate(std::size_t n) {
    if (n < size()) end_ = head_ + n;
  }
  void append(ByteSpan bytes) {
    if (bytes.empty()) return;
    if (end_ + bytes.size() > block_.capacity()) regrow(0, bytes.size());
    std::memcpy(block_.data() + end_, bytes.data(), bytes.size());
    end_ += bytes.size();
  }

 private:
  struct Uninitialized {};
  PacketBuf(std::size_t size, std::size_t headroom, Uninitialized)
      : block_(headroom + size), head_(headroom), end_(headroom + size) {}
  /// Moves the bytes to a larger block with `front` more bytes of headroom and
  /// room for `back` more at the end.
  void regrow(std::size_t front, std::size_t back) {
    Block next(head_ + front + size() + back);
    if (size()) std::memcpy(next.data() + head_ + front, block_.data() + head_, size());
    block_ = std::move(next);
    head_ += front;
    end_ += front;
  }

  Block block_;
  std::size_t head_;
  std::size_t end_;
};

}  // namespace ustack::base

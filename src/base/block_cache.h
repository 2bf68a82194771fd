// Recycled storage for the buffers that come and go with every packet: packet
// buffers, TCP's rings and scoreboard, the simulated network's frames. A block
// given back is kept, per thread, for the next request of its size class, so
// that a data path in steady state allocates nothing (issue 5: "no heap
// allocation per packet in steady state"), while a buffer that is not in use
// still holds no memory of its owner's: the cache is bounded per thread (a few
// blocks per size class, kMaxCachedBytes in all), not per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/bytes.h"

namespace ustack::base {

/// Bytes the cache of one thread keeps at most; past it, blocks go back to the heap.
inline constexpr std::size_t kMaxCachedBytes = 2u << 20;
/// Blocks kept per size class at most.
inline constexpr std::size_t kMaxCachedPerClass = 256;

/// A block of at least `size` bytes (uninitialised): from the calling thread's
/// cache when one of its size class is there, else from the heap. Its real
/// capacity (at least size) is stored in *capacity. Size 0 gives nullptr.
Byte* take_block(std::size_t size, std::size_t* capacity);
/// Gives back a block take_block() returned, with the capacity it reported.
void give_block(Byte* block, std::size_t capacity);
/// The capacity take_block(size) gives (the same for every call): an owner that
/// knows the size it asked for need not store the capacity.
std::size_t block_capacity(std::size_t size);

/// What the cache of the calling thread holds now, and what it has done.
struct BlockCacheStats {
  std::size_t cached_blocks = 0, cached_bytes = 0;
  std::uint64_t hits = 0, misses = 0;
};
BlockCacheStats block_cache_stats();
/// Frees every block the calling thread's cache holds (for memory measurements).
void trim_block_cache();

/// Owns one block; movable, not copyable.
class Block {
 public:
  Block() = default;
  explicit Block(std::size_t size) { data_ = take_block(size, &capacity_); }
  Block(Block&& o) noexcept : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}
  Block& operator=(Block&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  ~Block() { reset(); }

  Byte* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }
  explicit operator bool() const { return data_ != nullptr; }
  void reset() {
    if (data_) give_block(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
  }

 private:
  Byte* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace ustack::base

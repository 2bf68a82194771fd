// A byte ring of fixed capacity: TCP's send and receive buffers. Data beyond the
// readable part can be written at an offset (out-of-order segments) and made
// readable later with commit().
//
// The capacity is what the ring may hold; its storage is allocated by the first
// write and given back by release_if_empty(), so that an idle connection holds
// no buffer memory (Linux likewise frees a socket's skbs once read or acked).
// Storage is a recycled block (base/block_cache.h): a ring drained and filled
// again, as a bulk flow's are every round trip, takes its block back from the
// thread's cache instead of the heap.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "base/block_cache.h"
#include "base/bytes.h"

namespace ustack::base {

class RingBuffer {
 public:
  explicit RingBuffer(std::size_t capacity = 0);
  RingBuffer(RingBuffer&& o) noexcept;
  RingBuffer& operator=(RingBuffer&& o) noexcept;
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;
  ~RingBuffer() { free_storage(); }

  std::size_t capacity() const { return capacity_; }
  /// Bytes of storage held now: 0 until the first write and after a release,
  /// else capacity().
  std::size_t allocated() const { return storage_ ? capacity_ : 0; }
  std::size_t size() const { return size_; }  // readable bytes
  std::size_t free() const { return capacity() - size_; }
  bool empty() const { return size_ == 0; }

  /// Appends as much of bytes as fits; returns how much.
  std::size_t enqueue(ByteSpan bytes);
  /// Removes up to out.size() bytes from the front into out; returns how many.
  std::size_t dequeue(MutByteSpan out);
  /// Copies up to out.size() readable bytes starting `offset` bytes past the front,
  /// without removing them; returns how many.
  std::size_t peek(std::size_t offset, MutByteSpan out) const;
  /// Drops up to n bytes from the front; returns how many.
  std::size_t discard(std::size_t n);
  /// Writes bytes into the free space, `offset` bytes past the end of the readable
  /// part, clipped to the free space; returns how many were written. size() is unchanged.
  std::size_t write_at(std::size_t offset, ByteSpan bytes);
  /// Makes n bytes written past the end readable (n <= free()).
  void commit(std::size_t n);
  /// The readable bytes as at most two spans (the second empty unless they wrap).
  std::pair<ByteSpan, ByteSpan> readable() const;
  /// Changes the capacity, keeping the readable bytes (new capacity >= size()) and
  /// the bytes written past them by write_at(), as far as the new capacity holds them.
  void resize(std::size_t capacity);
  /// Rings up to this capacity give their storage back when drained; larger
  /// ones (auto-tuned for a bulk flow) keep it until their owner has seen them
  /// stay idle (TCP: Connection's idle release). A bulk flow drains its rings
  /// over and over: freeing megabytes each time made every next segment map and
  /// fault them in again (and under ASan every such allocation is an mmap: a
  /// sim test went from 4 s to past its 300 s limit).
  static constexpr std::size_t kReleaseMax = 256 * 1024;
  /// Gives the storage back when nothing is readable and the capacity is at
  /// most max_capacity; the caller promises that nothing written past the end
  /// with write_at() is still wanted (a TCP receive buffer with no out-of-order
  /// data). Returns whether storage was released.
  bool release_if_empty(std::size_t max_capacity = kReleaseMax);

 private:
  /// Allocates the storage (uninitialised: only written bytes are ever read).
  void ensure_storage();
  void free_storage();
  Byte* storage_ = nullptr;  // a block of block_capacity(capacity_) bytes, or none
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // index of the first readable byte
  std::size_t size_ = 0;
};

}  // namespace ustack::base

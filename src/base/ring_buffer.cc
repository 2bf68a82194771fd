// A byte ring of fixed capacity: readable bytes at [head_, head_ + size_) modulo
// the capacity, free space after them. Storage is allocated by the first write
// (write_at, enqueue) and by resize() when bytes must be kept; release_if_empty()
// returns it.
#include "base/ring_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace ustack::base {

namespace {

/// Copies src into ring storage starting at index `at` (< storage.size()), wrapping.
void copy_in(Byte* storage, std::size_t cap, std::size_t at, ByteSpan src) {
  if (src.empty()) return;
  const std::size_t first = std::min(src.size(), cap - at);
  std::memcpy(storage + at, src.data(), first);
  if (first < src.size()) std::memcpy(storage, src.data() + first, src.size() - first);
}

/// Copies out.size() bytes from ring storage starting at index `at`, wrapping.
void copy_out(const Byte* storage, std::size_t cap, std::size_t at, MutByteSpan out) {
  if (out.empty()) return;
  const std::size_t first = std::min(out.size(), cap - at);
  std::memcpy(out.data(), storage + at, first);
  if (first < out.size()) std::memcpy(out.data() + first, storage, out.size() - first);
}

}  // namespace

RingBuffer::RingBuffer(std::size_t capacity) : capacity_(capacity) {}

RingBuffer::RingBuffer(RingBuffer&& o) noexcept
    : storage_(std::exchange(o.storage_, nullptr)),
      capacity_(std::exchange(o.capacity_, 0)),
      head_(std::exchange(o.head_, 0)),
      size_(std::exchange(o.size_, 0)) {}

RingBuffer& RingBuffer::operator=(RingBuffer&& o) noexcept {
  if (this != &o) {
    free_storage();
    storage_ = std::exchange(o.storage_, nullptr);
    capacity_ = std::exchange(o.capacity_, 0);
    head_ = std::exchange(o.head_, 0);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void RingBuffer::ensure_storage() {
  std::size_t got = 0;
  if (!storage_ && capacity_) storage_ = take_block(capacity_, &got);
}

void RingBuffer::free_storage() {
  give_block(storage_, block_capacity(capacity_));
  storage_ = nullptr;
}

bool RingBuffer::release_if_empty(std::size_t max_capacity) {
  if (size_ != 0 || !storage_ || capacity_ > max_capacity) return false;
  free_storage();
  head_ = 0;
  return true;
}

std::size_t RingBuffer::enqueue(ByteSpan bytes) {
  const std::size_t n = write_at(0, bytes);
  commit(n);
  return n;
}

std::size_t RingBuffer::dequeue(MutByteSpan out) {
  const std::size_t n = peek(0, out);
  discard(n);
  return n;
}

std::size_t RingBuffer::peek(std::size_t offset, MutByteSpan out) const {
  if (offset >= size_) return 0;
  const std::size_t n = std::min(out.size(), size_ - offset);
  copy_out(storage_, capacity_, (head_ + offset) % capacity_, out.first(n));
  return n;
}

std::size_t RingBuffer::discard(std::size_t n) {
  n = std::min(n, size_);
  if (n == 0) return 0;
  // head_ is not rewound to 0 when the ring empties: bytes written past the end
  // with write_at() (out-of-order data) must stay where they are.
  head_ = (head_ + n) % capacity();
  size_ -= n;
  return n;
}

std::size_t RingBuffer::write_at(std::size_t offset, ByteSpan bytes) {
  const std::size_t space = free();
  if (offset >= space) return 0;
  const std::size_t n = std::min(bytes.size(), space - offset);
  if (n == 0) return 0;
  ensure_storage();
  // offset + size_ < capacity here, so the sum cannot overflow.
  copy_in(storage_, capacity_, (head_ + size_ + offset) % capacity_, bytes.first(n));
  return n;
}

void RingBuffer::commit(std::size_t n) {
  assert(n <= free());
  size_ += std::min(n, free());
}

std::pair<ByteSpan, ByteSpan> RingBuffer::readable() const {
  if (size_ == 0) return {};
  const std::size_t first = std::min(size_, capacity_ - head_);
  return {ByteSpan(storage_ + head_, first), ByteSpan(storage_, size_ - first)};
}

void RingBuffer::resize(std::size_t capacity) {
  assert(capacity >= size_);
  // Everything from the head on is kept, as far as the new capacity allows: the
  // readable bytes and, past them, what write_at() put in the free space (a TCP
  // receive buffer's out-of-order data), at the same offsets.
  if (!storage_) {  // nothing held: the next write allocates the new size
    capacity_ = capacity;
    head_ = 0;
    return;
  }
  const std::size_t keep = std::min(capacity_, capacity);
  std::size_t got = 0;
  Byte* next = take_block(capacity, &got);
  if (keep) copy_out(storage_, capacity_, head_, MutByteSpan(next, keep));
  free_storage();
  storage_ = next;
  capacity_ = capacity;
  head_ = 0;
}

}  // namespace ustack::base

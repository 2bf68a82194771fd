// A double-ended queue of trivially copyable values in one circular array: no
// memory while empty (the array is given back when the last element goes, as
// LazyDeque's deque is), and no allocation per element while in use (std::deque
// allocates a node every few pushes and frees it behind the pops: on TCP's
// scoreboard that was a heap allocation per handful of segments). The array is
// a recycled block (base/block_cache.h) of a power-of-two size, which doubles
// when full (so that every size is one the cache keeps); the object itself is
// one pointer (the capacity, head and size live in the block).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <type_traits>
#include <utility>

#include "base/block_cache.h"

namespace ustack::base {

template <class T>
class RingDeque {
  static_assert(std::is_trivially_copyable_v<T>, "RingDeque moves its values with memcpy");

 public:
  template <bool Const>
  class Iter {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const T*, T*>;
    using reference = std::conditional_t<Const, const T&, T&>;
    Iter() = default;
    Iter(std::conditional_t<Const, const RingDeque*, RingDeque*> q, std::size_t i) : q_(q), i_(i) {}
    operator Iter<true>() const { return Iter<true>(q_, i_); }  // NOLINT: iterator to const_iterator
    reference operator*() const { return (*q_)[i_]; }
    pointer operator->() const { return &(*q_)[i_]; }
    reference operator[](difference_type n) const { return (*q_)[i_ + static_cast<std::size_t>(n)]; }
    Iter& operator++() { ++i_; return *this; }
    Iter operator++(int) { Iter t = *this; ++i_; return t; }
    Iter& operator--() { --i_; return *this; }
    Iter operator--(int) { Iter t = *this; --i_; return t; }
    Iter& operator+=(difference_type n) { i_ += static_cast<std::size_t>(n); return *this; }
    Iter& operator-=(difference_type n) { i_ -= static_cast<std::size_t>(n); return *this; }
    friend Iter operator+(Iter a, difference_type n) { return a += n; }
    friend Iter operator+(difference_type n, Iter a) { return a += n; }
    friend Iter operator-(Iter a, difference_type n) { return a -= n; }
    friend difference_type operator-(const Iter& a, const Iter& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const Iter& a, const Iter& b) { return a.i_ <=> b.i_; }

   private:
    std::conditional_t<Const, const RingDeque*, RingDeque*> q_ = nullptr;
    std::size_t i_ = 0;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  RingDeque() = default;
  RingDeque(const RingDeque& o) { *this = o; }
  RingDeque& operator=(const RingDeque& o) {
    if (this == &o) return *this;
    clear();
    for (std::size_t i = 0; i < o.size(); ++i) push_back(o[i]);
    return *this;
  }
  RingDeque(RingDeque&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
  RingDeque& operator=(RingDeque&& o) noexcept {
    if (this != &o) {
      clear();
      block_ = std::exchange(o.block_, nullptr);
    }
    return *this;
  }
  ~RingDeque() { clear(); }

  bool empty() const { return size() == 0; }
  std::size_t size() const { return block_ ? hdr().size : 0; }
  /// Whether memory is held now (for tests and accounting).
  bool allocated() const { return block_ != nullptr; }

  T& operator[](std::size_t i) { return slots()[index(i)]; }
  const T& operator[](std::size_t i) const { return slots()[index(i)]; }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[size() - 1]; }
  const T& back() const { return (*this)[size() - 1]; }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

  void push_back(const T& v) {
    reserve_one();
    Header& h = hdr();
    slots()[wrap(h.head + h.size)] = v;
    ++h.size;
  }
  /// Inserts before index i (0 <= i <= size()), moving the elements after it.
  void insert_at(std::size_t i, const T& v) {
    assert(i <= size());
    reserve_one();
    Header& h = hdr();
    ++h.size;
    for (std::size_t k = h.size - 1; k > i; --k) (*this)[k] = (*this)[k - 1];
    (*this)[i] = v;
  }
  void pop_front() {
    assert(!empty());
    Header& h = hdr();
    h.head = wrap(h.head + 1);
    if (--h.size == 0) clear();
  }
  void clear() {
    if (!block_) return;
    give_block(block_, hdr().block_bytes);
    block_ = nullptr;
  }

 private:
  struct Header {
    std::uint32_t block_bytes;  // a power of two
    std::uint32_t capacity;     // slots that fit after the header
    std::uint32_t head;
    std::uint32_t size;
  };
  static constexpr std::size_t kSlotsAt = (sizeof(Header) + alignof(T) - 1) / alignof(T) * alignof(T);
  static constexpr std::uint32_t kInitialBytes = 1024;
  static_assert(kSlotsAt + sizeof(T) <= kInitialBytes, "RingDeque is for small values");

  Header& hdr() { return *reinterpret_cast<Header*>(block_); }
  const Header& hdr() const { return *reinterpret_cast<const Header*>(block_); }
  T* slots() { return reinterpret_cast<T*>(block_ + kSlotsAt); }
  const T* slots() const { return reinterpret_cast<const T*>(block_ + kSlotsAt); }
  /// A slot index past the end, brought back into the array (k < 2 * capacity).
  std::uint32_t wrap(std::uint64_t k) const {
    const std::uint32_t cap = hdr().capacity;
    return static_cast<std::uint32_t>(k >= cap ? k - cap : k);
  }
  std::size_t index(std::size_t i) const {
    assert(i < size());
    return wrap(std::uint64_t{hdr().head} + i);
  }
  /// A block of `bytes` (a power of two) holding the elements, from the front.
  unsigned char* fresh_block(std::uint32_t bytes) {
    std::size_t got = 0;
    unsigned char* b = take_block(bytes, &got);
    assert(got == bytes);
    *reinterpret_cast<Header*>(b) =
        Header{bytes, static_cast<std::uint32_t>((bytes - kSlotsAt) / sizeof(T)), 0, 0};
    return b;
  }
  void reserve_one() {
    if (!block_) {
      block_ = fresh_block(kInitialBytes);
      return;
    }
    const Header h = hdr();
    if (h.size < h.capacity) return;
    unsigned char* next = fresh_block(h.block_bytes * 2);
    T* to = reinterpret_cast<T*>(next + kSlotsAt);
    for (std::uint32_t k = 0; k < h.size; ++k) std::memcpy(&to[k], &slots()[wrap(std::uint64_t{h.head} + k)], sizeof(T));
    reinterpret_cast<Header*>(next)->size = h.size;
    give_block(block_, h.block_bytes);
    block_ = next;
  }

  unsigned char* block_ = nullptr;  // Header, then capacity slots
};

}  // namespace ustack::base

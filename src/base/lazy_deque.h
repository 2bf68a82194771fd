// A std::deque that holds no memory while empty. libstdc++'s deque allocates
// its map and a 512-byte node as soon as it is constructed and keeps them when
// emptied; a per-connection queue that is empty most of the time (an idle
// connection's sent segments) would pay ~600 bytes for nothing. This one
// creates the deque on the first push and frees it when the last element goes.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

namespace ustack::base {

template <class T>
class LazyDeque {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  LazyDeque() = default;
  LazyDeque(const LazyDeque& o) : d_(o.d_ ? std::make_unique<std::deque<T>>(*o.d_) : nullptr) {}
  LazyDeque& operator=(const LazyDeque& o) {
    if (this != &o) d_ = o.d_ ? std::make_unique<std::deque<T>>(*o.d_) : nullptr;
    return *this;
  }
  LazyDeque(LazyDeque&&) noexcept = default;
  LazyDeque& operator=(LazyDeque&&) noexcept = default;

  bool empty() const { return !d_ || d_->empty(); }
  std::size_t size() const { return d_ ? d_->size() : 0; }
  /// Whether memory is held now (for tests and accounting).
  bool allocated() const { return d_ != nullptr; }

  T& operator[](std::size_t i) { return (*d_)[i]; }
  const T& operator[](std::size_t i) const { return (*d_)[i]; }
  T& front() { return d_->front(); }
  const T& front() const { return d_->front(); }
  T& back() { return d_->back(); }
  const T& back() const { return d_->back(); }

  // Value-initialised iterators of an empty queue compare equal (C++14 [forward.iterators]).
  iterator begin() { return d_ ? d_->begin() : iterator(); }
  iterator end() { return d_ ? d_->end() : iterator(); }
  const_iterator begin() const { return d_ ? const_iterator(d_->cbegin()) : const_iterator(); }
  const_iterator end() const { return d_ ? const_iterator(d_->cend()) : const_iterator(); }

  void push_back(const T& v) { storage().push_back(v); }
  void push_back(T&& v) { storage().push_back(std::move(v)); }
  /// Inserts before index i (0 <= i <= size()).
  void insert_at(std::size_t i, const T& v) {
    auto& d = storage();
    d.insert(d.begin() + static_cast<std::ptrdiff_t>(i), v);
  }
  void pop_front() {
    d_->pop_front();
    if (d_->empty()) d_.reset();
  }
  void clear() { d_.reset(); }
  /// Removes every element equal to v (std::erase); returns how many.
  std::size_t erase_value(const T& v) {
    if (!d_) return 0;
    const std::size_t n = std::erase(*d_, v);
    if (d_->empty()) d_.reset();
    return n;
  }

 private:
  std::deque<T>& storage() {
    if (!d_) d_ = std::make_unique<std::deque<T>>();
    return *d_;
  }
  std::unique_ptr<std::deque<T>> d_;
};

}  // namespace ustack::base

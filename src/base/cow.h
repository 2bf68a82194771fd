// A value shared until someone changes it (copy on write). A stack's TCP
// settings are the same for nearly every socket and connection: each holding
// its own copy cost ~200 bytes twice per connection (the socket's and the
// connection's), a tenth of an idle connection's memory. Holders of one Cow
// share one heap copy (a pointer each); edit() gives the caller a copy of its
// own first when anyone else shares it. An empty Cow reads as T{} and holds no
// memory. Not for sharing across threads while one of them edits.
#pragma once

#include <memory>
#include <utility>

namespace ustack::base {

template <class T>
class Cow {
 public:
  /// T's defaults, without allocating.
  Cow() = default;
  /// A copy of `value`, in its own allocation (implicit: a T goes where a Cow is wanted).
  Cow(const T& value) : p_(std::make_shared<T>(value)) {}  // NOLINT(google-explicit-constructor)

  const T& get() const { return p_ ? *p_ : defaults(); }
  const T& operator*() const { return get(); }
  const T* operator->() const { return &get(); }
  /// The value, for changing: copied first unless this holder is the only one.
  T& edit() {
    if (!p_) p_ = std::make_shared<T>();
    else if (p_.use_count() > 1) p_ = std::make_shared<T>(*p_);
    return *p_;
  }
  /// Both read the same copy (a change through either's edit() separates them).
  bool shares_with(const Cow& o) const { return p_ == o.p_; }
  /// Holders of this copy, this one included (0 when empty).
  long holders() const { return p_.use_count(); }

 private:
  static const T& defaults() {
    static const T d{};
    return d;
  }
  std::shared_ptr<T> p_;
};

}  // namespace ustack::base

// One error space valued as errno, and Result<T, E>: a value or an error, no exceptions.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

namespace ustack::base {

/// Errors of the socket-facing API. Each value is the Linux errno a Berkeley
/// call reports for it, so the socket layer converts with a cast.
enum class Errc : int {
  would_block = EWOULDBLOCK,
  in_progress = EINPROGRESS,
  already = EALREADY,
  bad_descriptor = EBADF,
  invalid = EINVAL,
  fault = EFAULT,
  no_memory = ENOMEM,
  no_buffers = ENOBUFS,
  too_many_files = EMFILE,
  family_not_supported = EAFNOSUPPORT,
  protocol_not_supported = EPROTONOSUPPORT,
  type_not_supported = ESOCKTNOSUPPORT,
  op_not_supported = EOPNOTSUPP,
  protocol_option = ENOPROTOOPT,
  address_in_use = EADDRINUSE,
  address_not_available = EADDRNOTAVAIL,
  access = EACCES,
  permission = EPERM,
  message_size = EMSGSIZE,
  dest_address_required = EDESTADDRREQ,
  is_connected = EISCONN,
  not_connected = ENOTCONN,
  conn_refused = ECONNREFUSED,
  conn_reset = ECONNRESET,
  conn_aborted = ECONNABORTED,
  timed_out = ETIMEDOUT,
  host_unreachable = EHOSTUNREACH,
  net_unreachable = ENETUNREACH,
  host_down = EHOSTDOWN,
  protocol_error = EPROTO,
  pipe = EPIPE,
  interrupted = EINTR,
  not_socket = ENOTSOCK,
  no_device = ENODEV,
  io = EIO,
  no_entry = ENOENT,
};

inline int to_errno(Errc e) { return static_cast<int>(e); }

/// A value of T or an error of E. Small on purpose; std::expected once on C++23.
template <class T, class E = Errc>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, error) {}             // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  E error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(error), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  E error() const { return error_; }

 private:
  E error_{};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ustack::base

// The process's table of ustack descriptors: small integers, lowest free first
// (as POSIX requires of open()), each naming a socket of one runtime's stack and
// holding what belongs to the descriptor rather than the socket (O_NONBLOCK and
// the send/receive timeouts). An epoll instance is a descriptor too, naming no socket.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/time.h"
#include "runtime/runtime.h"
#include "stack/stack.h"

namespace ustack::socket {

class Epoll;

struct Descriptor {
  runtime::Runtime* runtime = nullptr;
  stack::SocketId sid = -1;
  bool nonblocking = false;
  std::optional<base::Duration> recv_timeout;  // nullopt: block forever
  std::optional<base::Duration> send_timeout;
  int type = 0;                 // SOCK_DGRAM, SOCK_STREAM, SOCK_RAW
  std::shared_ptr<Epoll> epoll;  // set (and sid -1) for an epoll instance
};

class DescriptorTable {
 public:
  static DescriptorTable& instance();
  /// The lowest free descriptor, or -1 when the table is full (EMFILE).
  int allocate(const Descriptor& d);
  /// A copy of the descriptor, or nullopt (EBADF).
  std::optional<Descriptor> get(int fd) const;
  bool update(int fd, const Descriptor& d);
  void release(int fd);
  /// Drops every descriptor of this runtime (when its host stops).
  void release_runtime(const runtime::Runtime* rt);

  static constexpr std::size_t kMaxDescriptors = 65536;

 private:
  mutable std::mutex mu_;
  std::vector<std::optional<Descriptor>> table_;
};

/// The runtime that ustack_socket() creates sockets in.
void set_default_runtime(runtime::Runtime* rt);
runtime::Runtime* default_runtime();

}  // namespace ustack::socket

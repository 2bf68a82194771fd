// An epoll instance (epoll(7)) over one runtime's sockets. It keeps a ready
// list fed by the runtime's readiness-change notices (runtime::ReadinessListener),
// so a wait costs in proportion to the sockets that changed, not to the number
// registered. Level-triggered by default; EPOLLET and EPOLLONESHOT as on Linux.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>

#include "runtime/runtime.h"
#include "stack/stack.h"

namespace ustack::socket {

class Epoll final : public runtime::ReadinessListener {
 public:
  /// Registers with the runtime; the destructor unregisters (never call it under the runtime lock).
  explicit Epoll(runtime::Runtime& rt);
  ~Epoll() override;
  Epoll(const Epoll&) = delete;
  Epoll& operator=(const Epoll&) = delete;

  runtime::Runtime& runtime() const { return rt_; }

  // The calls below run under the runtime lock (inside Runtime::call or a wait predicate).

  /// EPOLL_CTL_ADD / MOD / DEL for descriptor fd naming socket sid: 0 or an errno.
  int control(stack::Stack& s, int op, int fd, stack::SocketId sid, const epoll_event* ev);
  /// Moves up to out.size() ready events into out; the number moved.
  int collect(const stack::Stack& s, std::span<epoll_event> out);
  /// Forgets fd (it was closed), as Linux does when the last reference to a file goes.
  void forget(int fd);
  bool readiness_changed(std::span<const stack::SocketId> ids) override;

 private:
  struct Interest {
    stack::SocketId sid = -1;
    std::uint32_t events = 0;
    epoll_data_t data{};
    bool listed = false;    // on ready_
    bool disarmed = false;  // EPOLLONESHOT fired; MOD re-arms
  };
  void enlist(int fd, Interest& in);

  runtime::Runtime& rt_;
  std::unordered_map<int, Interest> interests_;          // by descriptor
  std::unordered_map<stack::SocketId, int> fd_of_;       // socket -> its descriptor here
  std::deque<int> ready_;                                // descriptors that may be ready
};

/// Every live epoll instance, so that closing a descriptor removes it from them.
void register_epoll(Epoll* e);
void unregister_epoll(Epoll* e);
/// Under rt's lock: forgets fd in every epoll instance of rt.
void forget_in_epolls(const runtime::Runtime* rt, int fd);

}  // namespace ustack::socket

// The two socket-call tables.
#include "apps/calls.h"

#include <unistd.h>

#include "ustack/socket.h"

namespace ustack::apps {

const SocketCalls& ustack_calls() {
  static const SocketCalls calls{
      "ustack",          ustack_socket,      ustack_bind,        ustack_listen,      ustack_accept4,
      ustack_connect,    ustack_recv,        ustack_send,        ustack_shutdown,    ustack_close,
      ustack_setsockopt, ustack_getsockname, ustack_epoll_create1, ustack_epoll_ctl, ustack_epoll_wait,
  };
  return calls;
}

const SocketCalls& linux_calls() {
  static const SocketCalls calls{
      "linux",       ::socket,      ::bind,          ::listen,    ::accept4,    ::connect,    ::recv,       ::send,
      ::shutdown,    ::close,       ::setsockopt,    ::getsockname, ::epoll_create1, ::epoll_ctl, ::epoll_wait,
  };
  return calls;
}

}  // namespace ustack::apps

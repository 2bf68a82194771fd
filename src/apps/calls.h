// The Berkeley calls a server needs, as a table of function pointers, so that
// the same server code runs on ustack's sockets and on the Linux kernel's.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace ustack::apps {

struct SocketCalls {
  const char* name;  // "ustack" or "linux"
  int (*socket)(int domain, int type, int protocol);
  int (*bind)(int fd, const sockaddr* addr, socklen_t len);
  int (*listen)(int fd, int backlog);
  int (*accept4)(int fd, sockaddr* addr, socklen_t* len, int flags);
  int (*connect)(int fd, const sockaddr* addr, socklen_t len);
  ssize_t (*recv)(int fd, void* buf, size_t len, int flags);
  ssize_t (*send)(int fd, const void* buf, size_t len, int flags);
  int (*shutdown)(int fd, int how);
  int (*close)(int fd);
  int (*setsockopt)(int fd, int level, int name, const void* value, socklen_t len);
  int (*getsockname)(int fd, sockaddr* addr, socklen_t* len);
  int (*epoll_create1)(int flags);
  int (*epoll_ctl)(int epfd, int op, int fd, epoll_event* ev);
  int (*epoll_wait)(int epfd, epoll_event* events, int maxevents, int timeout_ms);
};

/// ustack's calls (<ustack/socket.h>): a host must be running.
const SocketCalls& ustack_calls();
/// The Linux kernel's calls.
const SocketCalls& linux_calls();

}  // namespace ustack::apps

// The Berkeley calls of <ustack/socket.h>: argument checks and sockaddr
// conversion as Linux does them, blocking with timeouts, then the stack's call.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <vector>

#include "socket/descriptors.h"
#include "ustack/socket.h"

namespace ustack::socket {
namespace {

using base::Errc;
using stack::SocketId;
using stack::Stack;

int fail(int err) {
  errno = err;
  return -1;
}
int fail(Errc e) { return fail(base::to_errno(e)); }

/// A sockaddr_in from the caller, checked as inet_bind()/inet_dgram_connect() check it.
base::Result<base::Endpoint> endpoint_from(const struct sockaddr* addr, socklen_t len) {
  if (!addr) return Errc::fault;
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return Errc::invalid;
  sockaddr_in sin;
  std::memcpy(&sin, addr, sizeof sin);
  if (sin.sin_family != AF_INET) return Errc::family_not_supported;
  return base::Endpoint{base::Ipv4Addr(ntohl(sin.sin_addr.s_addr)), ntohs(sin.sin_port)};
}

/// Writes ep to a caller's sockaddr, truncated to *len, and sets *len to the full size.
int endpoint_to(const base::Endpoint& ep, struct sockaddr* addr, socklen_t* len) {
  if (!addr || !len) return addr || len ? fail(EFAULT) : 0;
  if (static_cast<int>(*len) < 0) return fail(EINVAL);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(ep.port);
  sin.sin_addr.s_addr = htonl(ep.addr.v4().value());
  std::memcpy(addr, &sin, std::min<std::size_t>(*len, sizeof sin));
  *len = sizeof sin;
  return 0;
}

std::optional<base::Instant> deadline_after(const std::optional<base::Duration>& timeout) {
  if (!timeout) return std::nullopt;
  return runtime::monotonic_now() + *timeout;
}

/// Runs op until it stops saying would_block, waiting for readiness `events` in
/// between unless the call is non-blocking. A timeout ends in EAGAIN (socket(7)).
template <class T, class Op>
base::Result<T> blocking(const Descriptor& d, bool nonblocking, short events,
                         const std::optional<base::Duration>& timeout, Op&& op) {
  const auto deadline = deadline_after(timeout);
  while (true) {
    base::Result<T> r = d.runtime->call([&](Stack& s) { return op(s); });
    if (r.ok() || r.error() != Errc::would_block || nonblocking) return r;
    const SocketId ids[] = {d.sid};
    const bool ready = d.runtime->wait(ids, deadline, [&](Stack& s) {
      return !s.valid(d.sid) || (s.readiness(d.sid) & (events | POLLERR | POLLHUP)) != 0;
    });
    if (!ready) return Errc::would_block;
  }
}

std::optional<base::Duration> timeval_to_timeout(const timeval& tv) {
  // sock_set_timeout(): a negative time means "do not wait", zero means forever.
  if (tv.tv_sec < 0) return base::Duration::zero();
  if (tv.tv_sec == 0 && tv.tv_usec == 0) return std::nullopt;
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

timeval timeout_to_timeval(const std::optional<base::Duration>& t) {
  timeval tv{};
  if (!t) return tv;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(*t).count();
  tv.tv_sec = us / 1000000;
  tv.tv_usec = us % 1000000;
  return tv;
}

}  // namespace
}  // namespace ustack::socket

using namespace ustack;
using namespace ustack::socket;

extern "C" {

int ustack_socket(int domain, int type, int protocol) {
  runtime::Runtime* rt = default_runtime();
  if (!rt) return fail(ENETDOWN);
  const int base_type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  auto sid = rt->call([&](stack::Stack& s) { return s.socket(domain, base_type, protocol); });
  if (!sid) return fail(sid.error());
  Descriptor d{rt, *sid, (type & SOCK_NONBLOCK) != 0, std::nullopt, std::nullopt};
  const int fd = DescriptorTable::instance().allocate(d);
  if (fd < 0) {
    (void)rt->call([&](stack::Stack& s) { return s.close(*sid); });
    return fail(EMFILE);
  }
  return fd;
}

int ustack_bind(int fd, const struct sockaddr* addr, socklen_t addrlen) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  auto ep = endpoint_from(addr, addrlen);
  if (!ep) return fail(ep.error());
  auto st = d->runtime->call([&](stack::Stack& s) { return s.bind(d->sid, *ep); });
  return st ? 0 : fail(st.error());
}

int ustack_connect(int fd, const struct sockaddr* addr, socklen_t addrlen) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!addr) return fail(EFAULT);
  if (addrlen < static_cast<socklen_t>(sizeof(sa_family_t))) return fail(EINVAL);
  std::optional<base::Endpoint> peer;
  if (addr->sa_family != AF_UNSPEC) {  // udp(7): AF_UNSPEC dissolves the association
    auto ep = endpoint_from(addr, addrlen);
    if (!ep) return fail(ep.error());
    peer = *ep;
  }
  auto st = d->runtime->call([&](stack::Stack& s) { return s.connect(d->sid, peer); });
  return st ? 0 : fail(st.error());
}

ssize_t ustack_sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* dest,
                      socklen_t addrlen) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!buf && len) return fail(EFAULT);
  std::optional<base::Endpoint> to;
  if (dest) {
    auto ep = endpoint_from(dest, addrlen);
    if (!ep) return fail(ep.error());
    to = *ep;
  }
  const base::ByteSpan data(static_cast<const base::Byte*>(buf), len);
  auto r = blocking<std::size_t>(*d, d->nonblocking || (flags & MSG_DONTWAIT), POLLOUT, d->send_timeout,
                                 [&](stack::Stack& s) { return s.send_to(d->sid, data, to ? &*to : nullptr, flags); });
  if (!r) return fail(r.error());
  return static_cast<ssize_t>(*r);
}

ssize_t ustack_send(int fd, const void* buf, size_t len, int flags) {
  return ustack_sendto(fd, buf, len, flags, nullptr, 0);
}

ssize_t ustack_write(int fd, const void* buf, size_t len) { return ustack_sendto(fd, buf, len, 0, nullptr, 0); }

ssize_t ustack_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* src, socklen_t* addrlen) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!buf && len) return fail(EFAULT);
  if (src && !addrlen) return fail(EFAULT);
  const base::MutByteSpan out(static_cast<base::Byte*>(buf), len);
  auto r = blocking<stack::Received>(*d, d->nonblocking || (flags & MSG_DONTWAIT), POLLIN, d->recv_timeout,
                                     [&](stack::Stack& s) { return s.recv_from(d->sid, out, flags); });
  if (!r) return fail(r.error());
  if (src && endpoint_to(r->from, src, addrlen) < 0) return -1;
  // recv(2): "MSG_TRUNC ... return the real length of the packet or datagram,
  // even when it was longer than the passed buffer."
  return static_cast<ssize_t>((flags & MSG_TRUNC) ? r->full_len : r->copied);
}

ssize_t ustack_recv(int fd, void* buf, size_t len, int flags) {
  return ustack_recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

ssize_t ustack_read(int fd, void* buf, size_t len) { return ustack_recvfrom(fd, buf, len, 0, nullptr, nullptr); }

int ustack_shutdown(int fd, int how) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  auto st = d->runtime->call([&](stack::Stack& s) { return s.shutdown(d->sid, how); });
  return st ? 0 : fail(st.error());
}

int ustack_close(int fd) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  DescriptorTable::instance().release(fd);
  auto st = d->runtime->call([&](stack::Stack& s) { return s.close(d->sid); });
  return st ? 0 : fail(st.error());
}

int ustack_getsockname(int fd, struct sockaddr* addr, socklen_t* addrlen) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!addr || !addrlen) return fail(EFAULT);
  auto ep = d->runtime->call([&](stack::Stack& s) { return s.local_endpoint(d->sid); });
  if (!ep) return fail(ep.error());
  return endpoint_to(*ep, addr, addrlen);
}

int ustack_getpeername(int fd, struct sockaddr* addr, socklen_t* addrlen) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!addr || !addrlen) return fail(EFAULT);
  auto ep = d->runtime->call([&](stack::Stack& s) { return s.peer_endpoint(d->sid); });
  if (!ep) return fail(ep.error());
  return endpoint_to(*ep, addr, addrlen);
}

int ustack_setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!value) return fail(EFAULT);
  if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    if (len < static_cast<socklen_t>(sizeof(timeval))) return fail(EINVAL);
    timeval tv;
    std::memcpy(&tv, value, sizeof tv);
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return fail(EDOM);
    (name == SO_RCVTIMEO ? d->recv_timeout : d->send_timeout) = timeval_to_timeout(tv);
    DescriptorTable::instance().update(fd, *d);
    return 0;
  }
  if (len < static_cast<socklen_t>(sizeof(int))) return fail(EINVAL);
  int v;
  std::memcpy(&v, value, sizeof v);
  auto st = d->runtime->call([&](stack::Stack& s) { return s.set_option(d->sid, level, name, v); });
  return st ? 0 : fail(st.error());
}

int ustack_getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  if (!value || !len) return fail(EFAULT);
  if (static_cast<int>(*len) < 0) return fail(EINVAL);
  if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    const timeval tv = timeout_to_timeval(name == SO_RCVTIMEO ? d->recv_timeout : d->send_timeout);
    if (*len < static_cast<socklen_t>(sizeof tv)) return fail(EINVAL);
    std::memcpy(value, &tv, sizeof tv);
    *len = sizeof tv;
    return 0;
  }
  auto v = d->runtime->call([&](stack::Stack& s) { return s.get_option(d->sid, level, name); });
  if (!v) return fail(v.error());
  // sock_getsockopt(): the value is truncated to the caller's length.
  const int iv = *v;
  const socklen_t n = std::min<socklen_t>(*len, sizeof iv);
  std::memcpy(value, &iv, n);
  *len = n;
  return 0;
}

int ustack_fcntl(int fd, int cmd, ...) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (d->nonblocking ? O_NONBLOCK : 0);
    case F_SETFL: {
      va_list ap;
      va_start(ap, cmd);
      const int arg = va_arg(ap, int);
      va_end(ap);
      d->nonblocking = (arg & O_NONBLOCK) != 0;
      DescriptorTable::instance().update(fd, *d);
      return 0;
    }
    case F_GETFD:
      return FD_CLOEXEC;
    case F_SETFD:
      return 0;
    default:
      return fail(EINVAL);
  }
}

int ustack_poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) {
  if (!fds && nfds) return fail(EFAULT);
  std::vector<std::optional<Descriptor>> ds(nfds);
  runtime::Runtime* rt = nullptr;
  std::vector<stack::SocketId> ids;
  for (nfds_t i = 0; i < nfds; ++i) {
    if (fds[i].fd < 0) continue;  // poll(2): negative descriptors are ignored
    ds[i] = DescriptorTable::instance().get(fds[i].fd);
    if (ds[i]) {
      if (rt && ds[i]->runtime != rt) return fail(EINVAL);  // one host per call
      rt = ds[i]->runtime;
      ids.push_back(ds[i]->sid);
    }
  }
  // Fills revents; POLLERR, POLLHUP and POLLNVAL are reported whether asked or not.
  auto scan = [&](stack::Stack* s) {
    int ready = 0;
    for (nfds_t i = 0; i < nfds; ++i) {
      fds[i].revents = 0;
      if (fds[i].fd < 0) continue;
      short ev = (ds[i] && s) ? s->readiness(ds[i]->sid) : short{POLLNVAL};
      ev &= static_cast<short>(fds[i].events | POLLERR | POLLHUP | POLLNVAL);
      fds[i].revents = ev;
      if (ev) ++ready;
    }
    return ready;
  };
  if (!rt) {
    const int ready = scan(nullptr);
    if (ready || timeout_ms == 0) return ready;
    if (timeout_ms > 0) ::poll(nullptr, 0, timeout_ms);  // nothing to wait for but the time
    else return fail(EINVAL);                            // would sleep forever on nothing
    return 0;
  }
  std::optional<base::Instant> deadline;
  if (timeout_ms >= 0) deadline = runtime::monotonic_now() + std::chrono::milliseconds(timeout_ms);
  int ready = 0;
  rt->wait(ids, deadline, [&](stack::Stack& s) { return (ready = scan(&s)) > 0; });
  return ready;
}

}  // extern "C"

// The Berkeley calls of <ustack/socket.h>: argument checks and sockaddr
// conversion as Linux does them, blocking with timeouts, then the stack's call.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include <algorithm>
#include <cstddef>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstring>
#include <string>
#include <vector>

#include "socket/descriptors.h"
#include "socket/epoll.h"
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

/// The descriptor of a socket: nullopt with errno EBADF (no such descriptor) or
/// ENOTSOCK (an epoll instance).
std::optional<Descriptor> socket_of(int fd) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) {
    errno = EBADF;
    return std::nullopt;
  }
  if (d->epoll) {
    errno = ENOTSOCK;
    return std::nullopt;
  }
  return d;
}

/// send(2): "EPIPE ... In this case, the process also receives a SIGPIPE unless
/// MSG_NOSIGNAL is set." Linux raises it in the calling thread.
int fail_send(Errc e, int flags) {
  if (e == Errc::pipe && !(flags & MSG_NOSIGNAL)) pthread_kill(pthread_self(), SIGPIPE);
  return fail(e);
}

std::optional<base::Instant> deadline_after(const std::optional<base::Duration>& timeout) {
  if (!timeout) return std::nullopt;
  return runtime::monotonic_now() + *timeout;
}

/// Runs op until it stops saying would_block, waiting for readiness `events` in
/// between unless the call is non-blocking. A timeout ends in EAGAIN (socket(7)).
template <class T, class Op>
base::Result<T> blocking_until(const Descriptor& d, bool nonblocking, short events,
                               std::optional<base::Instant> deadline, Op&& op) {
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

template <class T, class Op>
base::Result<T> blocking(const Descriptor& d, bool nonblocking, short events,
                         const std::optional<base::Duration>& timeout, Op&& op) {
  return blocking_until<T>(d, nonblocking, events, deadline_after(timeout), std::forward<Op>(op));
}

std::optional<base::Duration> timeval_to_timeout(const timeval& tv) {
  // sock_set_timeout(): a negative time means "do not wait", zero means forever.
  if (tv.tv_sec < 0) return base::Duration::zero();
  if (tv.tv_sec == 0 && tv.tv_usec == 0) return std::nullopt;
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

/// Linux TCP_CA_NAME_MAX: the longest congestion-control name with its NUL.
constexpr std::size_t kTcpCaNameMax = 16;

/// Linux's TCP state numbers (include/net/tcp_states.h), as struct tcp_info reports them.
std::uint8_t linux_tcp_state(tcp::State st) {
  switch (st) {
    case tcp::State::established: return 1;
    case tcp::State::syn_sent: return 2;
    case tcp::State::syn_received: return 3;
    case tcp::State::fin_wait_1: return 4;
    case tcp::State::fin_wait_2: return 5;
    case tcp::State::time_wait: return 6;
    case tcp::State::closed: return 7;
    case tcp::State::close_wait: return 8;
    case tcp::State::last_ack: return 9;
    case tcp::State::listen: return 10;
    case tcp::State::closing: return 11;
  }
  return 7;
}

/// glibc's struct tcp_info stops at tcpi_total_retrans; Linux's goes on with
/// tcpi_pacing_rate and tcpi_max_pacing_rate (include/uapi/linux/tcp.h), which
/// callers that include <linux/tcp.h> read.
struct LinuxTcpInfo {
  tcp_info glibc;
  std::uint64_t tcpi_pacing_rate;      // bytes per second
  std::uint64_t tcpi_max_pacing_rate;  // SO_MAX_PACING_RATE: ~0, unlimited
};
static_assert(offsetof(LinuxTcpInfo, tcpi_pacing_rate) == 104, "Linux's offset of tcpi_pacing_rate");

LinuxTcpInfo to_tcp_info(const tcp::Snapshot& s) {
  LinuxTcpInfo out{};
  out.tcpi_pacing_rate = s.pacing_rate;
  out.tcpi_max_pacing_rate = ~std::uint64_t{0};
  tcp_info& i = out.glibc;
  i.tcpi_state = linux_tcp_state(s.state);
  // TCP_CA_Loss, TCP_CA_Recovery, TCP_CA_Disorder (SACKed data, no loss yet), TCP_CA_Open.
  i.tcpi_ca_state = s.in_loss ? 4 : s.in_recovery ? 3 : s.sacked ? 1 : 0;
  i.tcpi_retransmits = s.retransmits;
  i.tcpi_backoff = s.backoff;
  // TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4, TCPI_OPT_ECN 8, TCPI_OPT_ECN_SEEN 16.
  i.tcpi_options = static_cast<std::uint8_t>((s.timestamps ? 1 : 0) | (s.sack ? 2 : 0) | (s.window_scaling ? 4 : 0) |
                                             (s.ecn ? 8 : 0) | (s.ecn_seen ? 16 : 0));
  i.tcpi_snd_wscale = s.snd_wscale & 0xf;
  i.tcpi_rcv_wscale = s.rcv_wscale & 0xf;
  i.tcpi_rto = s.rto_us;
  i.tcpi_snd_mss = s.snd_mss;
  i.tcpi_rcv_mss = s.rcv_mss;
  i.tcpi_unacked = s.unacked;
  i.tcpi_retrans = s.retrans;
  i.tcpi_last_data_sent = s.last_data_sent_ms;
  i.tcpi_last_data_recv = s.last_data_recv_ms;
  i.tcpi_last_ack_recv = s.last_ack_recv_ms;
  i.tcpi_pmtu = s.advmss + 40;
  i.tcpi_rtt = s.rtt_us;
  i.tcpi_rttvar = s.rttvar_us;
  i.tcpi_snd_ssthresh = s.snd_ssthresh;
  i.tcpi_snd_cwnd = s.snd_cwnd;
  i.tcpi_advmss = s.advmss;
  i.tcpi_reordering = s.reordering;
  i.tcpi_sacked = s.sacked;
  i.tcpi_lost = s.lost;
  i.tcpi_rcv_space = s.rcv_wnd;
  i.tcpi_total_retrans = static_cast<std::uint32_t>(s.info.retransmits_total);
  return out;
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
  Descriptor d{rt, *sid, (type & SOCK_NONBLOCK) != 0, std::nullopt, std::nullopt, base_type, nullptr};
  const int fd = DescriptorTable::instance().allocate(d);
  if (fd < 0) {
    (void)rt->call([&](stack::Stack& s) { return s.close(*sid); });
    return fail(EMFILE);
  }
  return fd;
}

int ustack_bind(int fd, const struct sockaddr* addr, socklen_t addrlen) {
  auto d = socket_of(fd);
  if (!d) return -1;
  auto ep = endpoint_from(addr, addrlen);
  if (!ep) return fail(ep.error());
  auto st = d->runtime->call([&](stack::Stack& s) { return s.bind(d->sid, *ep); });
  return st ? 0 : fail(st.error());
}

int ustack_listen(int fd, int backlog) {
  auto d = socket_of(fd);
  if (!d) return -1;
  auto st = d->runtime->call([&](stack::Stack& s) { return s.listen(d->sid, backlog); });
  return st ? 0 : fail(st.error());
}

int ustack_accept4(int fd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return fail(EINVAL);
  if (addr && !addrlen) return fail(EFAULT);
  if (addr && static_cast<int>(*addrlen) < 0) return fail(EINVAL);
  base::Endpoint peer;
  auto sid = blocking<SocketId>(*d, d->nonblocking, POLLIN, d->recv_timeout,
                                [&](stack::Stack& s) { return s.accept(d->sid, &peer); });
  if (!sid) return fail(sid.error());
  // accept(2): the new socket does not inherit O_NONBLOCK; SOCK_NONBLOCK sets it.
  Descriptor nd{d->runtime, *sid, (flags & SOCK_NONBLOCK) != 0, std::nullopt, std::nullopt, d->type, nullptr};
  const int nfd = DescriptorTable::instance().allocate(nd);
  if (nfd < 0) {
    (void)d->runtime->call([&](stack::Stack& s) { return s.close(*sid); });
    return fail(EMFILE);
  }
  if (addr) endpoint_to(peer, addr, addrlen);
  return nfd;
}

int ustack_accept(int fd, struct sockaddr* addr, socklen_t* addrlen) {
  return ustack_accept4(fd, addr, addrlen, 0);
}

int ustack_connect(int fd, const struct sockaddr* addr, socklen_t addrlen) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (!addr) return fail(EFAULT);
  if (addrlen < static_cast<socklen_t>(sizeof(sa_family_t))) return fail(EINVAL);
  std::optional<base::Endpoint> peer;
  if (addr->sa_family != AF_UNSPEC) {  // udp(7): AF_UNSPEC dissolves the association
    auto ep = endpoint_from(addr, addrlen);
    if (!ep) return fail(ep.error());
    peer = *ep;
  }
  auto st = d->runtime->call([&](stack::Stack& s) { return s.connect(d->sid, peer); });
  if (st) return 0;
  if (st.error() != Errc::in_progress || d->nonblocking) return fail(st.error());
  // A blocking stream connect waits for the handshake: POLLOUT when established,
  // POLLERR when it failed. connect(2) with SO_SNDTIMEO: "EINPROGRESS ... the
  // timeout expired before the connection was established" (inet_wait_for_connect).
  const SocketId ids[] = {d->sid};
  const bool done = d->runtime->wait(ids, deadline_after(d->send_timeout), [&](Stack& s) {
    return !s.valid(d->sid) || (s.readiness(d->sid) & (POLLOUT | POLLERR | POLLHUP)) != 0;
  });
  if (!done) return fail(EINPROGRESS);
  auto err = d->runtime->call([&](stack::Stack& s) { return s.get_option(d->sid, SOL_SOCKET, SO_ERROR); });
  if (!err) return fail(err.error());
  return *err ? fail(*err) : 0;
}

ssize_t ustack_sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* dest,
                      socklen_t addrlen) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (!buf && len) return fail(EFAULT);
  std::optional<base::Endpoint> to;
  if (dest && d->type != SOCK_STREAM) {  // tcp(7) ignores the address of a connected stream
    auto ep = endpoint_from(dest, addrlen);
    if (!ep) return fail(ep.error());
    to = *ep;
  }
  const bool nonblocking = d->nonblocking || (flags & MSG_DONTWAIT);
  const int stack_flags = flags & ~MSG_NOSIGNAL;
  const base::ByteSpan data(static_cast<const base::Byte*>(buf), len);
  auto send_some = [&](base::ByteSpan part) {
    return [&, part](stack::Stack& s) { return s.send_to(d->sid, part, to ? &*to : nullptr, stack_flags); };
  };
  if (d->type != SOCK_STREAM) {
    auto r = blocking<std::size_t>(*d, nonblocking, POLLOUT, d->send_timeout, send_some(data));
    if (!r) return fail_send(r.error(), flags);
    return static_cast<ssize_t>(*r);
  }
  // A blocking stream send queues every byte before it returns; only a timeout,
  // or an error after some bytes went, ends it early with the count sent
  // (tcp_sendmsg: "copied" is returned when non-zero).
  const auto deadline = deadline_after(d->send_timeout);
  std::size_t sent = 0;
  do {
    auto r = blocking_until<std::size_t>(*d, nonblocking, POLLOUT, deadline, send_some(data.subspan(sent)));
    if (!r) {
      if (sent > 0) break;
      return fail_send(r.error(), flags);
    }
    sent += *r;
  } while (sent < len && !nonblocking);
  return static_cast<ssize_t>(sent);
}

ssize_t ustack_send(int fd, const void* buf, size_t len, int flags) {
  return ustack_sendto(fd, buf, len, flags, nullptr, 0);
}

ssize_t ustack_write(int fd, const void* buf, size_t len) { return ustack_sendto(fd, buf, len, 0, nullptr, 0); }

ssize_t ustack_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* src, socklen_t* addrlen) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (!buf && len) return fail(EFAULT);
  if (src && !addrlen) return fail(EFAULT);
  const bool nonblocking = d->nonblocking || (flags & MSG_DONTWAIT);
  const int stack_flags = flags & ~MSG_WAITALL;
  const base::MutByteSpan out(static_cast<base::Byte*>(buf), len);
  auto recv_into = [&](base::MutByteSpan part) {
    return [&, part](stack::Stack& s) { return s.recv_from(d->sid, part, stack_flags); };
  };
  if (d->type == SOCK_STREAM && (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && !nonblocking) {
    // recv(2) MSG_WAITALL: "block until the full request is satisfied", unless a
    // signal, an error, a disconnect or the next data is of another type. A
    // timeout or an error after some data returns what came (tcp_recvmsg).
    const auto deadline = deadline_after(d->recv_timeout);
    std::size_t got = 0;
    base::Endpoint from;
    while (got < len) {
      auto r = blocking_until<stack::Received>(*d, false, POLLIN, deadline, recv_into(out.subspan(got)));
      if (!r) {
        if (got > 0) break;
        return fail(r.error());
      }
      if (r->copied == 0) break;  // end of stream
      from = r->from;
      got += r->copied;
    }
    if (src && endpoint_to(from, src, addrlen) < 0) return -1;
    return static_cast<ssize_t>(got);
  }
  auto r = blocking<stack::Received>(*d, nonblocking, POLLIN, d->recv_timeout, recv_into(out));
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
  auto d = socket_of(fd);
  if (!d) return -1;
  auto st = d->runtime->call([&](stack::Stack& s) { return s.shutdown(d->sid, how); });
  return st ? 0 : fail(st.error());
}

int ustack_close(int fd) {
  auto d = DescriptorTable::instance().get(fd);
  if (!d) return fail(EBADF);
  DescriptorTable::instance().release(fd);
  if (d->epoll) {
    d.reset();  // the instance goes with its last reference (a wait in progress keeps it)
    return 0;
  }
  auto st = d->runtime->call([&](stack::Stack& s) {
    forget_in_epolls(d->runtime, fd);  // epoll(7): closing a descriptor removes it from every instance
    return s.close(d->sid);
  });
  return st ? 0 : fail(st.error());
}

int ustack_getsockname(int fd, struct sockaddr* addr, socklen_t* addrlen) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (!addr || !addrlen) return fail(EFAULT);
  auto ep = d->runtime->call([&](stack::Stack& s) { return s.local_endpoint(d->sid); });
  if (!ep) return fail(ep.error());
  return endpoint_to(*ep, addr, addrlen);
}

int ustack_getpeername(int fd, struct sockaddr* addr, socklen_t* addrlen) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (!addr || !addrlen) return fail(EFAULT);
  auto ep = d->runtime->call([&](stack::Stack& s) { return s.peer_endpoint(d->sid); });
  if (!ep) return fail(ep.error());
  return endpoint_to(*ep, addr, addrlen);
}

int ustack_setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  auto d = socket_of(fd);
  if (!d) return -1;
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
  if (level == SOL_SOCKET && name == SO_LINGER) {
    if (len < static_cast<socklen_t>(sizeof(struct linger))) return fail(EINVAL);
    struct linger l;
    std::memcpy(&l, value, sizeof l);
    // sock_setsockopt(): a negative or huge l_linger is clamped, not refused.
    const int secs = std::max(l.l_linger, 0);
    auto st = d->runtime->call([&](stack::Stack& s) { return s.set_linger(d->sid, l.l_onoff != 0, secs); });
    return st ? 0 : fail(st.error());
  }
  if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
    // tcp(7): a string; Linux reads at most TCP_CA_NAME_MAX - 1 bytes, up to a NUL.
    if (static_cast<int>(len) < 0) return fail(EINVAL);
    const auto* chars = static_cast<const char*>(value);
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(len), kTcpCaNameMax - 1);
    const std::string ca(chars, strnlen(chars, n));
    auto st = d->runtime->call([&](stack::Stack& s) { return s.set_congestion_control(d->sid, ca); });
    return st ? 0 : fail(st.error());
  }
  if (len < static_cast<socklen_t>(sizeof(int))) return fail(EINVAL);
  int v;
  std::memcpy(&v, value, sizeof v);
  auto st = d->runtime->call([&](stack::Stack& s) { return s.set_option(d->sid, level, name, v); });
  return st ? 0 : fail(st.error());
}

int ustack_getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  auto d = socket_of(fd);
  if (!d) return -1;
  if (!value || !len) return fail(EFAULT);
  if (static_cast<int>(*len) < 0) return fail(EINVAL);
  if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    const timeval tv = timeout_to_timeval(name == SO_RCVTIMEO ? d->recv_timeout : d->send_timeout);
    if (*len < static_cast<socklen_t>(sizeof tv)) return fail(EINVAL);
    std::memcpy(value, &tv, sizeof tv);
    *len = sizeof tv;
    return 0;
  }
  if (level == SOL_SOCKET && name == SO_LINGER) {
    auto v = d->runtime->call([&](stack::Stack& s) { return s.get_linger(d->sid); });
    if (!v) return fail(v.error());
    struct linger l{};
    l.l_onoff = v->first ? 1 : 0;
    l.l_linger = v->second;
    const socklen_t n = std::min<socklen_t>(*len, sizeof l);
    std::memcpy(value, &l, n);
    *len = n;
    return 0;
  }
  if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
    auto ca = d->runtime->call([&](stack::Stack& s) { return s.get_congestion_control(d->sid); });
    if (!ca) return fail(ca.error());
    // Linux do_tcp_getsockopt: min(len, TCP_CA_NAME_MAX) bytes of the NUL-padded name.
    char name_buf[kTcpCaNameMax] = {};
    std::memcpy(name_buf, ca->data(), std::min(ca->size(), kTcpCaNameMax - 1));
    const socklen_t n = std::min<socklen_t>(*len, static_cast<socklen_t>(kTcpCaNameMax));
    std::memcpy(value, name_buf, static_cast<std::size_t>(n));
    *len = n;
    return 0;
  }
  if (level == IPPROTO_TCP && name == TCP_INFO) {
    auto snap = d->runtime->call([&](stack::Stack& s) { return s.tcp_info(d->sid); });
    if (!snap) return fail(snap.error());
    const LinuxTcpInfo info = to_tcp_info(*snap);
    // tcp(7): the kernel copies as much as the caller's length holds.
    const socklen_t n = std::min<socklen_t>(*len, sizeof info);
    std::memcpy(value, &info, n);
    *len = n;
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
    if (ds[i] && ds[i]->epoll) return fail(EINVAL);  // polling an epoll instance is not supported
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

int ustack_epoll_create1(int flags) {
  if (flags & ~EPOLL_CLOEXEC) return fail(EINVAL);
  runtime::Runtime* rt = default_runtime();
  if (!rt) return fail(ENETDOWN);
  Descriptor d{rt, -1, false, std::nullopt, std::nullopt, 0, std::make_shared<Epoll>(*rt)};
  const int fd = DescriptorTable::instance().allocate(d);
  return fd < 0 ? fail(EMFILE) : fd;
}

int ustack_epoll_create(int size) { return size <= 0 ? fail(EINVAL) : ustack_epoll_create1(0); }

int ustack_epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  auto ep = DescriptorTable::instance().get(epfd);
  auto d = DescriptorTable::instance().get(fd);
  if (!ep || !d) return fail(EBADF);
  if (!ep->epoll || epfd == fd) return fail(EINVAL);
  if (d->epoll) return fail(EINVAL);  // nesting epoll instances is not supported
  if (op != EPOLL_CTL_DEL && !event) return fail(EFAULT);
  if (d->runtime != &ep->epoll->runtime()) return fail(EINVAL);  // another host's socket
  const int err = d->runtime->call([&](stack::Stack& s) {
    return s.valid(d->sid) ? ep->epoll->control(s, op, fd, d->sid, event) : EBADF;
  });
  return err ? fail(err) : 0;
}

int ustack_epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout_ms) {
  auto ep = DescriptorTable::instance().get(epfd);
  if (!ep) return fail(EBADF);
  if (!ep->epoll) return fail(EINVAL);
  if (maxevents <= 0) return fail(EINVAL);
  if (!events) return fail(EFAULT);
  std::optional<base::Instant> deadline;
  if (timeout_ms >= 0) deadline = runtime::monotonic_now() + std::chrono::milliseconds(timeout_ms);
  Epoll& e = *ep->epoll;
  int n = 0;
  const std::span<epoll_event> out(events, static_cast<std::size_t>(maxevents));
  e.runtime().wait_listener(e, deadline, [&](stack::Stack& s) { return (n = e.collect(s, out)) > 0; });
  return n;
}

}  // extern "C"

/* ustack's Berkeley sockets API, usable from C and C++.
 *
 * Each call has the signature, flags and errno values of the Linux call of the
 * same name without the prefix. Descriptors are small integers in ustack's own
 * table (not kernel descriptors): pass them only to ustack_* calls. A host must
 * be running (ustack::Host in <ustack/host.h>, or ustack_host_start()) before
 * ustack_socket() succeeds; without one it fails with ENETDOWN.
 */
#ifndef USTACK_SOCKET_H
#define USTACK_SOCKET_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int ustack_socket(int domain, int type, int protocol);
int ustack_bind(int fd, const struct sockaddr* addr, socklen_t addrlen);
/* On a blocking stream socket, waits for the handshake (at most SO_SNDTIMEO,
 * then EINPROGRESS); non-blocking, returns -1 EINPROGRESS and the outcome shows
 * as POLLOUT (or POLLERR with SO_ERROR). */
int ustack_connect(int fd, const struct sockaddr* addr, socklen_t addrlen);
int ustack_listen(int fd, int backlog);
/* Blocks for a connection unless the listener is O_NONBLOCK (honours SO_RCVTIMEO).
 * flags of accept4: SOCK_NONBLOCK, SOCK_CLOEXEC. */
int ustack_accept(int fd, struct sockaddr* addr, socklen_t* addrlen);
int ustack_accept4(int fd, struct sockaddr* addr, socklen_t* addrlen, int flags);
/* send on a blocking stream socket returns once every byte is queued (or a
 * timeout/error cut it short: the count sent). EPIPE raises SIGPIPE in the
 * calling thread unless MSG_NOSIGNAL. recv honours MSG_WAITALL, MSG_PEEK. */ssize_t ustack_sendto(int fd, const void* buf, size_t len, int flags,
                      const struct sockaddr* dest, socklen_t addrlen);
ssize_t ustack_send(int fd, const void* buf, size_t len, int flags);
ssize_t ustack_write(int fd, const void* buf, size_t len);
ssize_t ustack_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* src,
                        socklen_t* addrlen);
ssize_t ustack_recv(int fd, void* buf, size_t len, int flags);
ssize_t ustack_read(int fd, void* buf, size_t len);
int ustack_shutdown(int fd, int how);
int ustack_close(int fd);
int ustack_getsockname(int fd, struct sockaddr* addr, socklen_t* addrlen);
int ustack_getpeername(int fd, struct sockaddr* addr, socklen_t* addrlen);
/* Options take an int, as Linux's, except SO_LINGER, SO_RCVTIMEO/SO_SNDTIMEO,
 * TCP_INFO (struct tcp_info, with tcpi_pacing_rate) and TCP_CONGESTION: a string,
 * "cubic" (the default) or "reno"; ENOENT for a name not known. */
int ustack_setsockopt(int fd, int level, int name, const void* value, socklen_t len);
int ustack_getsockopt(int fd, int level, int name, void* value, socklen_t* len);
/* F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD, F_SETFD. */
int ustack_fcntl(int fd, int cmd, ... /* int arg */);
int ustack_poll(struct pollfd* fds, nfds_t nfds, int timeout_ms);

/* epoll(7) over ustack sockets, with <sys/epoll.h>'s types and flags: level-
 * triggered by default, EPOLLET and EPOLLONESHOT. The instance is a ustack
 * descriptor (close it with ustack_close) of the default host; a wait costs in
 * proportion to the sockets whose readiness changed, not to those registered.
 * Closing a socket's descriptor removes it from every instance. */
int ustack_epoll_create(int size);
int ustack_epoll_create1(int flags);
int ustack_epoll_ctl(int epfd, int op, int fd, struct epoll_event* event);
int ustack_epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout_ms);

/* Starts a host on an existing TAP device from C: addr is "A.B.C.D/N", gateway
 * may be NULL. The runtime thread drives it until ustack_host_stop(). Returns 0,
 * or -1 with errno (ENODEV: no such interface; EINVAL: bad address). */
int ustack_host_start(const char* tap_ifname, const char* addr, const char* gateway);
void ustack_host_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* USTACK_SOCKET_H */

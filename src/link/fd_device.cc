// TUN/TAP descriptor device: attaching to an existing interface, frame I/O.
#include "link/fd_device.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "link/sys_error.h"

namespace ustack::link {
namespace {

using base::Errc;

// Closes a descriptor on scope exit unless released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

ifreq request_for(const std::string& ifname) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());  // size checked < IFNAMSIZ
  return ifr;
}

}  // namespace

FdDevice::~FdDevice() {
  if (fd_ >= 0) ::close(fd_);
}

base::Result<int> FdDevice::open_tuntap(const std::string& ifname, short flags,
                                        std::size_t* mtu, std::string* why) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || ifname.find('/') != std::string::npos) {
    if (why) *why = fmt::format("'{}': not a valid interface name", ifname);
    return Errc::invalid;
  }
  ScopedFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return fail_with_errno(why, "socket(AF_INET, SOCK_DGRAM)", errno);

  // TUNSETIFF on a name that does not exist creates a new device: never do that.
  ifreq ifr = request_for(ifname);
  if (::ioctl(sock.get(), SIOCGIFINDEX, &ifr) < 0) {
    const int err = errno;
    if (err == ENODEV) {
      if (why) {
        *why = fmt::format("{}: no such interface (create it first: ip tuntap add dev {} mode {})",
                           ifname, ifname, (flags & IFF_TAP) ? "tap" : "tun");
      }
      return Errc::no_device;
    }
    return fail_with_errno(why, ifname + ": SIOCGIFINDEX", err);
  }
  const int index_before = ifr.ifr_ifindex;

  *mtu = 1500;
  ifr = request_for(ifname);
  if (::ioctl(sock.get(), SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0) {
    *mtu = static_cast<std::size_t>(ifr.ifr_mtu);
  }

  ScopedFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return fail_with_errno(why, "open /dev/net/tun", errno);

  ifreq req = request_for(ifname);
  req.ifr_flags = static_cast<short>(flags | IFF_NO_PI);
  if (::ioctl(fd.get(), TUNSETIFF, &req) < 0) {
    const int err = errno;
    const char* kind = (flags & IFF_TAP) ? "TAP" : "TUN";
    if (err == EINVAL) {
      if (why) *why = fmt::format("{}: TUNSETIFF refused: not a {} device (or other flags)", ifname, kind);
      return Errc::invalid;
    }
    return fail_with_errno(why, fmt::format("{}: TUNSETIFF ({})", ifname, kind), err);
  }

  // The interface could have vanished between the check and TUNSETIFF, in which case
  // the kernel made a new one; closing our descriptor (its only user) removes it again.
  ifr = request_for(ifname);
  if (::ioctl(sock.get(), SIOCGIFINDEX, &ifr) < 0 || ifr.ifr_ifindex != index_before) {
    if (why) *why = fmt::format("{}: interface changed while attaching", ifname);
    return Errc::no_device;
  }
  return fd.release();
}

std::optional<std::size_t> FdDevice::receive(base::Instant /*now*/, base::MutByteSpan buf) {
  base::Byte overflow[1];
  for (int attempt = 0; attempt < kMaxDropsPerReceive; ++attempt) {
    iovec iov[2] = {{buf.data(), buf.size()}, {overflow, sizeof overflow}};
    const ssize_t n = ::readv(fd_, iov, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.rx_dropped;
      return std::nullopt;
    }
    if (n == 0) return std::nullopt;
    // Without IFF_NO_PI's strip flag the kernel reports the whole frame length even
    // when it copied less; the overflow byte catches any other behaviour.
    if (static_cast<std::size_t>(n) > buf.size()) {
      ++stats_.rx_dropped;
      continue;
    }
    ++stats_.rx_frames;
    stats_.rx_bytes += static_cast<std::size_t>(n);
    return static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

bool FdDevice::transmit(base::Instant /*now*/, base::ByteSpan frame) {
  ssize_t n;
  do {
    n = ::write(fd_, frame.data(), frame.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0 || static_cast<std::size_t>(n) != frame.size()) {
    ++stats_.tx_dropped;
    return false;
  }
  ++stats_.tx_frames;
  stats_.tx_bytes += frame.size();
  return true;
}

}  // namespace ustack::link

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

#include <algorithm>
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

std::optional<TxIo> parse_tx_io(std::string_view s) {
  if (s == "uring") return TxIo::uring;
  if (s == "plain") return TxIo::plain;
  if (s == "auto") return TxIo::automatic;
  return std::nullopt;
}

FdDevice::~FdDevice() {
  if (uring_ && !tx_batch_.empty()) submit_batch();  // what the last round queued
  uring_.reset();                                   // before the descriptor it writes to
  if (fd_ >= 0) ::close(fd_);
}

void FdDevice::start_tx(TxIo io) {
  if (io == TxIo::automatic && vnet_) {
    offloads_ += "; tx: one write() per frame (--tap-io auto: super-frames; uring to batch them)";
    return;
  }
  if (io == TxIo::plain) {
    offloads_ += "; tx: one write() per frame (asked: --tap-io plain)";
    return;
  }
  std::string why;
  uring_ = UringTx::open(fd_, kTxBatchDepth, &why);
  if (uring_) {
    offloads_ += fmt::format("; tx: io_uring, up to {} frames per submit", kTxBatchDepth);
  } else {
    offloads_ += "; tx: one write() per frame (io_uring unavailable: " + why + ")";
  }
}

base::Result<FdDevice::Opened> FdDevice::open_tuntap(const std::string& ifname, short flags, bool offload,
                                                      std::string* why) {
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

  Opened o;
  ifr = request_for(ifname);
  if (::ioctl(sock.get(), SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0) {
    o.mtu = static_cast<std::size_t>(ifr.ifr_mtu);
  }

  const char* kind = (flags & IFF_TAP) ? "TAP" : "TUN";
  auto attach = [&](short extra) -> base::Result<int> {
    ScopedFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) return fail_with_errno(why, "open /dev/net/tun", errno);
    ifreq req = request_for(ifname);
    req.ifr_flags = static_cast<short>(flags | IFF_NO_PI | extra);
    if (::ioctl(fd.get(), TUNSETIFF, &req) < 0) {
      const int err = errno;
      if (err == EINVAL) {
        if (why) *why = fmt::format("{}: TUNSETIFF refused: not a {} device (or other flags)", ifname, kind);
        return Errc::invalid;
      }
      return fail_with_errno(why, fmt::format("{}: TUNSETIFF ({})", ifname, kind), err);
    }
    return fd.release();
  };

  std::string offload_failure;
  std::optional<ScopedFd> attached;
  if (offload && (flags & IFF_TAP)) {
    // The virtio-net header on every frame, and the offloads the kernel may use
    // toward us: partial checksums and TCP super-frames (GRO, TSO) of IPv4. Not
    // TSO6 (no IPv6 yet), not USO (a UDP super-frame holds several datagrams).
    auto fd = attach(IFF_VNET_HDR);
    if (fd) {
      ScopedFd vfd(*fd);
      int hdr_size = static_cast<int>(kVnetHeaderLen);
      const unsigned features = TUN_F_CSUM | TUN_F_TSO4;
      if (::ioctl(vfd.get(), TUNSETVNETHDRSZ, &hdr_size) < 0) {
        offload_failure = fmt::format("TUNSETVNETHDRSZ: {}", std::strerror(errno));
      } else if (::ioctl(vfd.get(), TUNSETOFFLOAD, features) < 0) {
        offload_failure = fmt::format("TUNSETOFFLOAD(CSUM|TSO4): {}", std::strerror(errno));
      } else {
        attached.emplace(vfd.release());
        o.vnet = true;
        o.offloads = "vnet_hdr csum tso4 (rx: GRO super-frames, partial checksums; tx: TSO coalescing)";
      }
    } else {
      offload_failure = fmt::format("TUNSETIFF with IFF_VNET_HDR: {}", why ? *why : std::string("refused"));
    }
  }
  if (!attached) {
    auto fd = attach(0);
    if (!fd) return fd.error();
    attached.emplace(*fd);
    // A previous user may have left offloads on: the kernel would send super-frames
    // and partial checksums to a reader without the header to say so.
    if (flags & IFF_TAP) (void)::ioctl(attached->get(), TUNSETOFFLOAD, 0u);
    if (!(flags & IFF_TAP)) o.offloads = "none (TUN)";
    else if (!offload) o.offloads = "off (asked: --tap-offload 0)";
    else o.offloads = "off: the kernel refused them (" + offload_failure + "); plain frames";
  }

  // The interface could have vanished between the check and TUNSETIFF, in which case
  // the kernel made a new one; closing our descriptor (its only user) removes it again.
  ifr = request_for(ifname);
  if (::ioctl(sock.get(), SIOCGIFINDEX, &ifr) < 0 || ifr.ifr_ifindex != index_before) {
    if (why) *why = fmt::format("{}: interface changed while attaching", ifname);
    return Errc::no_device;
  }
  // Attaching turns the carrier on, but the kernel applies that (linkwatch: the
  // qdisc, IFF_RUNNING) up to a second later when the link changed within the
  // last second, as when one ustack process follows another on the same TAP.
  // Until then the kernel drops what it sends us (an ARP reply, a SYN-ACK), and
  // our first exchange waits a full retransmission timeout. Wait (2 s at most)
  // for an interface that is up to be running.
  for (int i = 0; i < 200; ++i) {
    ifr = request_for(ifname);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) break;
    if (!(ifr.ifr_flags & IFF_UP) || (ifr.ifr_flags & IFF_RUNNING)) break;
    ::usleep(10'000);
  }
  o.fd = attached->release();
  return o;
}

std::optional<std::size_t> FdDevice::receive(base::Instant /*now*/, base::MutByteSpan buf) {
  base::Byte overflow[1];
  VnetHeader h{};
  rx_trusted_ = false;
  for (int attempt = 0; attempt < kMaxDropsPerReceive; ++attempt) {
    iovec iov[3] = {{&h, sizeof h}, {buf.data(), buf.size()}, {overflow, sizeof overflow}};
    const ssize_t got = vnet_ ? ::readv(fd_, iov, 3) : ::readv(fd_, iov + 1, 2);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.rx_dropped;
      return std::nullopt;
    }
    if (got == 0) return std::nullopt;
    auto n = static_cast<std::size_t>(got);
    if (vnet_) {
      if (n < sizeof h) {  // the kernel always writes the header; count, never trust
        ++stats_.rx_dropped;
        ++stats_.rx_bad_vnet;
        continue;
      }
      n -= sizeof h;
    }
    // Without IFF_NO_PI's strip flag the kernel reports the whole frame length even
    // when it copied less; the overflow byte catches any other behaviour.
    if (n > buf.size()) {
      ++stats_.rx_dropped;
      continue;
    }
    if (vnet_) {
      const VnetRx r = check_vnet_rx(h, buf.first(n));
      if (!r.ok) {
        ++stats_.rx_dropped;
        ++stats_.rx_bad_vnet;
        continue;
      }
      rx_trusted_ = r.checksum_trusted;
      if (r.gso) ++stats_.rx_gso_frames;
    }
    ++stats_.rx_frames;
    stats_.rx_bytes += n;
    return n;
  }
  return std::nullopt;
}

bool FdDevice::transmit(base::Instant /*now*/, base::ByteSpan frame) {
  if (vnet_) {
    // A frame that is no TCP candidate is written at once (after the pending
    // super-frame): a write failing in this call is reported here.
    const auto dropped = stats_.tx_dropped;
    coalescer_.add(frame, *this);
    return stats_.tx_dropped == dropped;
  }
  if (uring_) {
    // Written at flush_tx() (or when the batch is full); a failure then counts
    // only in tx_dropped.
    queue_frame({}, frame, 1);
    return true;
  }
  ++stats_.tx_submits;
  stats_.tx_batch_max = std::max<std::uint64_t>(stats_.tx_batch_max, 1);
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

void FdDevice::flush_tx() {
  if (vnet_) coalescer_.flush(*this);
  if (uring_ && !tx_batch_.empty()) submit_batch();
}

std::optional<base::Instant> FdDevice::next_deadline() const {
  if (coalescer_.pending() || !tx_batch_.empty()) return base::kEpoch;
  return std::nullopt;
}

void FdDevice::queue_frame(base::ByteSpan prefix, base::ByteSpan frame, std::size_t segments) {
  if (tx_batch_.full()) submit_batch();
  (void)tx_batch_.add(prefix, frame, static_cast<std::uint32_t>(segments));
}

void FdDevice::submit_batch() {
  const std::size_t prefix = vnet_ ? sizeof(VnetHeader) : 0;
  const auto done = uring_->submit(tx_batch_, [&](std::size_t i, bool ok) {
    if (ok) count_written(tx_batch_.bytes(i).size() - prefix, tx_batch_.tag(i));
    else ++stats_.tx_dropped;
  });
  stats_.tx_submits += done.enters;
  stats_.tx_batch_max = std::max<std::uint64_t>(stats_.tx_batch_max, tx_batch_.size());
  tx_batch_.clear();
  if (!uring_->broken().empty()) {
    // From now on one write() per frame, and offloads() says why.
    offloads_ += "; tx: back to one write() per frame (" + uring_->broken() + ")";
    uring_.reset();
  }
}

void FdDevice::count_written(std::size_t frame_bytes, std::size_t segments) {
  ++stats_.tx_frames;
  stats_.tx_bytes += frame_bytes;
  if (segments > 1) {
    ++stats_.tx_gso_frames;
    stats_.tx_gso_segments += segments;
  }
}

void FdDevice::write_frame(const VnetHeader& h, base::ByteSpan frame, std::size_t segments) {
  if (uring_) {
    queue_frame({reinterpret_cast<const base::Byte*>(&h), sizeof h}, frame, segments);
    return;
  }
  ++stats_.tx_submits;
  stats_.tx_batch_max = std::max<std::uint64_t>(stats_.tx_batch_max, 1);
  iovec iov[2] = {{const_cast<VnetHeader*>(&h), sizeof h}, {const_cast<base::Byte*>(frame.data()), frame.size()}};
  ssize_t n;
  do {
    n = ::writev(fd_, iov, 2);
  } while (n < 0 && errno == EINTR);
  if (n < 0 || static_cast<std::size_t>(n) != sizeof h + frame.size()) {
    ++stats_.tx_dropped;
    return;
  }
  count_written(frame.size(), segments);
}

}  // namespace ustack::link

// A Linux TAP device (IFF_TAP | IFF_NO_PI): Ethernet II frames to and from the kernel,
// with offloads (IFF_VNET_HDR: GRO/TSO super-frames, partial checksums) when asked and granted.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "link/fd_device.h"

namespace ustack::link {

class TapDevice : public FdDevice {
 public:
  /// Attaches to the existing TAP interface `ifname` (never creates one: a missing
  /// name fails with Errc::no_device). Other failures: access/permission (not root,
  /// /dev/net/tun mode 0600), no_device (no /dev/net/tun), invalid (a TUN of that
  /// name), io (busy, others). If `why` is given, a readable reason is stored there.
  /// The descriptor is non-blocking; mtu() is the interface's MTU (1500 if unknown).
  /// With `offload` (the default) the TAP carries a virtio-net header and uses
  /// checksum and TSO4 offloads both ways; where the kernel refuses any of them
  /// the device runs plain, and offloads() says why (FdDevice::open_tuntap).
  /// `io`: frames out batched through io_uring (where available; offloads() says
  /// which is used and why) or one write() each (FdDevice::start_tx).
  static base::Result<std::unique_ptr<TapDevice>> open(const std::string& ifname,
                                                       std::string* why = nullptr, bool offload = true,
                                                       TxIo io = TxIo::automatic);

 private:
  using FdDevice::FdDevice;
};

}  // namespace ustack::link

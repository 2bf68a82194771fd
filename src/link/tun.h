// A Linux TUN device (IFF_TUN | IFF_NO_PI): bare IP datagrams to and from the kernel.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "link/fd_device.h"

namespace ustack::link {

class TunDevice : public FdDevice {
 public:
  /// Attaches to the existing TUN interface `ifname`; errors as TapDevice::open
  /// (a TAP of that name fails with Errc::invalid). medium() is ip.
  static base::Result<std::unique_ptr<TunDevice>> open(const std::string& ifname,
                                                       std::string* why = nullptr, TxIo io = TxIo::automatic);

 private:
  using FdDevice::FdDevice;
};

}  // namespace ustack::link

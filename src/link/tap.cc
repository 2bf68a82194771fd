// A Linux TAP device: attach to an existing interface as an Ethernet device.
#include "link/tap.h"

#include <linux/if_tun.h>

namespace ustack::link {

base::Result<std::unique_ptr<TapDevice>> TapDevice::open(const std::string& ifname,
                                                         std::string* why) {
  std::size_t mtu = 1500;
  auto fd = open_tuntap(ifname, IFF_TAP, &mtu, why);
  if (!fd) return fd.error();
  return std::unique_ptr<TapDevice>(new TapDevice(*fd, Medium::ethernet, ifname, mtu));
}

}  // namespace ustack::link

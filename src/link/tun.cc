// A Linux TUN device: attach to an existing interface as an IP device.
#include "link/tun.h"

#include <linux/if_tun.h>

namespace ustack::link {

base::Result<std::unique_ptr<TunDevice>> TunDevice::open(const std::string& ifname,
                                                         std::string* why) {
  std::size_t mtu = 1500;
  auto fd = open_tuntap(ifname, IFF_TUN, &mtu, why);
  if (!fd) return fd.error();
  return std::unique_ptr<TunDevice>(new TunDevice(*fd, Medium::ip, ifname, mtu));
}

}  // namespace ustack::link

// A Linux TUN device: attach to an existing interface as an IP device.
#include "link/tun.h"

#include <linux/if_tun.h>

namespace ustack::link {

base::Result<std::unique_ptr<TunDevice>> TunDevice::open(const std::string& ifname,
                                                         std::string* why, TxIo io) {
  auto o = open_tuntap(ifname, IFF_TUN, /*offload=*/false, why);
  if (!o) return o.error();
  auto dev = std::unique_ptr<TunDevice>(new TunDevice(*o, Medium::ip, ifname));
  dev->start_tx(io);
  return dev;
}

}  // namespace ustack::link

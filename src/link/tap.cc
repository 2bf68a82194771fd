// A Linux TAP device: attach to an existing interface as an Ethernet device.
#include "link/tap.h"

#include <linux/if_tun.h>

namespace ustack::link {

base::Result<std::unique_ptr<TapDevice>> TapDevice::open(const std::string& ifname,
                                                         std::string* why, bool offload, TxIo io) {
  auto o = open_tuntap(ifname, IFF_TAP, offload, why);
  if (!o) return o.error();
  auto dev = std::unique_ptr<TapDevice>(new TapDevice(*o, Medium::ethernet, ifname));
  dev->start_tx(io);
  return dev;
}

}  // namespace ustack::link

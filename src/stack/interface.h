// One interface of the stack: a device with an address, a neighbour cache and an MTU.
#pragma once

#include <string>

#include "stack/stack.h"

namespace ustack::stack {

struct Stack::Interface {
  InterfaceId id = 0;
  std::string name;
  link::Device* device = nullptr;
  base::MacAddr mac;
  base::Ipv4Cidr addr;
  std::size_t mtu = 1500;
  bool loopback = false;
  bool announce_pending = false;  // gratuitous ARP due at the next poll
  ip::ArpCache arp;

  bool ethernet() const { return device->medium() == link::Medium::ethernet; }
};

}  // namespace ustack::stack

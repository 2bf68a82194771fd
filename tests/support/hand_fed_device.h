// A device for tests that is fed by hand: frames pushed on `in` are received by
// the stack; what it transmits is kept in `out`. IP medium (a TUN) by default;
// Ethernet lets a frame reach a stack that a SimPort would refuse to carry.
#pragma once

#include <algorithm>
#include <vector>

#include "link/device.h"

namespace ustack::testing {

class HandFedDevice : public link::Device {
 public:
  explicit HandFedDevice(link::Medium medium = link::Medium::ip) : medium_(medium) {}
  link::Medium medium() const override { return medium_; }
  std::size_t mtu() const override { return 1500; }
  std::string name() const override { return medium_ == link::Medium::ip ? "tun0" : "eth0"; }
  std::optional<std::size_t> receive(base::Instant, base::MutByteSpan buf) override {
    if (in.empty()) return std::nullopt;
    auto f = std::move(in.front());
    in.erase(in.begin());
    std::copy(f.begin(), f.end(), buf.begin());
    return f.size();
  }
  bool transmit(base::Instant, base::ByteSpan frame) override {
    out.emplace_back(frame.begin(), frame.end());
    return true;
  }
  const link::DeviceStats& stats() const override { return stats_; }
  bool rx_checksum_trusted() const override { return trusted; }
  void flush_tx() override { ++flushes; }

  std::vector<std::vector<base::Byte>> in, out;
  bool trusted = false;  // every received frame's TCP/UDP checksum is vouched for (TAP offloads)
  int flushes = 0;       // flush_tx() calls

 private:
  link::Medium medium_;
  link::DeviceStats stats_;
};

}  // namespace ustack::testing

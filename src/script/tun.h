// The script's network: an IP-medium device (like a TUN) that the runner feeds
// with the script's inbound datagrams and whose output it reads, with the time
// each datagram left.
#pragma once

#include <deque>
#include <vector>

#include "link/device.h"

namespace ustack::script {

class ScriptTun : public link::Device {
 public:
  struct Sent {
    base::Instant at;
    std::vector<base::Byte> bytes;
  };

  link::Medium medium() const override { return link::Medium::ip; }
  std::size_t mtu() const override { return 1500; }
  std::string name() const override { return "tun0"; }
  std::optional<std::size_t> receive(base::Instant, base::MutByteSpan buf) override {
    if (in.empty()) return std::nullopt;
    std::vector<base::Byte> f = std::move(in.front());
    in.pop_front();
    if (f.size() > buf.size()) {
      ++stats_.rx_dropped;
      return std::nullopt;
    }
    std::copy(f.begin(), f.end(), buf.begin());
    ++stats_.rx_frames;
    stats_.rx_bytes += f.size();
    return f.size();
  }
  bool transmit(base::Instant now, base::ByteSpan frame) override {
    out.push_back({now, std::vector<base::Byte>(frame.begin(), frame.end())});
    ++stats_.tx_frames;
    stats_.tx_bytes += frame.size();
    return true;
  }
  const link::DeviceStats& stats() const override { return stats_; }

  std::deque<std::vector<base::Byte>> in;
  std::deque<Sent> out;

 private:
  link::DeviceStats stats_;
};

}  // namespace ustack::script

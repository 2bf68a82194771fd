// A hand-fed IP-medium device for tests: frames pushed on `in` are received by
// the stack; what it transmits is kept in `out`.
#pragma once

#include <algorithm>
#include <vector>

#include "link/device.h"

namespace ustack::testing {

class FakeTun : public link::Device {
 public:
  link::Medium medium() const override { return link::Medium::ip; }
  std::size_t mtu() const override { return 1500; }
  std::string name() const override { return "tun0"; }
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

  std::vector<std::vector<base::Byte>> in, out;

 private:
  link::DeviceStats stats_;
};

}  // namespace ustack::testing

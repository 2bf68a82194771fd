// A device backed by a Linux TUN/TAP descriptor: one read() per frame in, one
// write() per frame out, non-blocking. TapDevice and TunDevice open it.
#pragma once

#include <string>
#include <utility>

#include "base/result.h"
#include "link/device.h"

namespace ustack::link {

class FdDevice : public Device {
 public:
  FdDevice(const FdDevice&) = delete;
  FdDevice& operator=(const FdDevice&) = delete;
  ~FdDevice() override;

  Medium medium() const override { return medium_; }
  std::size_t mtu() const override { return mtu_; }
  std::string name() const override { return name_; }

  /// Reads until a frame fits in buf or the descriptor is empty (EAGAIN -> nullopt).
  /// Frames longer than buf are dropped and counted, never returned truncated.
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  /// One write(); EAGAIN, a short write or an error count tx_dropped.
  bool transmit(base::Instant now, base::ByteSpan frame) override;
  int pollable_fd() const override { return fd_; }
  const DeviceStats& stats() const override { return stats_; }

 protected:
  FdDevice(int fd, Medium medium, std::string name, std::size_t mtu)
      : fd_(fd), medium_(medium), name_(std::move(name)), mtu_(mtu) {}

  /// Attaches to the EXISTING interface `ifname` with TUNSETIFF and `flags`
  /// (IFF_TAP or IFF_TUN, IFF_NO_PI is added). Fails with no_device when the
  /// interface does not exist, because TUNSETIFF would silently create it.
  /// On success returns the non-blocking descriptor and sets *mtu (1500 if unknown).
  static base::Result<int> open_tuntap(const std::string& ifname, short flags,
                                       std::size_t* mtu, std::string* why);

 private:
  static constexpr int kMaxDropsPerReceive = 64;  // bounds the loop in receive()
  int fd_;
  Medium medium_;
  std::string name_;
  std::size_t mtu_;
  DeviceStats stats_;
};

}  // namespace ustack::link

// SimWorld: several stacks on an in-memory simulated network, stepped together
// through virtual time. Used by `ustack demo` and the simulated-network tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "link/impair.h"
#include "link/sim.h"
#include "stack/stack.h"

namespace ustack::host {

class SimWorld {
 public:
  explicit SimWorld(std::uint64_t seed = 1) : seed_(seed) {}

  link::SimNetwork& net() { return net_; }
  /// What hosts added from now on start with (their seed and logger are set by
  /// add_host): TCP defaults, buffer sizes, a trace recorder (docs/trace.md).
  stack::StackConfig& host_config() { return host_config_; }
  /// A stack named `name` on `device` (a SimPort or a wrapper around one) with
  /// address `addr`; its MAC is 02:00:00:00:00:NN in the order hosts are added.
  stack::Stack& add_host(const std::string& name, link::Device& device, base::Ipv4Cidr addr,
                         base::Logger logger = {});
  /// Wraps a port in an impairment (owned by the world) and returns the wrapper.
  link::Device& impair(link::Device& device, link::ImpairSpec spec);

  base::Instant now() const { return now_; }
  /// Polls every stack at the current time until nothing more is due now.
  void settle();
  /// Advances virtual time event by event until `d` has passed.
  void run_for(base::Duration d);
  /// Advances until pred() is true or `limit` passes; returns pred().
  bool run_until(const std::function<bool()>& pred, base::Duration limit);

 private:
  std::optional<base::Instant> next_deadline() const;
  std::uint64_t seed_;
  link::SimNetwork net_;
  stack::StackConfig host_config_;
  base::Instant now_ = base::kEpoch + std::chrono::seconds(1);
  std::vector<std::unique_ptr<stack::Stack>> stacks_;
  std::vector<std::unique_ptr<link::Device>> wrappers_;
};

}  // namespace ustack::host

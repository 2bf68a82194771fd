// Stepping stacks on a simulated network through virtual time.
#include "host/sim_world.h"

namespace ustack::host {

stack::Stack& SimWorld::add_host(const std::string& name, link::Device& device, base::Ipv4Cidr addr,
                                 base::Logger logger) {
  stack::StackConfig cfg = host_config_;
  cfg.seed = seed_ * 1000003 + stacks_.size() + 1;
  cfg.logger = std::move(logger);
  auto s = std::make_unique<stack::Stack>(cfg);
  const auto n = static_cast<std::uint8_t>(stacks_.size() + 1);
  s->add_interface(device, {name, base::MacAddr({0x02, 0, 0, 0, 0, n}), addr, std::nullopt});
  // Socket calls made before the first poll must already see the world's time
  // (a connect() at the epoch would find its SYN's timer due at once).
  s->set_time(now_);
  stacks_.push_back(std::move(s));
  return *stacks_.back();
}

link::Device& SimWorld::impair(link::Device& device, link::ImpairSpec spec) {
  wrappers_.push_back(std::make_unique<link::ImpairedDevice>(device, spec));
  return *wrappers_.back();
}

std::optional<base::Instant> SimWorld::next_deadline() const {
  // Frames crossing a switch, and what each stack's devices hold. Not every port's
  // inbox: a port no stack reads (a test's capture port) holds frames that are
  // due and stay due, and would stop virtual time from ever advancing.
  std::optional<base::Instant> next = net_.next_switch_event();
  for (const auto& s : stacks_) {
    auto d = s->next_deadline();
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

void SimWorld::settle() {
  // Zero-delay links and loopback can make more work due at the same instant;
  // a bound keeps a misbehaving device from spinning forever.
  for (int round = 0; round < 1000; ++round) {
    net_.advance(now_);
    for (auto& s : stacks_) s->poll(now_);
    auto next = next_deadline();
    if (!next || *next > now_) return;
  }
}

void SimWorld::run_for(base::Duration d) {
  const base::Instant end = now_ + d;
  settle();
  while (true) {
    auto next = next_deadline();
    if (!next || *next > end) break;
    now_ = std::max(now_, *next);
    settle();
  }
  now_ = end;
  settle();
}

bool SimWorld::run_until(const std::function<bool()>& pred, base::Duration limit) {
  const base::Instant end = now_ + limit;
  settle();
  while (!pred()) {
    auto next = next_deadline();
    if (!next || *next > end) {
      now_ = end;
      settle();
      return pred();
    }
    now_ = std::max(now_, *next);
    settle();
  }
  return true;
}

}  // namespace ustack::host

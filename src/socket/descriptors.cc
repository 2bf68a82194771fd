// The descriptor table.
#include "socket/descriptors.h"

#include <atomic>

namespace ustack::socket {

DescriptorTable& DescriptorTable::instance() {
  static DescriptorTable table;
  return table;
}

int DescriptorTable::allocate(const Descriptor& d) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < table_.size(); ++i) {
    if (!table_[i]) {
      table_[i] = d;
      return static_cast<int>(i);
    }
  }
  if (table_.size() >= kMaxDescriptors) return -1;
  table_.push_back(d);
  return static_cast<int>(table_.size() - 1);
}

std::optional<Descriptor> DescriptorTable::get(int fd) const {
  std::lock_guard lock(mu_);
  if (fd < 0 || static_cast<std::size_t>(fd) >= table_.size()) return std::nullopt;
  return table_[static_cast<std::size_t>(fd)];
}

bool DescriptorTable::update(int fd, const Descriptor& d) {
  std::lock_guard lock(mu_);
  if (fd < 0 || static_cast<std::size_t>(fd) >= table_.size() || !table_[static_cast<std::size_t>(fd)])
    return false;
  table_[static_cast<std::size_t>(fd)] = d;
  return true;
}

void DescriptorTable::release(int fd) {
  std::lock_guard lock(mu_);
  if (fd >= 0 && static_cast<std::size_t>(fd) < table_.size()) table_[static_cast<std::size_t>(fd)].reset();
}

void DescriptorTable::release_runtime(const runtime::Runtime* rt) {
  std::lock_guard lock(mu_);
  for (auto& d : table_)
    if (d && d->runtime == rt) d.reset();
}

namespace {
std::atomic<runtime::Runtime*> g_default{nullptr};
}

void set_default_runtime(runtime::Runtime* rt) { g_default.store(rt); }
runtime::Runtime* default_runtime() { return g_default.load(); }

}  // namespace ustack::socket

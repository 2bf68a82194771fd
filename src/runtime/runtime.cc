// The runtime thread and the inline event loop: ppoll(2) over the devices'
// descriptors and an eventfd, stack.poll(now), and waking blocked callers.
#include "runtime/runtime.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace ustack::runtime {

base::Instant monotonic_now() {
  return base::Instant(std::chrono::duration_cast<base::Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

std::chrono::system_clock::time_point wall_at_epoch() {
  const auto since = monotonic_now().time_since_epoch();
  return std::chrono::system_clock::now() -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(since);
}

Runtime::Runtime(stack::Stack& stack, Mode mode) : stack_(stack), mode_(mode) {
  stack_.set_clock(&monotonic_now);
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Runtime::~Runtime() {
  stop();
  if (event_fd_ >= 0) ::close(event_fd_);
}

void Runtime::start() {
  if (mode_ != Mode::threaded || running_) return;
  running_ = true;
  thread_ = std::thread([this] { thread_main(); });
}

void Runtime::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_ && !thread_.joinable()) return;
    stopping_ = true;
    for (auto& [id, ws] : waiters_)
      for (Waiter* w : ws) w->cv.notify_one();
    for (auto& [l, ws] : listener_waiters_)
      for (Waiter* w : ws) w->cv.notify_one();
  }
  wake_runtime();
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

void Runtime::wake_runtime() {
  if (event_fd_ < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(event_fd_, &one, sizeof one);
}

void Runtime::add_listener(ReadinessListener* l) {
  std::lock_guard lock(mu_);
  listeners_.push_back(l);
}

void Runtime::remove_listener(ReadinessListener* l) {
  std::lock_guard lock(mu_);
  std::erase(listeners_, l);
  listener_waiters_.erase(l);
}

void Runtime::wake_waiters() {
  changed_.clear();
  stack_.take_changed(changed_);
  if (!changed_.empty()) {
    for (ReadinessListener* l : listeners_) {
      if (!l->readiness_changed(changed_)) continue;
      auto it = listener_waiters_.find(l);
      if (it == listener_waiters_.end()) continue;
      for (Waiter* w : it->second) {
        if (w->woken) continue;
        w->woken = true;
        ++stats_.waiter_wakeups;
        w->cv.notify_one();
      }
    }
  }
  for (auto id : changed_) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    for (Waiter* w : it->second) {
      if (w->woken) continue;
      w->woken = true;
      ++stats_.waiter_wakeups;
      w->cv.notify_one();
    }
  }
}

void Runtime::after_call() {
  // What the call sent and a device holds back to batch (TSO coalescing) leaves now.
  stack_.flush_tx();
  wake_waiters();
  // The call may have queued work with an earlier deadline than the runtime
  // thread sleeps for (loopback traffic, an ARP retry): wake it only then.
  if (mode_ != Mode::threaded || !sleeping_) return;
  const auto next = stack_.next_deadline();
  if (next && (!sleeping_until_ || *next < *sleeping_until_)) {
    sleeping_ = false;
    ++stats_.runtime_wakeups;
    wake_runtime();
  }
}

void Runtime::poll_locked() {
  ++stats_.polls;
  stack_.poll(monotonic_now());
  wake_waiters();
}

std::vector<pollfd> Runtime::device_fds() {
  std::vector<pollfd> fds;
  for (int fd : stack_.pollable_fds()) fds.push_back({fd, POLLIN, 0});
  if (event_fd_ >= 0) fds.push_back({event_fd_, POLLIN, 0});
  return fds;
}

int Runtime::wait_for_devices(std::vector<pollfd>& fds, std::optional<base::Instant> deadline) {
  // ppoll with a nanosecond timeout: TCP's timers here are finer than a
  // millisecond (pacing gaps of microseconds, a loss probe at 2*SRTT + 2 ms on a
  // path of tens of microseconds). poll(2)'s whole milliseconds, rounded up, held
  // every paced segment and every probe up to 1 ms late (interop test 20: ~100
  // gaps of 1.1 ms in one lossy transfer). The kernel's hrtimer wakes us no
  // earlier than the deadline, plus the thread's timer slack (50 us by default).
  timespec ts{};
  const timespec* timeout = nullptr;
  if (deadline) {
    const auto left = std::max(*deadline - monotonic_now(), base::Duration::zero());
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
    ts.tv_sec = static_cast<time_t>(secs.count());
    ts.tv_nsec = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - secs).count());
    timeout = &ts;
  }
  const int n = ::ppoll(fds.data(), fds.size(), timeout, nullptr);
  if (n > 0 && event_fd_ >= 0 && (fds.back().revents & POLLIN)) {
    std::uint64_t v;
    [[maybe_unused]] auto r = ::read(event_fd_, &v, sizeof v);
  }
  return n;
}

void Runtime::run_once(std::optional<base::Instant> deadline) {
  std::optional<base::Instant> until;
  std::vector<pollfd> fds;
  {
    std::lock_guard lock(mu_);
    poll_locked();
    // The poll changed some socket's readiness (a loopback datagram delivered, an
    // error reported): return, so that the caller sees it before anything sleeps,
    // rather than after the devices' wait ran to its deadline.
    if (!changed_.empty()) return;
    until = stack_.next_deadline();
    fds = device_fds();
  }
  if (deadline && (!until || *deadline < *until)) until = deadline;
  wait_for_devices(fds, until);
  std::lock_guard lock(mu_);
  poll_locked();
}

void Runtime::thread_main() {
  // Named so that top -H, perf and gdb tell the stack's thread from the
  // application's (15 characters at most).
  ::pthread_setname_np(::pthread_self(), "ustack-runtime");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    poll_locked();
    sleeping_until_ = stack_.next_deadline();
    sleeping_ = true;
    const auto until = sleeping_until_;
    auto fds = device_fds();
    lock.unlock();
    wait_for_devices(fds, until);
    lock.lock();
    sleeping_ = false;
  }
}

}  // namespace ustack::runtime

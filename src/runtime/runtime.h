// The runtime: the one place that reads the real clock and sleeps. It drives a
// Stack from one thread (or inline, in the caller's thread, for single-threaded
// programs) and wakes application threads blocked on sockets only when the
// readiness of their socket changed, at most once per batch of packets.
#pragma once

#include <poll.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/time.h"
#include "stack/stack.h"

namespace ustack::runtime {

/// What the runtime has done, for tests and tools (read under the lock via call()).
struct RuntimeStats {
  std::uint64_t polls = 0;          // stack.poll() rounds
  std::uint64_t waiter_wakeups = 0; // condition-variable notifications of blocked callers
  std::uint64_t runtime_wakeups = 0;  // eventfd writes to wake the runtime thread
};

enum class Mode {
  threaded,  // a runtime thread polls devices; application threads block on condition variables
  inline_loop,  // no thread: a call that must wait drives the stack itself (an event loop)
};

/// Told, under the runtime lock, of every socket whose readiness may have
/// changed (after each poll and each call), so that an epoll instance keeps a
/// ready list instead of scanning all its sockets on every wait.
class ReadinessListener {
 public:
  virtual ~ReadinessListener() = default;
  /// Returns true to wake the threads blocked in wait_listener() on this listener.
  virtual bool readiness_changed(std::span<const stack::SocketId> ids) = 0;
};

/// The stack's Instant for the real monotonic clock now.
base::Instant monotonic_now();
/// The wall-clock time that corresponds to base::kEpoch (for pcap timestamps).
std::chrono::system_clock::time_point wall_at_epoch();

class Runtime {
 public:
  Runtime(stack::Stack& stack, Mode mode);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Starts the runtime thread (threaded mode); a no-op inline.
  void start();
  /// Stops and joins the runtime thread. Safe to call twice.
  void stop();
  Mode mode() const { return mode_; }

  /// Runs f(stack) under the stack lock with the clock set, then lets waiters
  /// and the runtime thread know what changed. f must not block.
  template <class F>
  auto call(F&& f) {
    std::unique_lock lock(mu_);
    stack_.set_time(monotonic_now());
    auto result = f(stack_);
    after_call();
    return result;
  }

  /// Blocks until `ready()` (evaluated under the lock) is true, or `deadline`
  /// passes. Wakes when any of `ids` changes readiness. Returns ready()'s last value.
  template <class Ready>
  bool wait(std::span<const stack::SocketId> ids, std::optional<base::Instant> deadline, Ready&& ready) {
    std::unique_lock lock(mu_);
    return wait_locked(lock, ids, deadline, [&] { return ready(stack_); });
  }

  /// Registers (or removes) a listener of readiness changes. Takes the lock.
  void add_listener(ReadinessListener* l);
  void remove_listener(ReadinessListener* l);
  /// Like wait(), but woken when `listener` asks for it rather than by socket ids.
  template <class Ready>
  bool wait_listener(ReadinessListener& listener, std::optional<base::Instant> deadline, Ready&& ready) {
    std::unique_lock lock(mu_);
    return wait_locked(lock, {}, deadline, [&] { return ready(stack_); }, &listener);
  }

  /// Inline mode: polls the devices once, waiting at most until `deadline` for
  /// something to happen. Threaded mode: sleeps until the deadline.
  void run_once(std::optional<base::Instant> deadline);

  stack::Stack& stack_unlocked() { return stack_; }
  /// A copy of the counters, taken under the lock.
  RuntimeStats stats() {
    std::lock_guard lock(mu_);
    return stats_;
  }
  std::mutex& mutex() { return mu_; }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool woken = false;
  };
  template <class Ready>
  bool wait_locked(std::unique_lock<std::mutex>& lock, std::span<const stack::SocketId> ids,
                   std::optional<base::Instant> deadline, Ready&& ready,
                   ReadinessListener* listener = nullptr) {
    while (true) {
      stack_.set_time(monotonic_now());
      if (ready()) return true;
      if (deadline && monotonic_now() >= *deadline) return false;
      if (mode_ == Mode::inline_loop) {
        lock.unlock();
        run_once(deadline);
        lock.lock();
        continue;
      }
      Waiter w;
      for (auto id : ids) waiters_[id].push_back(&w);
      if (listener) listener_waiters_[listener].push_back(&w);
      if (deadline) {
        const auto real = std::chrono::steady_clock::time_point(deadline->time_since_epoch());
        w.cv.wait_until(lock, real, [&] { return w.woken || stopping_; });
      } else {
        w.cv.wait(lock, [&] { return w.woken || stopping_; });
      }
      for (auto id : ids) std::erase(waiters_[id], &w);
      if (listener) std::erase(listener_waiters_[listener], &w);
      if (stopping_) return ready();
    }
  }
  void after_call();
  void wake_waiters();      // under the lock
  void wake_runtime();      // eventfd
  void poll_locked();       // under the lock: stack.poll + wake waiters
  void thread_main();
  int wait_for_devices(std::vector<pollfd>& fds, std::optional<base::Instant> deadline);
  std::vector<pollfd> device_fds();  // under the lock

  stack::Stack& stack_;
  Mode mode_;
  std::mutex mu_;
  std::thread thread_;
  bool running_ = false;
  bool stopping_ = false;
  int event_fd_ = -1;
  std::optional<base::Instant> sleeping_until_;  // what the runtime thread waits for
  bool sleeping_ = false;
  std::unordered_map<stack::SocketId, std::vector<Waiter*>> waiters_;
  std::vector<stack::SocketId> changed_;
  std::vector<ReadinessListener*> listeners_;
  std::unordered_map<ReadinessListener*, std::vector<Waiter*>> listener_waiters_;
  RuntimeStats stats_;
};

}  // namespace ustack::runtime

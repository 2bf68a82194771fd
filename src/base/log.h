// Logging through an injected sink; formatting happens only when the level is on.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string_view>
#include <utility>

namespace ustack::base {

enum class LogLevel { trace = 0, debug, info, warn, error, off };

class Logger {
 public:
  using Sink = std::function<void(LogLevel, std::string_view)>;

  Logger() = default;
  Logger(LogLevel min, Sink sink) : min_(min), sink_(std::move(sink)) {}

  bool enabled(LogLevel l) const { return l >= min_ && sink_; }
  void set_level(LogLevel l) { min_ = l; }

  template <class... Args>
  void log(LogLevel l, fmt::format_string<Args...> f, Args&&... args) const {
    if (enabled(l)) sink_(l, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) const { log(LogLevel::debug, f, std::forward<Args>(a)...); }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) const { log(LogLevel::info, f, std::forward<Args>(a)...); }
  template <class... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) const { log(LogLevel::warn, f, std::forward<Args>(a)...); }

 private:
  LogLevel min_ = LogLevel::off;
  Sink sink_;
};

}  // namespace ustack::base

// The names a script may use for constants (SOL_SOCKET, O_NONBLOCK, POLLIN, ...)
// and errno values, with Linux's values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ustack::script {

/// A constant by name (errno names included, for getsockopt's SO_ERROR).
std::optional<std::int64_t> symbol_value(std::string_view name);
/// An errno value by name ("EAGAIN").
std::optional<int> errno_value(std::string_view name);
/// The name of an errno value ("EAGAIN" for 11), or its number.
std::string errno_name(int value);

}  // namespace ustack::script

// Why a wire parser refused its input. The stack counts drops by these reasons.
#pragma once

#include <string_view>

#include "base/result.h"

namespace ustack::wire {

enum class ParseError {
  truncated,        // fewer bytes than the header or its length fields claim
  bad_version,      // IPv4 version field is not 4
  bad_header_len,   // IHL / data offset below the minimum or past the buffer
  bad_length,       // a total/length field that contradicts the header or buffer
  bad_checksum,     // Internet checksum does not verify
  bad_option,       // an option with an impossible length
  unsupported,      // well-formed but not handled (e.g. ARP for a non-IPv4 protocol)
};

std::string_view to_string(ParseError e);

template <class T>
using Parsed = base::Result<T, ParseError>;

}  // namespace ustack::wire

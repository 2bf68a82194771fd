// Names of the wire parsers' refusal reasons, for logs and drop counters.
#include "wire/parse_error.h"

namespace ustack::wire {

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::truncated: return "truncated";
    case ParseError::bad_version: return "bad_version";
    case ParseError::bad_header_len: return "bad_header_len";
    case ParseError::bad_length: return "bad_length";
    case ParseError::bad_checksum: return "bad_checksum";
    case ParseError::bad_option: return "bad_option";
    case ParseError::unsupported: return "unsupported";
  }
  return "unknown";
}

}  // namespace ustack::wire

// Parses packetdrill's script syntax (the subset in docs/script.md) into a Script.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "script/script.h"

namespace ustack::script {

/// Parses a whole script. Unknown system calls, symbols or TCP options are
/// syntax errors: a script that cannot run as written never half-runs.
base::Result<Script, SyntaxError> parse(std::string_view text, std::string filename = "<script>");

/// `0.100000`: microseconds as seconds, as packetdrill prints times.
std::string format_seconds(Micros us);

}  // namespace ustack::script

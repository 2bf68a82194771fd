// A per-connection TCP trace (docs/trace.md) written to a file: the recorder of
// src/tcp/trace.h with a buffered file as its sink.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "tcp/trace.h"

namespace ustack::host {

/// Creates (truncates) `path` and returns a recorder writing CSV to it, at most
/// `max_bytes` of rows; the file is flushed and closed when the last owner of the
/// recorder lets it go. On failure, a message naming the path and the reason.
base::Result<std::shared_ptr<tcp::TraceRecorder>, std::string> open_tcp_trace(
    const std::string& path, std::size_t max_bytes = tcp::TraceRecorder::kDefaultMaxBytes);

}  // namespace ustack::host

// open_tcp_trace(): the trace recorder over a stdio file.
#include "host/trace_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ustack::host {

base::Result<std::shared_ptr<tcp::TraceRecorder>, std::string> open_tcp_trace(const std::string& path,
                                                                             std::size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return "cannot write TCP trace " + path + ": " + std::strerror(errno);
  std::shared_ptr<std::FILE> file(f, [](std::FILE* p) { std::fclose(p); });
  std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
  auto sink = [file](std::string_view text) {
    return std::fwrite(text.data(), 1, text.size(), file.get()) == text.size();
  };
  auto flush = [file] { std::fflush(file.get()); };
  return std::make_shared<tcp::TraceRecorder>(std::move(sink), max_bytes, std::move(flush));
}

}  // namespace ustack::host

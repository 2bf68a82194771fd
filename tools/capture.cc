// `ustack capture [-w FILE] [-c COUNT] [FILTER...]`: attaches to a running
// ustack host through its control socket and streams the frames crossing its
// device as pcap, live, as `tcpdump -w` does: `ustack capture -w - | tshark -r -`.
// The filter is tcpdump's language (compiled by libpcap in the host).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli.h"
#include "ctl/client.h"
#include "link/pcap.h"

namespace ustack::tools {
namespace {

struct CaptureOptions {
  std::string ctl;
  std::string write;  // -w: a file, or "-" for standard output
  std::uint64_t count = 0;  // -c: stop after this many frames; 0: until stopped
  bool quiet = false;
  std::vector<std::string> filter;
};

/// Walks a pcap stream to find record boundaries, so that -c stops after a
/// whole record and the count printed at the end is exact.
class RecordCounter {
 public:
  /// How many of `n` bytes to keep so that at most `limit` records are complete
  /// (limit 0: all); counts the records completed.
  std::size_t feed(const char* data, std::size_t n, std::uint64_t limit) {
    std::size_t used = 0;
    while (used < n) {
      if (limit != 0 && records_ >= limit) return used;
      const std::size_t take = std::min(n - used, need_ - have_);
      if (have_ < sizeof header_ && phase_ != Phase::body) {
        std::memcpy(header_ + have_, data + used, std::min(take, sizeof header_ - have_));
      }
      have_ += take;
      used += take;
      if (have_ < need_) break;
      advance();
    }
    return used;
  }
  std::uint64_t records() const { return records_; }

 private:
  enum class Phase { global, record_header, body };
  void advance() {
    have_ = 0;
    switch (phase_) {
      case Phase::global:
        phase_ = Phase::record_header;
        need_ = 16;
        break;
      case Phase::record_header: {
        std::uint32_t caplen = 0;
        std::memcpy(&caplen, header_ + 8, sizeof caplen);  // host byte order, as the host wrote it
        if (caplen == 0) {
          ++records_;
          need_ = 16;
        } else {
          phase_ = Phase::body;
          need_ = caplen;
        }
        break;
      }
      case Phase::body:
        ++records_;
        phase_ = Phase::record_header;
        need_ = 16;
        break;
    }
  }

  Phase phase_ = Phase::global;
  std::size_t need_ = 24, have_ = 0;
  char header_[24] = {};
  std::uint64_t records_ = 0;
};

/// Writes all of `data`; false when the reader is gone (EPIPE) or on error.
bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

int run_capture(const CaptureOptions& o) {
  int out = -1;
  bool own_out = false;
  if (o.write.empty() || o.write == "-") {
    if (o.write.empty() && ::isatty(STDOUT_FILENO)) {
      std::fprintf(stderr, "ustack capture: not writing pcap to a terminal; use -w FILE, or -w - | tshark -r -\n");
      return 2;
    }
    out = STDOUT_FILENO;
  } else {
    out = ::open(o.write.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
      std::fprintf(stderr, "ustack capture: cannot create %s: %s\n", o.write.c_str(), std::strerror(errno));
      return 1;
    }
    own_out = true;
  }
  auto ep = ctl::pick_one(o.ctl);
  if (!ep) {
    std::fprintf(stderr, "ustack capture: %s\n", ep.error().c_str());
    return 1;
  }
  std::string filter;
  for (const auto& word : o.filter) filter += (filter.empty() ? "" : " ") + word;
  auto stream = ctl::start_capture(ep->path, filter);
  if (!stream) {
    std::fprintf(stderr, "ustack capture: %s\n", stream.error().c_str());
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a reader that stops (tshark -c) ends us through EPIPE
  block_stop_signals();
  if (!o.quiet) {
    std::fprintf(stderr, "ustack capture: pid %d%s%s\n", ep->pid, filter.empty() ? "" : ", filter: ",
                 filter.c_str());
  }

  RecordCounter counter;
  std::string why = "stopped";
  auto deliver = [&](const char* data, std::size_t n) {
    const std::size_t keep = counter.feed(data, n, o.count);
    if (!write_all(out, data, keep)) {
      why = "the reader went away";
      return false;
    }
    if (o.count != 0 && counter.records() >= o.count) return false;
    return true;
  };
  bool going = deliver(stream->already.data(), stream->already.size());
  std::vector<char> buf(1 << 16);
  while (going && !stop_requested()) {
    pollfd p{stream->fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 200);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    const ssize_t n = ::recv(stream->fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = "the host stopped";
      break;
    }
    going = deliver(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(stream->fd);
  if (own_out && ::close(out) != 0) {
    std::fprintf(stderr, "ustack capture: writing %s: %s\n", o.write.c_str(), std::strerror(errno));
    return 1;
  }
  if (!o.quiet) {
    std::fprintf(stderr, "%llu packet%s captured (%s)\n", static_cast<unsigned long long>(counter.records()),
                 counter.records() == 1 ? "" : "s", why.c_str());
  }
  return 0;
}

}  // namespace

void register_capture(CLI::App& app) {
  auto o = std::make_shared<CaptureOptions>();
  auto* cmd = app.add_subcommand("capture", "Stream a running ustack host's frames as pcap (as tcpdump -w)");
  cmd->add_option("-w,--write", o->write, "Write to this file, or - for standard output (the default when it is not a terminal)");
  cmd->add_option("-c,--count", o->count, "Stop after this many frames");
  cmd->add_flag("-q,--quiet", o->quiet, "Print nothing on standard error");
  cmd->add_option("--ctl", o->ctl, "Attach to the ustack process behind this control socket (see `ustack ss -p`)");
  cmd->add_option("filter", o->filter, "A capture filter in tcpdump's language, e.g. tcp port 80");
  cmd->callback([o] { std::exit(run_capture(*o)); });
}

}  // namespace ustack::tools

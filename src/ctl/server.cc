// The control endpoint: an accept loop on a Unix socket, woken by poll() for a
// connection or for the stop eventfd; one request per connection.
#include "ctl/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ustack::ctl {
namespace {

using Fail = std::string;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

/// Serving a client never blocks the thread for long: a slow or silent client
/// is dropped after this.
constexpr int kClientTimeoutMs = 2000;

std::atomic<int> g_servers_started{0};  // a second host in this process gets <pid>-N.sock

}  // namespace

std::string control_dir() {
  if (const char* d = std::getenv("USTACK_CTL_DIR"); d && *d) return d;
  if (::geteuid() == 0) return "/run/ustack";
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/ustack";
  return "/tmp/ustack-" + std::to_string(::geteuid());
}

base::Result<void, std::string> ensure_control_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Fail(errno_text("cannot make " + dir));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return Fail(errno_text("cannot stat " + dir));
  if (!S_ISDIR(st.st_mode)) return Fail(dir + " is not a directory");
  if (st.st_uid != ::geteuid()) return Fail(dir + " belongs to another user (uid " + std::to_string(st.st_uid) + ")");
  if (st.st_mode & 022) return Fail(dir + " is writable by others (want mode 0700)");
  return {};
}

base::Result<std::unique_ptr<Server>, std::string> Server::start(const ServerOptions& o, SnapshotFn snapshot) {
  const std::string dir = o.dir.empty() ? control_dir() : o.dir;
  if (auto ok = ensure_control_dir(dir); !ok) return ok.error();
  std::unique_ptr<Server> s(new Server);
  s->pid_ = o.pid ? o.pid : static_cast<int>(::getpid());
  s->program_ = o.program;
  s->snapshot_ = std::move(snapshot);
  const int n = g_servers_started.fetch_add(1);
  s->path_ = dir + "/" + std::to_string(s->pid_) + (n == 0 ? "" : "-" + std::to_string(n)) + ".sock";

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (s->path_.size() >= sizeof addr.sun_path) return Fail("control socket path too long: " + s->path_);
  std::memcpy(addr.sun_path, s->path_.c_str(), s->path_.size() + 1);
  s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->listen_fd_ < 0) return Fail(errno_text("control socket"));
  // A file of this name is a leftover of an earlier process with our pid.
  ::unlink(s->path_.c_str());
  if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Fail(errno_text("cannot bind " + s->path_));
  }
  // The directory is 0700, so nobody else reaches the socket before this.
  if (::chmod(s->path_.c_str(), 0600) != 0 || ::listen(s->listen_fd_, 16) != 0) {
    const std::string why = errno_text("cannot listen on " + s->path_);
    ::unlink(s->path_.c_str());
    return why;
  }
  s->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->stop_fd_ < 0) {
    ::unlink(s->path_.c_str());
    return Fail(errno_text("eventfd"));
  }
  s->thread_ = std::thread([srv = s.get()] { srv->run(); });
  return s;
}

Server::~Server() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void Server::run() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EAGAIN, a client gone, or out of descriptors: try again at the next wakeup
    serve_one(fd);
    ::close(fd);
  }
}

void Server::serve_one(int fd) {
  const timeval tv{kClientTimeoutMs / 1000, (kClientTimeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string request;
  char buf[256];
  bool complete = false;
  while (request.size() <= kMaxRequestLen) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    request.append(buf, static_cast<std::size_t>(n));
    if (request.find('\n') != std::string::npos) {
      complete = true;
      break;
    }
  }
  std::string reply;
  if (!complete && request.size() > kMaxRequestLen) {
    reply = std::string(kGreeting) + " " + std::to_string(kProtocolVersion) + "\nerror request longer than " +
            std::to_string(kMaxRequestLen) + " bytes\n";
  } else if (!complete && request.empty()) {
    return;  // the client went away (or is a liveness probe)
  } else {
    request.resize(std::min(request.find('\n'), request.size()));
    if (!request.empty() && request.back() == '\r') request.pop_back();
    reply = answer(request);
  }
  for (std::size_t off = 0; off < reply.size();) {
    const ssize_t n = ::send(fd, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
  ++served_;
}

std::string Server::answer(std::string_view request) const {
  std::string out = std::string(kGreeting) + " " + std::to_string(kProtocolVersion) + "\n";
  if (request == "hello") {
    // Only the identity: version, program, pid (the lists stay empty).
    out += "{\"version\":" + std::to_string(kProtocolVersion) + ",\"program\":";
    out += "\"";
    for (char c : program_) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    out += "\",\"pid\":" + std::to_string(pid_) + "}\n";
    return out;
  }
  if (request == "snapshot") {
    Snapshot s = snapshot_();
    s.program = program_;
    s.pid = pid_;
    out += to_json(s);
    out += "\n";
    return out;
  }
  if (request.starts_with("capture")) return out + "error capture is not implemented yet\n";
  std::string shown(request.substr(0, 64));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out + "error unknown request '" + shown + "' (want hello or snapshot)\n";
}

}  // namespace ustack::ctl

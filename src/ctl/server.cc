// The control endpoint: one poll() loop over the listening Unix socket, the
// stop and wake eventfds and every client, all non-blocking. A client sends one
// request line and gets its answer; a capture client then gets frames as they
// come until it hangs up or the host stops.
#include "ctl/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ustack::ctl {
namespace {

using Fail = std::string;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

/// A client that has not sent its request, or not read its answer, after this
/// is dropped. A capture client has no limit.
constexpr auto kClientTimeout = std::chrono::milliseconds(2000);

using Clock = std::chrono::steady_clock;

std::string greeting() { return std::string(kGreeting) + " " + std::to_string(kProtocolVersion) + "\n"; }

std::atomic<int> g_servers_started{0};  // a second host in this process gets <pid>-N.sock

}  // namespace

RequestLine take_request_line(std::string_view received) {
  const auto nl = received.find('\n');
  if (nl != std::string_view::npos && nl <= kMaxRequestLen) {
    std::string_view line = received.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return {RequestLine::Kind::line, line};
  }
  if (received.size() > kMaxRequestLen) return {RequestLine::Kind::too_long, {}};
  return {};
}

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

struct Server::Client {
  enum class Phase { request, answer, stream };
  int fd = -1;
  Phase phase = Phase::request;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  Clock::time_point deadline;
  std::shared_ptr<link::CaptureSubscription> capture;
};

base::Result<std::unique_ptr<Server>, std::string> Server::start(const ServerOptions& o, SnapshotFn snapshot,
                                                                CaptureFn capture) {
  const std::string dir = o.dir.empty() ? control_dir() : o.dir;
  if (auto ok = ensure_control_dir(dir); !ok) return ok.error();
  std::unique_ptr<Server> s(new Server);
  s->pid_ = o.pid ? o.pid : static_cast<int>(::getpid());
  s->program_ = o.program;
  s->snapshot_ = std::move(snapshot);
  s->capture_ = std::move(capture);
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
  if (const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); wake >= 0) {
    s->wake_fd_ = std::shared_ptr<const int>(new int(wake), [](const int* fd) {
      ::close(*fd);
      delete fd;
    });
  }
  if (s->stop_fd_ < 0 || !s->wake_fd_) {
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
  std::vector<Client> clients;
  std::vector<pollfd> fds;
  auto drop = [&](std::size_t i) {
    if (clients[i].capture) --captures_active_;
    ::close(clients[i].fd);
    clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
  };
  while (true) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({stop_fd_, POLLIN, 0});
    fds.push_back({*wake_fd_, POLLIN, 0});
    int timeout_ms = -1;
    const Clock::time_point now = Clock::now();
    for (const Client& c : clients) {
      short events = 0;
      if (c.phase != Client::Phase::answer) events |= POLLIN;  // a request, or a capture client hanging up
      if (c.sent < c.out.size()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      if (c.phase != Client::Phase::stream) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(c.deadline - now).count();
        const int ms = static_cast<int>(std::max<long long>(0, left));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    if (fds[2].revents & POLLIN) {
      std::uint64_t n = 0;
      [[maybe_unused]] auto r = ::read(*wake_fd_, &n, sizeof n);
    }
    // Clients first (indices match fds[3 + i]); walk backwards so drops keep them valid.
    const Clock::time_point after = Clock::now();
    for (std::size_t i = clients.size(); i-- > 0;) {
      Client& c = clients[i];
      const short rev = fds[3 + i].revents;
      bool keep = true;
      if (rev & (POLLIN | POLLHUP | POLLERR)) {
        char buf[512];
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          keep = false;  // gone (a capture reader stopping, or a liveness probe)
        } else if (n > 0 && c.phase == Client::Phase::request) {
          c.in.append(buf, static_cast<std::size_t>(n));
          const RequestLine r = take_request_line(c.in);
          if (r.kind == RequestLine::Kind::line) {
            on_request(c, std::string(r.line));
          } else if (r.kind == RequestLine::Kind::too_long) {
            c.out = greeting() + "error request longer than " + std::to_string(kMaxRequestLen) + " bytes\n";
            c.phase = Client::Phase::answer;
            c.deadline = after + kClientTimeout;
          }
        }
        // Bytes after the request are ignored.
      }
      if (keep) keep = pump(c);
      if (keep && c.phase != Client::Phase::stream && after >= c.deadline) keep = false;  // too slow
      if (!keep) drop(i);
    }
    if (fds[0].revents & POLLIN) {
      while (true) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;  // EAGAIN, a client gone, or out of descriptors: try again at the next wakeup
        if (clients.size() >= kMaxClients) {
          const std::string busy = greeting() + "error busy (" + std::to_string(kMaxClients) + " clients)\n";
          [[maybe_unused]] auto n = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          ::close(fd);
          continue;
        }
        Client c;
        c.fd = fd;
        c.deadline = Clock::now() + kClientTimeout;
        clients.push_back(std::move(c));
      }
    }
  }
  while (!clients.empty()) drop(clients.size() - 1);
}

void Server::on_request(Client& c, std::string_view request) {
  c.deadline = Clock::now() + kClientTimeout;
  c.phase = Client::Phase::answer;
  if (request != "capture" && !request.starts_with("capture ")) {
    c.out = answer(request);
    return;
  }
  if (!capture_) {
    c.out = greeting() + "error this host has no capture point\n";
    return;
  }
  const std::string_view filter = request.substr(std::min(request.size(), std::string_view("capture ").size()));
  auto sub = capture_(filter, [wake = wake_fd_] {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(*wake, &one, sizeof one);
  });
  if (!sub) {
    c.out = greeting() + "error " + sub.error() + "\n";
    return;
  }
  c.capture = std::move(*sub);
  c.phase = Client::Phase::stream;
  c.out = greeting() + "ok pcap\n" + c.capture->take();  // the pcap global header first
  ++captures_active_;
  ++served_;
}

bool Server::pump(Client& c) {
  while (true) {
    if (c.sent == c.out.size()) {
      if (c.phase == Client::Phase::answer && !c.out.empty()) {
        ++served_;
        return false;  // answered: close
      }
      if (c.phase != Client::Phase::stream) return true;
      c.out = c.capture->take();
      c.sent = 0;
      if (c.out.empty()) return true;  // the data path wakes us when frames wait
    }
    const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // the reader is behind
    if (n <= 0) return false;
    c.sent += static_cast<std::size_t>(n);
  }
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
  if (request == "capture" || request.starts_with("capture ")) return out + "error capture needs a streaming client\n";
  std::string shown(request.substr(0, 64));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out + "error unknown request '" + shown + "' (want hello, snapshot or capture)\n";
}

}  // namespace ustack::ctl

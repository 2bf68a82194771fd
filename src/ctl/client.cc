// Control endpoint client: discovery by directory listing, one request per connection.
#include "ctl/client.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "ctl/server.h"

namespace ustack::ctl {
namespace {

using Fail = std::string;

/// `<pid>.sock` or `<pid>-N.sock` -> pid; 0 for any other name.
int pid_of(const std::string& name) {
  if (!name.ends_with(".sock")) return 0;
  int pid = 0;
  std::size_t i = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && pid < 100000000; ++i) pid = pid * 10 + (name[i] - '0');
  if (i == 0 || (name[i] != '.' && name[i] != '-')) return 0;
  return pid;
}

/// A connected socket, or -1 with errno set.
int connect_to(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

std::string list_of(const std::vector<Endpoint>& eps) {
  std::string s;
  for (const auto& e : eps) s += "\n  --ctl " + e.path + "  (pid " + std::to_string(e.pid) + ")";
  return s;
}

}  // namespace

base::Result<std::vector<Endpoint>, std::string> discover(const std::string& dir_in) {
  const std::string dir = dir_in.empty() ? control_dir() : dir_in;
  std::vector<Endpoint> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return Fail("cannot list " + dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  for (const auto& name : names) {
    const int pid = pid_of(name);
    if (pid <= 0) continue;
    const std::string path = dir + "/" + name;
    const int fd = connect_to(path);
    if (fd < 0) {
      // Nobody listens. Remove the file only if its process is gone: a live
      // process may be between bind() and listen().
      if (::kill(pid, 0) != 0 && errno == ESRCH) ::unlink(path.c_str());
      continue;
    }
    ::close(fd);  // the server sees an empty request and drops it
    out.push_back({path, pid});
  }
  std::sort(out.begin(), out.end(), [](const Endpoint& a, const Endpoint& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.path < b.path;
  });
  return out;
}

base::Result<Endpoint, std::string> pick_one(const std::string& ctl_path, const std::string& dir_in) {
  if (!ctl_path.empty()) {
    const auto slash = ctl_path.rfind('/');
    return Endpoint{ctl_path, pid_of(slash == std::string::npos ? ctl_path : ctl_path.substr(slash + 1))};
  }
  const std::string dir = dir_in.empty() ? control_dir() : dir_in;
  auto eps = discover(dir);
  if (!eps) return eps.error();
  if (eps->empty()) return Fail("no ustack process is running (no control socket in " + dir + ")");
  if (eps->size() > 1) return Fail(std::to_string(eps->size()) + " ustack processes are running; pick one:" + list_of(*eps));
  return eps->front();
}

base::Result<Reply, std::string> request(const std::string& path, const std::string& line, int timeout_ms) {
  const int fd = connect_to(path);
  if (fd < 0) return Fail("cannot connect to " + path + ": " + std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto left_ms = [&] {
    const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, d.count()));
  };
  const std::string req = line + "\n";
  std::string in;
  bool ok = ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  char buf[65536];
  while (ok) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, left_ms());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ::close(fd);
      return Fail("no answer from " + path + " within " + std::to_string(timeout_ms) + " ms");
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  const int e = errno;
  ::close(fd);
  if (!ok) return Fail("talking to " + path + ": " + std::strerror(e));
  const auto nl = in.find('\n');
  const std::string greeting = in.substr(0, nl);
  const std::string prefix = std::string(kGreeting) + " ";
  if (nl == std::string::npos || !greeting.starts_with(prefix)) {
    return Fail(path + " does not speak the ustack control protocol (answered '" + greeting.substr(0, 40) + "')");
  }
  Reply reply;
  reply.version = std::atoi(greeting.c_str() + prefix.size());
  if (reply.version != kProtocolVersion) {
    return Fail(path + " speaks control protocol version " + std::to_string(reply.version) + ", this ustack " +
                std::to_string(kProtocolVersion));
  }
  reply.body = in.substr(nl + 1);
  if (reply.body.starts_with("error ")) {
    std::string why = reply.body.substr(6);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Fail(path + ": " + why);
  }
  return reply;
}

base::Result<Snapshot, std::string> fetch_snapshot(const std::string& path, int timeout_ms) {
  auto reply = request(path, "snapshot", timeout_ms);
  if (!reply) return reply.error();
  auto snap = from_json(reply->body);
  if (!snap) return Fail(path + ": bad snapshot: " + snap.error());
  return std::move(*snap);
}

base::Result<CaptureStream, std::string> start_capture(const std::string& path, const std::string& filter,
                                                       int timeout_ms) {
  if (filter.find('\n') != std::string::npos) return Fail("a filter is one line");
  const int fd = connect_to(path);
  if (fd < 0) return Fail("cannot connect to " + path + ": " + std::strerror(errno));
  const std::string req = "capture " + filter + "\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    const int e = errno;
    ::close(fd);
    return Fail("talking to " + path + ": " + std::strerror(e));
  }
  // Two lines: the greeting, then "ok pcap" or "error ...".
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string in;
  char buf[4096];
  auto lines = [&] { return std::count(in.begin(), in.end(), '\n'); };
  while (lines() < 2) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ::close(fd);
      return Fail("no answer from " + path + " within " + std::to_string(timeout_ms) + " ms");
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  const auto nl1 = in.find('\n');
  const std::string prefix = std::string(kGreeting) + " ";
  if (nl1 == std::string::npos || !in.starts_with(prefix)) {
    ::close(fd);
    return Fail(path + " does not speak the ustack control protocol");
  }
  const auto nl2 = in.find('\n', nl1 + 1);
  const std::string answer = in.substr(nl1 + 1, nl2 == std::string::npos ? std::string::npos : nl2 - nl1 - 1);
  if (answer != "ok pcap") {
    ::close(fd);
    if (answer.starts_with("error ")) return Fail(path + ": " + answer.substr(6));
    return Fail(path + ": unexpected answer '" + answer.substr(0, 60) + "'");
  }
  return CaptureStream{fd, in.substr(nl2 + 1)};
}

}  // namespace ustack::ctl

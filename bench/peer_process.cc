#include "bench/peer_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/suite_util.h"

namespace ustack::bench {

std::unique_ptr<PeerProcess> PeerProcess::start(const std::vector<std::string>& argv, std::string* why) {
  if (argv.empty() || ::access(argv[0].c_str(), X_OK) != 0) {
    *why = "cannot run " + (argv.empty() ? std::string("(nothing)") : argv[0]);
    return nullptr;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    *why = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    *why = std::string("fork: ") + std::strerror(errno);
    ::close(p[0]);
    ::close(p[1]);
    return nullptr;
  }
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(p[1]);
  return std::unique_ptr<PeerProcess>(new PeerProcess(pid, p[0]));
}

PeerProcess::~PeerProcess() {
  if (pid_ > 0) wait(0);
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> PeerProcess::line_starting(const std::string& prefix, double seconds) {
  Stopwatch sw;
  while (true) {
    for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.rfind(prefix, 0) == 0) return line;
      other_ += line + "\n";
      if (other_.size() > 500) other_.erase(0, other_.size() - 500);
    }
    const double left = seconds - sw.seconds();
    if (fd_ < 0 || left <= 0) return std::nullopt;
    pollfd pfd{fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(fd_);
      fd_ = -1;
      if (!buffer_.empty()) buffer_ += '\n';  // a last line without its newline
      continue;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

int PeerProcess::wait(double seconds) {
  if (pid_ <= 0) return -1;
  Stopwatch sw;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) {
      pid_ = 0;
      return -1;
    }
    if (sw.seconds() >= seconds) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = 0;
      return -1;
    }
    ::usleep(10000);
  }
  pid_ = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string PeerProcess::output() const { return other_ + buffer_; }

}  // namespace ustack::bench

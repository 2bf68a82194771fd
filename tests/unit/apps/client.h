// A blocking test client over a SocketCalls table (Linux's or ustack's), with
// a receive timeout so that a server that never answers fails the test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "apps/calls.h"

namespace ustack::apps::testing {

class Client {
 public:
  Client(const SocketCalls& calls, std::uint16_t port) : calls_(calls) {
    fd_ = calls_.socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};  // a stall fails the test instead of hanging it
    calls_.setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    calls_.setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = calls_.connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    connect_errno_ = connected_ ? 0 : errno;
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) calls_.close(fd_);
    fd_ = -1;
  }
  bool send_all(const std::string& s) {
    std::size_t sent = 0;
    while (sent < s.size()) {
      const ssize_t n = calls_.send(fd_, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  void shutdown_write() { calls_.shutdown(fd_, SHUT_WR); }
  /// Reads exactly n bytes (fewer if the stream ends or times out).
  std::string read_n(std::size_t n) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
      const ssize_t r = calls_.recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  /// Reads until the peer closes; returns what came.
  std::string read_to_end() {
    std::string out;
    char buf[65536];
    while (true) {
      const ssize_t r = calls_.recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) {
        eof_ = r == 0;
        break;
      }
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  bool saw_eof() const { return eof_; }

  struct Response {
    int status = 0;
    std::string head;
    std::string body;
    bool ok = false;
  };
  /// Reads one HTTP response; `head_only` for the answer to HEAD (no body follows).
  Response read_response(bool head_only = false) {
    Response r;
    while (pending_.find("\r\n\r\n") == std::string::npos) {
      char buf[65536];
      const ssize_t n = calls_.recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return r;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
    const auto end = pending_.find("\r\n\r\n");
    r.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    r.status = std::atoi(r.head.c_str() + 9);
    std::size_t length = 0;
    const auto cl = r.head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::strtoull(r.head.c_str() + cl + 16, nullptr, 10);
    if (!head_only) {
      while (pending_.size() < length) {
        std::string more = read_n(std::min<std::size_t>(length - pending_.size(), 1 << 20));
        if (more.empty()) return r;
        pending_ += more;
      }
      r.body = pending_.substr(0, length);
      pending_.erase(0, length);
    }
    r.ok = true;
    return r;
  }

 private:
  const SocketCalls& calls_;
  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  bool eof_ = false;
  std::string pending_;
};

}  // namespace ustack::apps::testing

// TCP services written once against the Berkeley calls (SocketCalls): echo
// (RFC 862, port 7), discard (RFC 863, port 9), chargen (RFC 864, port 19) and
// HTTP/1.1 (port 80). Each server is one thread with an epoll loop over
// non-blocking sockets, so one holds thousands of connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "apps/calls.h"
#include "apps/http.h"

namespace ustack::apps {

enum class Service { echo, discard, chargen, http };
const char* service_name(Service s);
std::uint16_t default_port(Service s);

struct ServerConfig {
  Service service = Service::echo;
  std::uint32_t addr = 0;  // host order; 0: any
  std::uint16_t port = 0;  // 0: an ephemeral port (see Server::port())
  int backlog = 4096;
  HttpConfig http;
};

class Server {
 public:
  /// Binds, listens and starts the server thread; nullptr with *error set on failure.
  static std::unique_ptr<Server> start(const SocketCalls& calls, const ServerConfig& config, std::string* error);
  /// Stops the thread and closes every socket.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return port_; }
  /// Connections open now.
  std::size_t connections() const { return connections_.load(); }
  /// The most bytes one connection has held staged for sending so far (a response
  /// body is produced as the socket drains, so a slow reader cannot make it more
  /// than about two refills).
  std::size_t peak_staged_bytes() const { return peak_staged_.load(); }

 private:
  Server(const SocketCalls& calls, const ServerConfig& config) : calls_(calls), config_(config) {}
  void run();

  const SocketCalls& calls_;
  ServerConfig config_;
  int listener_ = -1;
  int epoll_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> peak_staged_{0};
  std::thread thread_;
};

}  // namespace ustack::apps

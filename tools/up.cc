// `ustack up`: a host on a TAP/TUN that answers ARP and ping, serves UDP echo
// (port 7) and, over TCP, echo (7), discard (9), chargen (19) and HTTP/1.1 (80)
// with the servers of src/apps/ (the same code runs on Linux's sockets).
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <cstdio>
#include <cstring>
#include <thread>

#include "apps/server.h"
#include "cli.h"
#include "runtime/runtime.h"
#include "stack/stack.h"
#include "ustack/socket.h"

namespace ustack::tools {
namespace {

struct UpOptions {
  HostOptions host;
  bool verbose = false;
  bool stats_on_exit = false;
  std::string www;  // HTTP document root; empty: built-in pages
};

/// RFC 862 echo over UDP, written against the Berkeley API like any program.
void udp_echo(int fd, const std::atomic<bool>& stop) {
  std::vector<char> buf(65536);
  while (!stop) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ustack_recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      if (errno == EBADF || stop) return;
      continue;  // an ICMP error reported on the socket, or a timeout
    }
    ustack_sendto(fd, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

int run_up(const UpOptions& o) {
  block_stop_signals();
  HostOptions ho = o.host;
  ho.log_level = o.verbose ? base::LogLevel::debug : base::LogLevel::warn;
  auto host = Host::start(ho);
  if (!host) {
    std::fprintf(stderr, "ustack up: %s\n", host.error().c_str());
    return 1;
  }
  const int fd = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(7);
  if (fd < 0 || ustack_bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::fprintf(stderr, "ustack up: cannot serve UDP echo: %s\n", std::strerror(errno));
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread echo([&] { udp_echo(fd, stop); });
  std::vector<std::unique_ptr<apps::Server>> servers;
  std::string services = "udp echo 7";
  for (auto service : {apps::Service::echo, apps::Service::discard, apps::Service::chargen, apps::Service::http}) {
    apps::ServerConfig config;
    config.service = service;
    config.port = apps::default_port(service);
    config.http.www_root = o.www;
    std::string error;
    auto server = apps::Server::start(apps::ustack_calls(), config, &error);
    if (!server) {
      std::fprintf(stderr, "ustack up: no tcp %s\n", error.c_str());
      continue;
    }
    services += std::string(", tcp ") + apps::service_name(service) + " " + std::to_string(config.port);
    servers.push_back(std::move(server));
  }
  std::printf("ustack: ready on %s (%s)\n", (*host)->describe().c_str(), services.c_str());
  std::fflush(stdout);

  const int sig = wait_for_stop_signal();
  stop = true;
  ustack_close(fd);  // wakes the echo thread
  echo.join();
  servers.clear();
  if (o.stats_on_exit) {
    (*host)->runtime().call([](stack::Stack& s) {
      s.counters().for_each([](std::string_view name, std::uint64_t v) {
        std::printf("%.*s %llu\n", static_cast<int>(name.size()), name.data(), static_cast<unsigned long long>(v));
      });
      return 0;
    });
  }
  host->reset();  // stops the runtime and flushes the pcap
  std::fprintf(stderr, "ustack: stopped (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  return 0;
}

}  // namespace

void register_up(CLI::App& app) {
  auto opts = std::make_shared<UpOptions>();
  opts->host.control = true;  // `ustack ss` and the others see this host
  opts->host.program = "ustack up";
  auto* cmd = app.add_subcommand(
      "up", "Run a host: answer ARP and ping; serve UDP echo (7), TCP echo (7), discard (9), chargen (19), HTTP (80)");
  add_attach_options(*cmd, opts->host);
  cmd->add_flag("-v,--verbose", opts->verbose, "Log what the stack does");
  cmd->add_option("--www", opts->www, "Serve the files under this directory over HTTP (default: built-in pages)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--stats-on-exit", opts->stats_on_exit, "Print every counter (name value) when stopping");
  cmd->callback([opts] { std::exit(run_up(*opts)); });
}

}  // namespace ustack::tools

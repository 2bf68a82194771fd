// The epoll loop of a TCP service: accept, read into a buffer, let the service
// turn input into output, write what the socket takes, stream long bodies.
#include "apps/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

namespace ustack::apps {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReadPerEvent = 256 * 1024;  // fairness among connections
constexpr std::size_t kBufferLimit = 1024 * 1024;  // stop reading while this much waits
// A body is produced this much at a time as the socket drains: enough to keep a
// socket buffer full, little enough that thousands of slow readers (zero-window
// readers, tests/adversarial/test_05) cost little.
constexpr std::size_t kStreamRefill = 64 * 1024;

struct Stream {
  BodySource source;
  std::uint64_t offset = 0;
};

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  std::size_t out_sent = 0;  // bytes of `out` already sent
  std::optional<Stream> stream;  // the rest of a body, produced as `out` drains
  bool peer_closed = false;      // read returned 0
  bool close_after = false;      // close once everything is sent
  std::uint32_t events = 0;      // registered with epoll
  std::size_t pending() const { return out.size() - out_sent; }
};

/// What the service makes of the input that has arrived.
void serve_input(const ServerConfig& config, Connection& c) {
  switch (config.service) {
    case Service::echo:
      c.out.append(c.in);
      c.in.clear();
      return;
    case Service::discard:
    case Service::chargen:  // RFC 864: "Any data received is thrown away."
      c.in.clear();
      return;
    case Service::http:
      // Pipelined requests are answered in order, one body at a time.
      while (!c.stream && !c.close_after) {
        std::size_t used = 0;
        HttpResponse r;
        const ParseStatus st = handle_http_request(config.http, c.in, &used, &r);
        if (st == ParseStatus::incomplete) {
          // A peer that closed mid-request gets no answer.
          return;
        }
        if (st == ParseStatus::bad) {
          r = http_bad_request();
          used = c.in.size();
        }
        c.in.erase(0, used);
        c.out.append(r.head);
        if (r.body.length) c.stream = Stream{std::move(r.body), 0};
        if (r.close) c.close_after = true;
      }
      return;
  }
}

/// Appends the next part of the stream to `out`, first dropping what was already
/// sent (otherwise `out` grows by the whole body for a reader that never lets it
/// drain to empty); false on a read error.
bool refill(const ServerConfig& config, Connection& c) {
  c.out.erase(0, c.out_sent);
  c.out_sent = 0;
  Stream& s = *c.stream;
  const std::uint64_t left = s.source.length - s.offset;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kStreamRefill));
  const std::size_t at = c.out.size();
  c.out.resize(at + n);
  if (!s.source.read(s.offset, c.out.data() + at, n)) return false;
  s.offset += n;
  if (s.offset == s.source.length) {
    c.stream.reset();
    serve_input(config, c);  // the next pipelined request
  }
  return true;
}

BodySource chargen_source() {
  return {std::numeric_limits<std::uint64_t>::max(), [](std::uint64_t off, char* buf, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) buf[i] = chargen_byte(off + i);
            return true;
          }};
}

}  // namespace

const char* service_name(Service s) {
  switch (s) {
    case Service::echo: return "echo";
    case Service::discard: return "discard";
    case Service::chargen: return "chargen";
    case Service::http: return "http";
  }
  return "?";
}

std::uint16_t default_port(Service s) {
  switch (s) {
    case Service::echo: return 7;
    case Service::discard: return 9;
    case Service::chargen: return 19;
    case Service::http: return 80;
  }
  return 0;
}

std::unique_ptr<Server> Server::start(const SocketCalls& calls, const ServerConfig& config, std::string* error) {
  std::unique_ptr<Server> s(new Server(calls, config));
  auto fail = [&](const char* what) {
    *error = std::string(service_name(config.service)) + ": " + what + ": " + std::strerror(errno);
    if (s->listener_ >= 0) calls.close(s->listener_);
    if (s->epoll_ >= 0) calls.close(s->epoll_);
    s->listener_ = s->epoll_ = -1;
    return nullptr;
  };
  s->listener_ = calls.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->listener_ < 0) return fail("socket");
  const int one = 1;
  calls.setsockopt(s->listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // best effort
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(config.port);
  a.sin_addr.s_addr = htonl(config.addr);
  if (calls.bind(s->listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return fail("bind");
  if (calls.listen(s->listener_, config.backlog) < 0) return fail("listen");
  socklen_t len = sizeof a;
  if (calls.getsockname(s->listener_, reinterpret_cast<sockaddr*>(&a), &len) < 0) return fail("getsockname");
  s->port_ = ntohs(a.sin_port);
  s->epoll_ = calls.epoll_create1(EPOLL_CLOEXEC);
  if (s->epoll_ < 0) return fail("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s->listener_;
  if (calls.epoll_ctl(s->epoll_, EPOLL_CTL_ADD, s->listener_, &ev) < 0) return fail("epoll_ctl");
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

Server::~Server() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) calls_.close(listener_);
  if (epoll_ >= 0) calls_.close(epoll_);
}

void Server::run() {
  std::unordered_map<int, std::unique_ptr<Connection>> conns;
  std::vector<epoll_event> events(512);
  std::vector<char> buf(kReadChunk);

  auto close_conn = [&](Connection& c) {
    const int fd = c.fd;
    calls_.close(fd);  // also leaves the epoll set
    conns.erase(fd);
    connections_ = conns.size();
  };
  auto set_interest = [&](Connection& c) {
    std::uint32_t want = 0;
    if (!c.peer_closed && c.in.size() + c.pending() < kBufferLimit && !c.close_after) want |= EPOLLIN;
    if (c.pending() > 0 || c.stream) want |= EPOLLOUT;
    if (want == c.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = c.fd;
    calls_.epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = want;
  };
  // Sends until the socket is full or nothing is left; false when the connection is done.
  auto flush = [&](Connection& c) {
    if (c.peer_closed && config_.service == Service::chargen) return false;  // the stream is endless
    while (true) {
      if (c.pending() == 0) {
        c.out.clear();
        c.out_sent = 0;
        if (!c.stream) break;
      }
      if (c.stream && c.pending() < kStreamRefill) {
        if (!refill(config_, c)) return false;
        if (c.out.size() > peak_staged_.load(std::memory_order_relaxed)) peak_staged_ = c.out.size();
      }
      if (c.pending() == 0) continue;
      const ssize_t n = calls_.send(c.fd, c.out.data() + c.out_sent, c.pending(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      c.out_sent += static_cast<std::size_t>(n);
    }
    // Everything sent: a closing response, or a peer that has gone, ends it.
    return !(c.close_after || c.peer_closed);
  };
  auto accept_all = [&] {
    for (int i = 0; i < 256; ++i) {
      const int fd = calls_.accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or EMFILE and the like: try at the next event
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      if (config_.service == Service::chargen) c->stream = Stream{chargen_source(), 0};
      c->events = EPOLLIN | (c->stream ? EPOLLOUT : 0u);
      epoll_event ev{};
      ev.events = c->events;
      ev.data.fd = fd;
      if (calls_.epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        calls_.close(fd);
        continue;
      }
      conns.emplace(fd, std::move(c));
      connections_ = conns.size();
    }
  };

  while (!stop_) {
    const int n = calls_.epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
      if (fd == listener_) {
        accept_all();
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Connection& c = *it->second;
      bool alive = true;
      if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c.peer_closed) {
        std::size_t got = 0;
        while (got < kReadPerEvent && c.in.size() + c.pending() < kBufferLimit) {
          const ssize_t r = calls_.recv(fd, buf.data(), buf.size(), 0);
          if (r > 0) {
            got += static_cast<std::size_t>(r);
            if (config_.service != Service::discard && config_.service != Service::chargen)
              c.in.append(buf.data(), static_cast<std::size_t>(r));
            if (static_cast<std::size_t>(r) < buf.size()) break;
            continue;
          }
          if (r == 0) c.peer_closed = true;
          else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) alive = false;  // reset
          break;
        }
        if (alive) serve_input(config_, c);
      }
      if (alive) alive = flush(c);
      if (!alive) {
        close_conn(c);
        continue;
      }
      set_interest(c);
    }
  }
  for (auto& [fd, c] : conns) calls_.close(fd);
  connections_ = 0;
}

}  // namespace ustack::apps

// (Every value is read from the input in a statement of its own: the order in
// which a call's arguments are evaluated is unspecified, and GCC and clang
// differ, so an input must decode the same in the replay and the fuzz builds.)
//
// Sequences of socket calls (src/stack/stack.h: the calls behind the Berkeley
// API) on a stack with only loopback, decoded from the input: socket, bind,
// listen, connect, accept, send, recv, shutdown, close, setsockopt,
// getsockopt, SO_LINGER, TCP_INFO and time passing, on descriptors the input
// picks (including ones never opened or already closed).
//
// Invariants: every call returns a value or an errno-style error, never
// crashes; what a stream reader receives over loopback is exactly what the
// writer sent, in order (each writer sends its own counter pattern).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <map>
#include <vector>

#include "fuzz.h"
#include "stack/stack.h"

using namespace ustack;

namespace {

constexpr std::size_t kMaxCalls = 64;

struct Opt {
  int level, name;
};
constexpr Opt kOpts[] = {
    {SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_RCVBUF},   {SOL_SOCKET, SO_SNDBUF},    {SOL_SOCKET, SO_KEEPALIVE},
    {SOL_SOCKET, SO_BROADCAST}, {SOL_SOCKET, SO_ERROR},    {SOL_SOCKET, SO_TYPE},      {IPPROTO_IP, IP_TTL},
    {IPPROTO_IP, IP_TOS},       {IPPROTO_IP, IP_HDRINCL},  {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_MAXSEG},
    {IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_KEEPINTVL}, {IPPROTO_TCP, TCP_KEEPCNT},
    {IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_TCP, TCP_SYNCNT}, {IPPROTO_TCP, TCP_QUICKACK}, {SOL_SOCKET, 9999},
    {12345, 1},
};

/// Each stream socket writes the bytes of its own counter; a reader checks that
/// the stream it reads is its one writer's, from the start, without a gap.
base::Byte pattern(std::uint64_t k) { return static_cast<base::Byte>(k * 7 + 3); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  stack::Stack st(stack::StackConfig{.seed = 3});
  base::Instant now = base::kEpoch + std::chrono::seconds(1);
  std::vector<stack::SocketId> ids;
  std::map<stack::SocketId, std::uint64_t> written, read;
  auto pick = [&]() -> stack::SocketId {
    const std::uint8_t b = in.u8();
    if (b >= 250 || ids.empty()) return static_cast<stack::SocketId>(b) - 250;  // bad descriptors too
    return ids[b % ids.size()];
  };
  auto endpoint = [&]() {
    const std::uint8_t a = in.u8();
    const base::Ipv4Addr addr = a % 4 == 0 ? base::Ipv4Addr::any()
                                : a % 4 == 1 ? base::Ipv4Addr::loopback()
                                : a % 4 == 2 ? base::Ipv4Addr(127, 0, 0, 2)
                                             : base::Ipv4Addr(198, 18, 0, 9);  // not local: EADDRNOTAVAIL / unreachable
    return base::Endpoint{addr, static_cast<std::uint16_t>(5000 + in.u8() % 4)};
  };
  static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;  // replay: print each call
  for (std::size_t n = 0; n < kMaxCalls && !in.empty(); ++n) {
    st.set_time(now);
    const int call = in.u8() % 14;
    if (trace) {
      std::fprintf(stderr, "call %d; sockets:", call);
      for (const auto& i : st.socket_infos())
        std::fprintf(stderr, " %d%s%s", i.id, i.listening ? "L" : "", i.tcp_state ? tcp::to_string(*i.tcp_state) : "");
      std::fprintf(stderr, "\n");
    }
    switch (call) {
      case 0: {
        const std::uint8_t t = in.u8();
        const int type = t % 3 == 0 ? SOCK_STREAM : t % 3 == 1 ? SOCK_DGRAM : SOCK_RAW;
        const int proto = type == SOCK_RAW ? (t & 4 ? IPPROTO_ICMP : IPPROTO_UDP) : 0;
        auto s = st.socket(t & 8 ? AF_INET6 : AF_INET, type, proto);
        if (s.ok()) {
          ids.push_back(*s);
          written[*s] = read[*s] = 0;  // descriptors are reused after close
        }
        break;
      }
      case 1: {
        const stack::SocketId id = pick();
        (void)st.bind(id, endpoint());
        break;
      }
      case 2: {
        const stack::SocketId id = pick();
        (void)st.listen(id, static_cast<int>(in.u8()) - 8);
        break;
      }
      case 3: {
        const stack::SocketId id = pick();
        (void)st.connect(id, (in.u8() & 0xf) == 0 ? std::nullopt : std::optional(endpoint()));
        break;
      }
      case 4: {
        base::Endpoint peer;
        auto a = st.accept(pick(), &peer);
        if (a.ok()) {
          ids.push_back(*a);
          written[*a] = read[*a] = 0;
        }
        break;
      }
      case 5: {  // send this socket's pattern
        const stack::SocketId id = pick();
        const std::size_t len = std::size_t{in.u8()} * 97;
        std::vector<base::Byte> buf(len);
        const std::uint64_t from = written[id];
        for (std::size_t i = 0; i < len; ++i) buf[i] = pattern(from + i);
        const base::Endpoint to = endpoint();
        auto r = st.send_to(id, buf, (in.u8() & 1) ? &to : nullptr, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r.ok()) {
          FUZZ_CHECK(*r <= len);
          auto type = st.get_option(id, SOL_SOCKET, SO_TYPE);
          if (type.ok() && *type == SOCK_STREAM) written[id] += *r;
        }
        break;
      }
      case 6: {  // receive, and check a stream against its writer's pattern
        const stack::SocketId id = pick();
        std::vector<base::Byte> buf(std::size_t{in.u8()} * 131 + 1);
        const int flags = MSG_DONTWAIT | ((in.u8() & 3) == 0 ? MSG_PEEK : 0);
        auto r = st.recv_from(id, buf, flags);
        if (!r.ok()) break;
        FUZZ_CHECK(r->copied <= buf.size());
        auto type = st.get_option(id, SOL_SOCKET, SO_TYPE);
        if (type.ok() && *type == SOCK_STREAM && r->copied > 0) {
          // Over loopback, with one connection per pair, the peer's first byte is pattern(0).
          const std::uint64_t at = read[id];
          for (std::size_t i = 0; i < r->copied; ++i) FUZZ_CHECK(buf[i] == pattern(at + i));
          if (!(flags & MSG_PEEK)) read[id] += r->copied;
        }
        break;
      }
      case 7: {
        const stack::SocketId id = pick();
        (void)st.shutdown(id, static_cast<int>(in.u8() % 4));
        break;
      }
      case 8: {
        const stack::SocketId id = pick();
        if (st.close(id).ok()) std::erase(ids, id);
        break;
      }
      case 9: {
        const Opt o = kOpts[in.u8() % std::size(kOpts)];
        const stack::SocketId id = pick();
        (void)st.set_option(id, o.level, o.name, static_cast<int>(in.u32()));
        break;
      }
      case 10: {
        const Opt o = kOpts[in.u8() % std::size(kOpts)];
        const stack::SocketId id = pick();
        (void)st.get_option(id, o.level, o.name);
        break;
      }
      case 11: {
        const stack::SocketId id = pick();
        const bool on = in.u8() & 1;
        (void)st.set_linger(id, on, static_cast<int>(in.u8()) - 1);
        break;
      }
      case 12: (void)st.tcp_info(pick()); break;
      case 13: {  // time passes
        now += std::chrono::milliseconds(1 + in.u16() % 20000);
        break;
      }
    }
    (void)st.readiness(pick());
    now += std::chrono::microseconds(100);
    st.poll(now);
  }
  now += std::chrono::seconds(1);
  st.poll(now);
  return 0;
}

// A packetdrill scenario script as parsed: timed events (TCP segments in and out,
// socket calls) and option lines. docs/script.md lists the supported subset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ustack::script {

using Micros = std::int64_t;

/// When an event happens: `0.100` (absolute), `+0.1` (relative to the previous
/// event), `*` (any time), a window `0.1~0.2`, or for a blocking system call the
/// time it must return, `0.1...0.2` (an end after a relative start is relative too).
struct EventTime {
  enum class Kind { absolute, relative, any };
  Kind kind = Kind::absolute;
  Micros start = 0;
  std::optional<Micros> end;
  bool end_is_return = false;  // `...`: the call returns at `end`; `~`: any time up to `end`
};

/// An argument of a system call. Symbols (SOL_SOCKET, O_NONBLOCK, A|B) are
/// resolved to integers while parsing.
struct Expr {
  enum class Kind { integer, ellipsis, list, fields, string };
  Kind kind = Kind::integer;
  std::int64_t value = 0;
  std::string text;                // as written
  std::vector<Expr> items;         // list elements, or field values
  std::vector<std::string> names;  // field names (fields)
};

struct Syscall {
  std::string name;
  std::vector<Expr> args;
  std::int64_t expected = 0;
  std::optional<int> expected_errno;  // `= -1 EAGAIN (...)`
  std::string text;                   // the call as written, for messages
};

struct TcpOption {
  enum class Kind { eol, nop, mss, wscale, sack_permitted, timestamp, sack, other };
  Kind kind = Kind::nop;
  std::uint32_t a = 0;  // mss, wscale, TS val, other: the kind
  std::uint32_t b = 0;  // TS ecr, other: the length
  std::vector<std::pair<std::uint32_t, std::uint32_t>> blocks;  // sack
  bool operator==(const TcpOption&) const = default;
};

/// The IP ECN field a packet line names, packetdrill's `[noecn]`, `[ect0]`,
/// `[ect1]`, `[ce]`, and `[ect01]` (either ECT codepoint, outbound only).
enum class IpEcn { noecn, ect1, ect0, ce, ect01 };

/// `< S. 0:0(0) ack 1 win 1000 <mss 1460,nop,wscale 7>`; numbers are relative
/// (see docs/script.md).
struct Packet {
  bool inbound = true;
  /// `> [ect0] . 1:1001(1000)`: absent, an inbound segment is Not-ECT and an
  /// outbound one's ECN field is not checked.
  std::optional<IpEcn> ecn;
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t len = 0;
  std::optional<std::uint32_t> ack;
  std::optional<std::uint32_t> window;
  bool any_options = false;                       // `<...>`
  std::optional<std::vector<TcpOption>> options;  // absent: not written
};

struct Event {
  int line = 0;
  EventTime time;
  std::variant<Packet, Syscall> what;
};

struct Script {
  std::string filename;
  std::vector<Event> events;
  std::optional<Micros> tolerance_usecs;  // an option line `--tolerance_usecs=N`
  std::optional<std::string> congestion_control;  // `--congestion_control=NAME` (cubic, reno)
  std::optional<int> tcp_ecn;             // `--tcp_ecn=N`, as net.ipv4.tcp_ecn (0, 1, 2)
  std::vector<std::string> notes;         // what was ignored ("ignored shell command at line N")
};

struct SyntaxError {
  int line = 0;
  std::string message;
};

}  // namespace ustack::script

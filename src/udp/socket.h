// The state of one UDP socket (RFC 768; Linux udp(7) semantics): its binding,
// optional peer, options, pending error, and a receive queue bounded by SO_RCVBUF
// and by the stack's memory account.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/addr.h"
#include "base/lazy_deque.h"
#include "base/bytes.h"
#include "base/memory.h"

namespace ustack::udp {

struct Datagram {
  base::Endpoint from;
  std::vector<base::Byte> data;
};

/// Each queued datagram is charged its length plus this, as Linux charges an
/// skb's truesize, so that a flood of empty datagrams still fills the buffer.
inline constexpr std::size_t kDatagramOverhead = 256;

enum class Enqueued { yes, rcvbuf_full, no_memory };

/// A FIFO of datagrams bounded in bytes, by SO_RCVBUF and by the stack's memory
/// account (docs/hardening.md). Shared by UDP and raw sockets.
class ReceiveQueue {
 public:
  /// Charge what is queued to the stack's account.
  void set_memory(base::MemoryAccount* account) {
    mem_ = base::MemCharge(account, base::MemKind::udp);
    mem_.set(bytes_);
  }
  /// Queues d unless it would take the queue past `limit` bytes (Linux: a
  /// datagram is accepted into an empty queue whatever its size), or the memory
  /// account refuses it (Linux __udp_enqueue_schedule_skb: UDP_MIB_MEMERRORS).
  Enqueued push(Datagram d, std::size_t limit) {
    const std::size_t cost = d.data.size() + kDatagramOverhead;
    if (!queue_.empty() && bytes_ + cost > limit) {
      ++drops_;
      return Enqueued::rcvbuf_full;
    }
    if (!mem_.try_add(cost)) {
      ++drops_;
      return Enqueued::no_memory;
    }
    bytes_ += cost;
    queue_.push_back(std::move(d));
    return Enqueued::yes;
  }
  bool empty() const { return queue_.empty(); }
  const Datagram& front() const { return queue_.front(); }
  void pop() {
    const std::size_t cost = queue_.front().data.size() + kDatagramOverhead;
    bytes_ -= cost;
    mem_.release(cost);
    queue_.pop_front();
  }
  std::size_t bytes() const { return bytes_; }
  std::size_t count() const { return queue_.size(); }
  /// Datagrams refused for want of room (Linux's sk_drops, ss -m's d).
  std::uint64_t drops() const { return drops_; }

 private:
  base::LazyDeque<Datagram> queue_;  // no memory while empty (a std::deque holds ~600 bytes)
  std::size_t bytes_ = 0;
  std::uint64_t drops_ = 0;
  base::MemCharge mem_;
};

struct Socket {
  std::int32_t id = -1;                  // the stack's SocketId, for readiness notices
  base::Endpoint local;                  // port 0 while unbound; addr any = wildcard
  std::optional<base::Endpoint> peer;    // set by connect()
  bool local_addr_from_connect = false;  // disconnect() clears an address connect() chose
  bool reuse_addr = false;
  bool broadcast = false;
  ReceiveQueue rx;
  int pending_error = 0;                 // errno from an ICMP error, reported once

  bool bound() const { return local.port != 0; }
};

}  // namespace ustack::udp

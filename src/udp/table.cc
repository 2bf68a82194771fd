// UDP demultiplexing by local address and bind conflict rules.
#include "udp/table.h"

#include <algorithm>

namespace ustack::udp {

bool Table::conflicts(const Socket& s, base::IpAddr addr, std::uint16_t port) const {
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return false;
  for (const Socket* other : it->second) {
    if (other == &s) continue;
    const bool overlap = other->local.addr.is_unspecified() || addr.is_unspecified() ||
                         other->local.addr == addr;
    if (overlap && !(s.reuse_addr && other->reuse_addr)) return true;
  }
  return false;
}

void Table::insert(Socket* s) { by_port_[s->local.port].push_back(s); }

void Table::erase(Socket* s) {
  auto it = by_port_.find(s->local.port);
  if (it == by_port_.end()) return;
  std::erase(it->second, s);
  if (it->second.empty()) by_port_.erase(it);
}

// -1: no match. Higher is more specific.
int Table::match_score(const Socket& s, base::IpAddr local, const base::Endpoint& from) {
  int score = 0;
  if (!s.local.addr.is_unspecified()) {
    if (s.local.addr != local) return -1;
    score += 2;
  }
  if (s.peer) {
    if (s.peer->addr != from.addr || s.peer->port != from.port) return -1;
    score += 4;
  }
  return score;
}

Socket* Table::lookup(base::IpAddr local, std::uint16_t port, const base::Endpoint& from) const {
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return nullptr;
  Socket* best = nullptr;
  int best_score = -1;
  for (Socket* s : it->second) {
    const int score = match_score(*s, local, from);
    if (score >= best_score && score >= 0) {  // >=: the later binding wins a tie
      best = s;
      best_score = score;
    }
  }
  return best;
}

void Table::for_each_broadcast(base::IpAddr local, std::uint16_t port, const base::Endpoint& from,
                               const std::function<void(Socket&)>& f) const {
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return;
  const auto sockets = it->second;  // f may not change the table, but be safe
  for (Socket* s : sockets) {
    // `local` is the broadcast destination: a socket bound to a unicast address does
    // not hear it, one bound to the wildcard or to that broadcast address does (Linux).
    if (match_score(*s, local, from) >= 0) f(*s);
  }
}

}  // namespace ustack::udp

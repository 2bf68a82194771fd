// What the stack shows of its sockets (issue "See inside"): one SocketInfo per
// socket, and one per connection that outlived its socket (orphans finishing
// their close, TIME-WAIT), with the queue lengths that Linux's ss reports.
#include <sys/socket.h>
#include <netinet/in.h>

#include "stack/stack.h"

namespace ustack::stack {

std::vector<SocketInfo> Stack::socket_infos() const {
  std::vector<SocketInfo> out;
  out.reserve(sockets_.size() + tcp_orphans_.size());
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    const SocketEntry* e = sockets_[i].get();
    if (!e) continue;
    SocketInfo s;
    s.id = static_cast<SocketId>(i);
    s.type = e->type;
    s.protocol = e->protocol;
    s.rcvbuf = e->current_rcvbuf();
    s.sndbuf = e->current_sndbuf();
    if (const auto* u = std::get_if<udp::Socket>(&e->proto)) {
      s.local = u->local;
      s.peer = u->peer;
      // Linux's Recv-Q for a datagram socket is sk_rmem_alloc: what the queued
      // datagrams are charged, overhead included.
      s.recv_q = u->rx.bytes();
      s.drops = u->rx.drops();
    } else if (const auto* r = std::get_if<RawSocket>(&e->proto)) {
      s.local = {r->local, 0};
      if (r->peer) s.peer = base::Endpoint{*r->peer, 0};
      s.recv_q = r->rx.bytes();
      s.drops = r->rx.drops();
    } else if (const auto* t = std::get_if<TcpSocket>(&e->proto)) {
      s.local = t->local;
      if (t->listening) {
        // Linux ss: a listener's Recv-Q is the accept queue's length, its
        // Send-Q the backlog.
        s.listening = true;
        s.tcp_state = tcp::State::listen;
        s.recv_q = t->accept_queue.size();
        s.send_q = static_cast<std::size_t>(t->backlog);
      } else if (t->conn) {
        const tcp::Connection& c = *t->conn;
        s.local = c.local();
        s.peer = c.remote();
        s.tcp_state = c.state();
        s.recv_q = c.readable_bytes();
        s.send_q = c.send_queued();  // from SND.UNA: unacknowledged and unsent
        s.tcp = c.snapshot(now_);
      }
    }
    out.push_back(std::move(s));
  }
  for (const auto& c : tcp_orphans_) {
    SocketInfo s;
    s.type = SOCK_STREAM;
    s.protocol = IPPROTO_TCP;
    s.local = c->local();
    s.peer = c->remote();
    s.tcp_state = c->state();
    s.recv_q = c->readable_bytes();
    s.send_q = c->send_queued();
    s.tcp = c->snapshot(now_);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ustack::stack

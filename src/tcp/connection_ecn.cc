// Explicit Congestion Notification for one connection (RFC 3168 6.1): the
// ECN-setup SYN and SYN-ACK, ECT(0) on new data, the receiver's ECN-Echo until
// the sender's CWR, and the sender's window reduction, at most once per window,
// through the congestion-control algorithm's on_ecn(). The state names follow
// Linux's (tcp_ecn.h): TCP_ECN_OK, TCP_ECN_DEMAND_CWR, TCP_ECN_QUEUE_CWR, and
// the CWR congestion state's high_seq.
#include "tcp/connection.h"
#include "wire/ipv4.h"

namespace ustack::tcp {

namespace flag = wire::tcp_flag;

void Connection::ecn_negotiate(const wire::TcpRepr& syn, bool answering) {
  const bool ece = syn.flags & flag::ece;
  const bool cwr = syn.flags & flag::cwr;
  if (answering) {
    // RFC 3168 6.1.1: "an ECN-setup SYN packet" has ECE and CWR set; a host
    // willing to use ECN answers with "an ECN-setup SYN-ACK packet" (ECE, not CWR).
    // Linux accepts whenever tcp_ecn is not 0.
    ecn_ok_ = config_->ecn != 0 && ece && cwr;
  } else if (syn.flags & flag::ack) {
    // "If a host has received an ECN-setup SYN-ACK packet, then it MAY send
    // ECN-Capable data packets"; a SYN-ACK with CWR set too is not one (a peer
    // reflecting the flags; Linux tcp_ecn_rcv_synack).
    ecn_ok_ = ecn_requested_ && ece && !cwr;
  } else {
    // Simultaneous open: both SYNs must be ECN-setup SYNs (Linux tcp_ecn_rcv_syn).
    ecn_ok_ = ecn_requested_ && ece && cwr;
  }
}

std::uint8_t Connection::ecn_flags(std::uint8_t flags) const {
  if (flags & flag::rst) return 0;
  if (flags & flag::syn) {
    if (!(flags & flag::ack)) return ecn_requested_ ? flag::ece | flag::cwr : 0;
    return ecn_ok_ ? flag::ece : 0;
  }
  // RFC 3168 6.1.3: the receiver "sets the ECN-Echo flag in the TCP header of
  // ... every subsequent ACK packet until it receives a CWR packet".
  return ecn_ok_ && ecn_demand_cwr_ ? flag::ece : 0;
}

std::uint8_t Connection::ecn_codepoint(std::uint8_t flags, Seq seq, std::size_t len) const {
  // RFC 3168 6.1.1: "A host MUST NOT set ECT on SYN or SYN-ACK packets"; 6.1.4:
  // pure ACKs are not ECT; 6.1.5: "the TCP data sender MUST NOT set either ECT
  // codepoint in the IP header for retransmitted data packets"; 6.1.6: window
  // probes (no data beyond SND.MAX either) are not ECT. So: new data only, as
  // Linux's tcp_ecn_send.
  if (!ecn_ok_ || (flags & (flag::syn | flag::rst)) || len == 0 || seq < snd_max_) return wire::ip_ecn::not_ect;
  return wire::ip_ecn::ect0;
}

void Connection::ecn_on_receive(const wire::TcpRepr& seg, std::size_t payload_len, std::uint8_t ip_ecn) {
  if (!ecn_ok_) return;
  // RFC 3168 6.1.3: ECE until "it receives a CWR packet (a packet with the CWR
  // flag set)". A CE on the same segment sets it again (below), as the RFC asks.
  if (seg.flags & flag::cwr) ecn_demand_cwr_ = false;
  if (payload_len == 0) return;  // ECT is on data only (Linux tcp_ecn_check_ce)
  switch (ip_ecn & wire::ip_ecn::mask) {
    case wire::ip_ecn::ce:
      // "When TCP receives a CE data packet at the destination end-system, the TCP
      // data receiver sets the ECN-Echo flag in the TCP header of the subsequent
      // ACK packet." Linux acknowledges the first such segment at once.
      ++info_.ecn_ce_in;
      ecn_seen_ = true;
      if (!ecn_demand_cwr_) ack_now_ = true;
      ecn_demand_cwr_ = true;
      break;
    case wire::ip_ecn::ect0:
    case wire::ip_ecn::ect1:
      ecn_seen_ = true;
      break;
    default:
      break;
  }
}

bool Connection::ecn_on_ack(const wire::TcpRepr& seg, base::Instant now) {
  // The reduction holds for one window: until what was in flight then is acknowledged.
  if (cwr_high_ && snd_una_ >= *cwr_high_) cwr_high_.reset();
  const bool ece = ecn_ok_ && (seg.flags & flag::ece) && !(seg.flags & flag::syn);
  // RFC 3168 6.1.2: "If the sender receives an ECN-Echo (ECE) ACK packet ... the
  // TCP source halves the congestion window "cwnd" and reduces the slow start
  // threshold "ssthresh"", but it "SHOULD NOT react to congestion indications more
  // than once every window of data". Loss recovery has already reduced the window
  // (Linux reacts only in the Open and Disorder states).
  if (ece && !cwr_high_ && !in_recovery_ && !loss_recovery_) {
    ++info_.ecn_reductions;
    cc_->on_ecn(flight_size(), now);
    // "The sender sets the CWR flag in the TCP header of the first new data packet
    // sent after the window reduction".
    ecn_queue_cwr_ = true;
    cwr_high_ = snd_max_;
    undo_marker_.reset();  // a reduction for ECE is never undone (Linux tcp_enter_cwr)
  }
  return cwr_high_.has_value();
}

}  // namespace ustack::tcp

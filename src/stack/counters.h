// Counters with the standard MIB names (RFC 4293 IP-MIB, RFC 4113 UDP-MIB, ICMP
// from RFC 4293), Linux's TcpExt names (as nstat prints them: TcpExtListenDrops)
// and ustack's own drop counters by reason. One X-macro list, so
// that printing and JSON never drift from the fields.
#pragma once

#include <cstdint>
#include <string_view>

namespace ustack::stack {

#define USTACK_COUNTERS(X)                                                               \
  X(IpInReceives) X(IpInHdrErrors) X(IpInAddrErrors) X(IpInUnknownProtos)                \
  X(IpInTruncatedPkts) X(IpInCsumErrors) X(IpInDiscards) X(IpInDelivers)                 \
  X(IpOutRequests) X(IpOutNoRoutes) X(IpOutDiscards) X(IpReasmReqds) X(IpReasmOKs)        \
  X(IpReasmFails) X(IpReasmTimeout) X(IpFragOKs) X(IpFragFails) X(IpFragCreates) X(IpExtReasmOverlaps)          \
  X(IcmpInMsgs) X(IcmpInErrors) X(IcmpInCsumErrors) X(IcmpInDestUnreachs)                 \
  X(IcmpInTimeExcds) X(IcmpInParmProbs) X(IcmpInEchos) X(IcmpInEchoReps)                  \
  X(IcmpOutMsgs) X(IcmpOutErrors) X(IcmpOutDestUnreachs) X(IcmpOutTimeExcds)              \
  X(IcmpOutEchos) X(IcmpOutEchoReps) X(IcmpOutRateLimited) X(IcmpOutRateLimitHost)                                 \
  X(UdpInDatagrams) X(UdpNoPorts) X(UdpInErrors) X(UdpOutDatagrams) X(UdpRcvbufErrors)    \
  X(UdpInCsumErrors) X(UdpMemErrors)                                                                    \
  X(ArpInRequests) X(ArpInReplies) X(ArpOutRequests) X(ArpOutReplies)                     \
  X(DropEthTruncated) X(DropEthNotForUs) X(DropEthUnknownType) X(DropNotIpv4) X(DropArpMalformed)         \
  X(DropArpUnsupported) X(DropArpNotForUs) X(DropArpBogusSender) X(DropArpUnresolved) X(DropArpQueueOverflow) X(DropArpUnsolicited) X(DropArpMacChange)      \
  X(DropIpMartianSource) X(DropIpMartianDest) X(DropIpNotForHost) X(DropIpBadOptions)      \
  X(DropIcmpMalformed) X(DropIcmpUnhandledType) X(DropIcmpBroadcastEcho)                   \
  X(DropUdpMalformed) X(DropTcpMalformed) X(DropRawRcvbuf) X(DropRawMemory) X(DropDeviceTx) X(DropTcpConnLimit) X(DropTcpRstRateLimit)                 \
  X(TcpActiveOpens) X(TcpPassiveOpens) X(TcpAttemptFails) X(TcpEstabResets)              \
  X(TcpInSegs) X(TcpOutSegs) X(TcpRetransSegs) X(TcpInErrs) X(TcpOutRsts)                 \
  X(TcpTimeWaitReused)                                                                    \
  X(TcpExtSyncookiesSent) X(TcpExtSyncookiesRecv) X(TcpExtSyncookiesFailed)              \
  X(TcpExtListenOverflows) X(TcpExtListenDrops)                                           \
  X(TcpExtTCPReqQFullDoCookies) X(TcpExtTCPReqQFullDrop)                             \
  X(TcpExtTCPMemoryPressures) X(TcpExtPruneCalled) X(TcpExtOfoPruned) X(TcpExtRcvPruned)   \
  X(TcpExtTCPRcvQDrop) X(TcpExtTCPOFOQueue) X(TcpExtTCPOFODrop) X(TcpExtOfoRangeDrops)     \
  X(TcpExtOfoPrunedBytes) X(TcpExtSndMemWaits)

struct Counters {
#define USTACK_COUNTER_FIELD(name) std::uint64_t name = 0;
  USTACK_COUNTERS(USTACK_COUNTER_FIELD)
#undef USTACK_COUNTER_FIELD

  /// Calls f(name, value) for every counter, in declaration order.
  template <class F>
  void for_each(F&& f) const {
#define USTACK_COUNTER_VISIT(name) f(std::string_view(#name), name);
    USTACK_COUNTERS(USTACK_COUNTER_VISIT)
#undef USTACK_COUNTER_VISIT
  }
};

}  // namespace ustack::stack

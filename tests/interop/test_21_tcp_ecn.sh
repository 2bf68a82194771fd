#!/usr/bin/env bash
# 21. ECN (RFC 3168) with the Linux kernel, both ways, over tap0 (captured by
# tcpdump on tap0):
#  - Linux asks (net.ipv4.tcp_ecn=1), ustack accepts (its default, 2): Linux's
#    SYN carries ECE and CWR, ustack's SYN-ACK ECE without CWR and Not-ECT;
#    Linux then sends its data as ECT(0), which it does only when it judged
#    the negotiation a success; ustack's ACKs are Not-ECT.
#  - ustack asks (`ustack nc --ecn 1`), Linux accepts (tcp_ecn=2): Linux's
#    SYN-ACK carries ECE, ustack's data is ECT(0), bytes arrive sha256-exact.
#  - Neither asks (both defaults): no ECE on any SYN, no ECT anywhere.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools tcpdump tshark nc sha256sum
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
US_NC=("$USTACK" nc --tap tap0 --addr "$US_CIDR")
head -c 1000000 /dev/urandom >"$WORK/data.bin"

# count PCAP FILTER : frames of the capture matching a display filter.
count() { tshark_q -n -r "$1" -Y "$2" -T fields -e frame.number | wc -l; }

# 1. Linux asks, ustack accepts.
nsx sysctl -qw net.ipv4.tcp_ecn=1
capture_start "$WORK/in.pcap"
ustack_up
nsx timeout 10 nc -N "$US_IP" 9 <"$WORK/data.bin" || fail "nc to ustack's discard port failed"
ustack_stop
capture_stop
P=$WORK/in.pcap
[ "$(count "$P" "ip.src==$HOST_IP && tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.flags.ece==1 && tcp.flags.cwr==1")" -ge 1 ] ||
  fail "Linux's SYN is not an ECN-setup SYN (tcp_ecn=1)"
[ "$(count "$P" "ip.src==$US_IP && tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.flags.ece==1 && tcp.flags.cwr==0 && ip.dsfield.ecn==0")" -ge 1 ] ||
  fail "ustack's SYN-ACK is not an ECN-setup SYN-ACK (ECE, no CWR, Not-ECT)"
ect=$(count "$P" "ip.src==$HOST_IP && tcp.len>0 && ip.dsfield.ecn==2")
[ "$ect" -ge 100 ] || fail "Linux's data is not ECT(0): $ect ECT(0) data segments"
[ "$(count "$P" "ip.src==$US_IP && ip.dsfield.ecn!=0")" -eq 0 ] || fail "ustack sent an ECT pure ACK (RFC 3168 6.1.4)"
log "Linux -> ustack: ECN negotiated, $ect ECT(0) data segments from Linux, ustack's ACKs Not-ECT"

# 2. ustack asks, Linux accepts.
nsx sysctl -qw net.ipv4.tcp_ecn=2
capture_start "$WORK/out.pcap"
nsx timeout 10 nc -l -p 5001 >"$WORK/got.bin" &
STARTED_PIDS+=($!); ncpid=$!
sleep 0.3
nsx timeout 10 "${US_NC[@]}" --ecn 1 "$HOST_IP" 5001 <"$WORK/data.bin" >/dev/null || fail "ustack nc --ecn 1 failed"
wait "$ncpid" || true
capture_stop
[ "$(sha256sum <"$WORK/got.bin")" = "$(sha256sum <"$WORK/data.bin")" ] || fail "bytes differ (ustack -> Linux)"
P=$WORK/out.pcap
[ "$(count "$P" "ip.src==$US_IP && tcp.flags.syn==1 && tcp.flags.ece==1 && tcp.flags.cwr==1 && ip.dsfield.ecn==0")" -ge 1 ] ||
  fail "ustack's SYN is not an ECN-setup SYN (--ecn 1)"
[ "$(count "$P" "ip.src==$HOST_IP && tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.flags.ece==1")" -ge 1 ] ||
  fail "Linux did not answer with an ECN-setup SYN-ACK"
ect=$(count "$P" "ip.src==$US_IP && tcp.len>0 && ip.dsfield.ecn==2")
not=$(count "$P" "ip.src==$US_IP && tcp.len>0 && ip.dsfield.ecn!=2 && !tcp.analysis.retransmission")
[ "$ect" -ge 100 ] && [ "$not" -eq 0 ] || fail "ustack's new data: $ect ECT(0), $not not ECT(0)"
log "ustack -> Linux: ECN negotiated, $ect ECT(0) data segments, sha256 equal"

# 3. Neither asks.
capture_start "$WORK/none.pcap"
ustack_up
nsx timeout 10 nc -N "$US_IP" 9 <"$WORK/data.bin" || fail "nc to ustack's discard port failed"
ustack_stop
capture_stop
P=$WORK/none.pcap
[ "$(count "$P" "tcp.flags.ece==1 || tcp.flags.cwr==1 || ip.dsfield.ecn!=0")" -eq 0 ] || fail "ECN used though neither side asked"
log "defaults: no ECN"

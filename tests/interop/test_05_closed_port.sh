#!/usr/bin/env bash
# 5. A datagram to a closed port (9999) draws ICMP port unreachable: a connected
# Linux UDP socket reports ConnectionRefusedError, and the capture shows ICMP
# type 3 code 3 from ustack quoting the datagram.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools tcpdump tshark
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
ustack_up --stats-on-exit
capture_start "$WORK/closed.pcap"
nsx timeout 10 "$PY" "$INTEROP_DIR/py/closed_port.py" "$US_IP" 9999 || fail "no ConnectionRefusedError for $US_IP:9999"
capture_stop
n=$(count_frames "$WORK/closed.pcap" "ip.src==$US_IP && icmp.type==3 && icmp.code==3 && udp.dstport==9999")
[ "$n" -ge 1 ] || fail "tshark sees no ICMP port unreachable quoting port 9999 in the capture"
log "capture: $n ICMP port unreachable from ustack"
check_capture_clean "$WORK/closed.pcap"
ustack_stop
[ "$(counter UdpNoPorts)" -ge 1 ] || fail "UdpNoPorts not counted"
[ "$(counter IcmpOutDestUnreachs)" -ge 1 ] || fail "IcmpOutDestUnreachs not counted"
echo PASS

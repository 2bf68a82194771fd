#!/usr/bin/env bash
# 6. Malformed frames from scapy on the TAP (truncated Ethernet/IP, bad IP
# checksum, IHL 3, total length > frame, bad options, bad ICMP/UDP checksums,
# overlapping, tiny and out-of-range fragments, a fragment flood over the
# reassembly limit, random bytes). None of the bad probes is answered, the
# well-formed control probes are, ustack keeps answering ping and counts the drops.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools ping tcpdump tshark
setup
ustack_up --stats-on-exit
linux_ping 1 56   # fills the neighbour table with ustack's MAC
mac=$(ip -n "$NS" neigh show "$US_IP" dev tap0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i+1) }')
[ -n "$mac" ] || fail "no neighbour entry for $US_IP after ping"
capture_start "$WORK/garbage.pcap"
nsx timeout 60 "$PY" "$INTEROP_DIR/py/garbage.py" tap0 "$mac" "$HOST_IP" "$US_IP" 2>&1 | sed 's/^/    /' \
  || fail "garbage.py failed"
sleep 0.5
ustack_alive || fail "ustack up died under malformed input; stderr: $(tail -c 2000 "$US_ERR")"
linux_ping 3 56
capture_stop

g=$WORK/garbage.pcap
n=$(count_frames "$g" "ip.src==$US_IP && icmp.type==0 && icmp.ident==0x600d")
[ "$n" -eq 1 ] || fail "control echo (id 0x600d) answered $n times, expected 1"
n=$(count_frames "$g" "ip.src==$US_IP && !icmp && udp.srcport==7 && udp.payload contains \"GOOD-udp\"")
[ "$n" -eq 1 ] || fail "control UDP datagram echoed $n times, expected 1"
bad=$(frames_matching "$g" "ip.src==$US_IP && ((icmp.type==0 && icmp.ident>=0xba00 && icmp.ident<=0xbaff) || (!icmp && udp.srcport==7 && udp.payload contains \"BAD\"))")
[ -z "$bad" ] || fail "ustack answered malformed probes:
$bad"
log "control probes answered, malformed probes not answered"
# The datagram with a malformed option draws a parameter problem (as from Linux),
# pointing at the option (byte 20) and quoting the probe (echo id 0xba08).
n=$(count_frames "$g" "ip.src==$US_IP && icmp.type==12 && icmp.code==0 && icmp.pointer==20 && icmp.ident==0xba08")
[ "$n" -eq 1 ] || fail "no ICMP parameter problem (pointer 20) for the malformed IP option"

ustack_stop
echo "  nonzero counters:"; awk 'NF == 2 && $2 ~ /^[0-9]+$/ && $2 != 0 { print "    " $0 }' "$US_OUT"
for c in IpInHdrErrors IpInCsumErrors UdpInCsumErrors IcmpInCsumErrors IpReasmFails; do
  [ "$(counter "$c")" -gt 0 ] || fail "counter $c is 0 after malformed input"
done
trunc=$(( $(counter IpInTruncatedPkts) + $(counter IpInHdrErrors) ))
[ "$trunc" -gt 0 ] || fail "truncated IP packets not counted"
eth=$(( $(counter DropEthTruncated) + $(counter DropEthUnknownType) + $(counter DropArpMalformed) ))
[ "$eth" -gt 0 ] || fail "no link-layer drop counted (DropEthTruncated, DropEthUnknownType, DropArpMalformed)"
udpbad=$(( $(counter UdpInErrors) + $(counter DropUdpMalformed) ))
[ "$udpbad" -gt 0 ] || fail "malformed UDP lengths not counted (UdpInErrors, DropUdpMalformed)"
echo PASS

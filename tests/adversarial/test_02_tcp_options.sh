#!/usr/bin/env bash
# 2. Malformed TCP options (RFC 9293 3.1; RFC 1122 4.2.2.5: "TCP MUST be prepared
# to handle an illegal option length (e.g., zero); a suggested procedure is to
# reset the connection and log the error cause"): SYNs to :80 whose options have
# length 0, length 1, run past the header, are cut off at its end, or whose data
# offset is under 5 or past the segment, and the same options on data segments
# of a live connection. ustack drops each such segment and counts it
# (DropTcpMalformed): no SYN-ACK, no RST, nothing delivered; the download in
# progress completes byte-exact. SYNs with hostile but legal values (MSS 0 and
# 1, window scale 255, an unknown 2-byte option) are answered.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools tcpdump tshark
adv_start
capture_start "$WORK/opts.pcap"
transfer_start 3000000 400000
nsx timeout 30 "$PY" "$ADV_DIR/py/frames.py" tap0 "$US_MAC" "$US_IP" tcp-options 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "frames.py tcp-options failed"
nsx timeout 30 "$PY" "$ADV_DIR/py/frames.py" tap0 "$US_MAC" "$US_IP" tcp-options-live 80 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "frames.py tcp-options-live failed"
sleep 0.3
after_attack
capture_stop
# 12 malformed SYNs and 12 malformed segments on the live connection.
d=$(counter_delta DropTcpMalformed)
[ "$d" -ge 24 ] || fail "DropTcpMalformed moved by $d, expected at least 24 (every malformed segment)"
log "netstat -s: DropTcpMalformed +$d"
n=$(count_frames "$WORK/opts.pcap" "ip.src==$US_IP && tcp.flags.syn==1 && tcp.dstport>=41000 && tcp.dstport<42000")
[ "$n" -eq 0 ] || fail "ustack answered $n SYNs with malformed options"
n=$(count_frames "$WORK/opts.pcap" "ip.src==$US_IP && tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.dstport>=42000 && tcp.dstport<42004")
[ "$n" -ge 4 ] || fail "ustack answered $n of the 4 SYNs with legal hostile options, expected 4"
n=$(count_frames "$WORK/opts.pcap" "ip.src==$US_IP && tcp.flags.reset==1 && tcp.srcport==80 && !(tcp.dstport>=42000 && tcp.dstport<42004)")
[ "$n" -eq 0 ] || fail "ustack sent $n RSTs for malformed segments"
log "no answer to the malformed SYNs; the legal hostile SYNs answered"
ustack_stop
echo PASS

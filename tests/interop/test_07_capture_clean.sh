#!/usr/bin/env bash
# 7. The exchanges of tests 1 and 3 (pings of 56, 4000, 8000 bytes; UDP echoes of
# 1..8000 bytes; socat) captured on tap0 and checked by tshark with IP/UDP/TCP/ICMP
# checksum validation on: no bad checksum, nothing malformed, no expert error, and
# every request has its reply.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools ping tcpdump tshark socat
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
ustack_up
capture_start "$WORK/exchange.pcap"
linux_ping 3 56
linux_ping 2 4000
linux_ping 2 8000
nsx timeout 60 "$PY" "$INTEROP_DIR/py/udp_echo.py" "$US_IP" 7 1 100 1472 1473 8000 >/dev/null \
  || fail "UDP echo failed"
got=$(printf 'capture test\n' | nsx timeout 5 socat -T 2 - "UDP:$US_IP:7" 2>&1) || true
[ "$got" = "capture test" ] || fail "socat echo: got '$got'"
capture_stop
f=$WORK/exchange.pcap
check_capture_clean "$f"
req=$(count_frames "$f" "ip.dst==$US_IP && icmp.type==8")
rep=$(count_frames "$f" "ip.src==$US_IP && icmp.type==0")
[ "$req" -eq 7 ] && [ "$rep" -eq 7 ] || fail "capture: $req echo requests, $rep echo replies (expected 7 and 7)"
frags=$(count_frames "$f" "ip.src==$US_IP && (ip.flags.mf==1 || ip.frag_offset>0)")
[ "$frags" -gt 0 ] || fail "capture: ustack sent no fragments (the 4000/8000-byte replies must be fragmented)"
udp=$(count_frames "$f" "ip.src==$US_IP && !icmp && udp.srcport==7")
[ "$udp" -eq 6 ] || fail "capture: $udp UDP echoes from ustack, expected 6"
total=$(count_frames "$f" "frame")
log "capture clean: $total frames, $req/$rep echo request/reply, $frags fragments from ustack, $udp UDP echoes"
ustack_stop
echo PASS

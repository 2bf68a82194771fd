#!/usr/bin/env bash
# 9. `ustack up --pcap FILE` writes a capture that tshark reads without a warning,
# holding the ICMP echo replies (with good checksums) once ustack has stopped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools ping tshark
setup
p=$WORK/ustack.pcap
ustack_up --pcap "$p"
linux_ping 3 56
linux_ping 1 3000
ustack_stop
[ -s "$p" ] || fail "--pcap file missing or empty"
err=$(tshark_q -n -r "$p" 2>&1 >/dev/null) || fail "tshark -r failed: $err"
[ -z "$err" ] || fail "tshark warns reading the --pcap file: $err"
rep=$(count_frames "$p" "ip.src==$US_IP && icmp.type==0")
req=$(count_frames "$p" "ip.dst==$US_IP && icmp.type==8")
[ "$rep" -eq 4 ] || fail "--pcap file holds $rep echo replies, expected 4"
[ "$req" -eq 4 ] || fail "--pcap file holds $req echo requests, expected 4"
check_capture_clean "$p"
log "pcap ok: $(count_frames "$p" frame) frames, $req requests, $rep replies"
echo PASS

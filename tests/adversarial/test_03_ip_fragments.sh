#!/usr/bin/env bash
# 3. Bogus IP headers and fragments during a download: interop's garbage.py
# (truncated frames, bad checksum, IHL 3 and 15, total length beyond the frame,
# bad options, overlapping, tiny and out-of-range fragments, a fragment flood
# over the reassembly limit), then py/frames.py fragments: 300 datagrams whose
# first fragment never gets the rest, 63 KB of middle fragments never closed,
# overlapping, 8-byte, past-65535 and teardrop fragments. No "BAD" probe is
# echoed, the download completes byte-exact, and netstat -s counts header errors
# (IpInHdrErrors), failed and timed-out reassembly (IpReasmFails) and the
# fragments taken in (IpReasmReqds); the reassembly queue drains (ss -s FRAG).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools tcpdump tshark
adv_start
capture_start "$WORK/frag.pcap"
transfer_start 3000000 400000
nsx timeout 60 "$PY" "$INTEROP_DIR/py/garbage.py" tap0 "$US_MAC" "$HOST_IP" "$US_IP" 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "garbage.py failed"
nsx timeout 30 "$PY" "$ADV_DIR/py/frames.py" tap0 "$US_MAC" "$US_IP" fragments 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "frames.py fragments failed"
sleep 0.3
frag=$("$USTACK" ss -s --ctl "$CTL" | awk '/^FRAG/ { print }')
log "reassembly right after the attack: $frag"
after_attack
capture_stop
bad=$(frames_matching "$WORK/frag.pcap" "ip.src==$US_IP && udp.srcport==7 && udp.payload contains \"BAD\"")
[ -z "$bad" ] || fail "ustack echoed malformed or incomplete datagrams:
$bad"
expect_moved IpInHdrErrors IpReasmReqds IpReasmFails IpInCsumErrors
ustack_stop
echo PASS

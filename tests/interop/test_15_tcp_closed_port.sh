#!/usr/bin/env bash
# 15. A SYN to a closed TCP port is answered by RST: `nmap -sS` (with and
# without -Pn) finds 7, 9, 19, 80 open and 81, 443, 8080 closed, none filtered;
# `nc -z -w1` to port 81 fails at once (refused, not a timeout), and the capture
# holds ustack's RST+ACK acknowledging the SYN (ack = ISN + 1, seq 0, window 0).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools nmap nc tcpdump tshark
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
ustack_up
capture_start "$WORK/scan.pcap"
PORTS=7,9,19,80,81,443,8080

# scan NAME [NMAP ARGS...] : "port/state" list, sorted by port.
scan() {
  local name=$1; shift
  nsx timeout 60 nmap -n -sS -p "$PORTS" --max-retries 2 --host-timeout 30s -oG "$WORK/$name.gnmap" "$@" "$US_IP" \
    >"$WORK/$name.out" 2>&1 || fail "nmap $* exited with status $?: $(tail -5 "$WORK/$name.out")"
  grep -o 'Ports: .*' "$WORK/$name.gnmap" | sed 's/^Ports: //; s/\t.*//' | tr ',' '\n' \
    | awk -F/ 'NF > 2 { gsub(/ /, "", $1); print $1 "/" $2 }' | sort -n | tr '\n' ' '
}
want="7/open 9/open 19/open 80/open 81/closed 443/closed 8080/closed "
for mode in plain pn; do
  if [ $mode = pn ]; then got=$(scan $mode -Pn); else got=$(scan $mode); fi
  [ "$got" = "$want" ] || fail "nmap -sS ($mode): '$got', expected '$want'
$(cat "$WORK/$mode.out")"
  log "nmap -sS ($mode): $got"
done

t0=$(date +%s%N)
rc=0
nsx timeout 10 nc -z -w1 "$US_IP" 81 >"$WORK/nc.out" 2>&1 || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -ne 0 ] || fail "nc -z to closed port 81 succeeded"
[ "$ms" -lt 900 ] || fail "nc -z to closed port 81 took $ms ms (a timeout, not a refusal?): $(cat "$WORK/nc.out")"
log "nc -z $US_IP 81: status $rc after $ms ms"
rc=0
nsx timeout 10 "$PY" -c "
import socket, sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect(('$US_IP', 81))
except ConnectionRefusedError:
    sys.exit(0)
except Exception as e:
    print('connect to port 81:', repr(e)); sys.exit(1)
print('connect to port 81 succeeded'); sys.exit(1)
" || fail "a Linux connect() to closed port 81 did not get ECONNREFUSED"
log "connect() to port 81: ECONNREFUSED"
capture_stop
capture_check_no_drops
check_capture_clean "$WORK/scan.pcap"
# Every SYN ustack received for a closed port got an RST+ACK (RFC 9293 3.10.7.1:
# <SEQ=0><ACK=SEG.SEQ+SEG.LEN+1><CTL=RST,ACK>).
syns=$(count_frames "$WORK/scan.pcap" "ip.dst==$US_IP && tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport in {81,443,8080}")
rsts=$(count_frames "$WORK/scan.pcap" "ip.src==$US_IP && tcp.flags.reset==1 && tcp.flags.ack==1 && tcp.seq_raw==0 && tcp.srcport in {81,443,8080}")
[ "$syns" -gt 0 ] && [ "$rsts" -eq "$syns" ] || fail "capture: $syns SYNs to closed ports, $rsts RST+ACK (seq 0) from ustack:
$(frames_matching "$WORK/scan.pcap" "tcp.port in {81,443,8080}")"
bad=$(tshark -n -r "$WORK/scan.pcap" -Y "tcp.port in {81,443,8080} && tcp.flags.syn==1 && tcp.flags.ack==0" \
        -T fields -e tcp.srcport -e tcp.dstport -e tcp.seq_raw 2>/dev/null | while read -r sp dp seq; do
        n=$(tshark -n -r "$WORK/scan.pcap" -Y "tcp.flags.reset==1 && tcp.srcport==$dp && tcp.dstport==$sp && tcp.ack_raw==$(( (seq + 1) % 4294967296 ))" 2>/dev/null | wc -l)
        [ "$n" -ge 1 ] || echo "SYN $sp->$dp seq $seq: no RST with ack $(( seq + 1 ))"
      done)
[ -z "$bad" ] || fail "capture: $bad"
log "capture: $syns SYNs to closed ports, each answered by RST+ACK with ack = ISN+1"
ustack_stop
echo PASS

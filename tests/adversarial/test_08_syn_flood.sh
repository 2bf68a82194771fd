#!/usr/bin/env bash
# 8. SYN flood (RFC 4987) against port 80 during which legitimate clients still
# connect: four hping3 processes, each spoofing one on-link source that does not
# exist (198.18.0.61-64, so no SYN-ACK is ever answered or refused), send SYNs
# as fast as they can for at most FLOOD_SECONDS (bounded by count and time),
# while Linux (198.18.0.1) makes 200 connections, 10 at a time, each with a
# GET /bytes/1000 and a 3-second budget: at least 99% must succeed. With the
# SYN queue full, SYNs are answered with SYN cookies (RFC 4987 3.6, on by
# default: docs/hardening.md), so no legitimate SYN is dropped: every client
# connects within 1 s (no SYN retransmission needed), and netstat -s counts the
# cookies sent (TcpExtSyncookiesSent, TcpExtTCPReqQFullDoCookies) and received
# back from the legitimate clients whose SYN met the full queue
# (TcpExtSyncookiesRecv, when any did). A download started before the flood
# completes byte-exact.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools hping3
FLOOD_SECONDS=${FLOOD_SECONDS:-8}
adv_start
transfer_start 3000000 400000
flood=()
for i in 1 2 3 4; do
  nsx timeout "$FLOOD_SECONDS" hping3 -q -S -p 80 -a "198.18.0.6$i" -i u20 -c 400000 "$US_IP" \
    >"$WORK/hping$i.out" 2>&1 &
  flood+=("$!"); STARTED_PIDS+=("$!")
done
sleep 1
out=$(nsx timeout 60 "$PY" "$ADV_DIR/py/legit_clients.py" "$US_IP" 200 10 3) || fail "legit_clients.py failed: $out"
log "legitimate clients during the flood: $out"
for p in "${flood[@]}"; do wait "$p" || true; done
sent=$(cat "$WORK"/hping*.out | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
log "flood: $sent SYNs sent by hping3 in ${FLOOD_SECONDS} s"
echo "NOTE: SYN flood of $sent SYNs in ${FLOOD_SECONDS} s; legitimate clients $out"
ok=$(sed -n 's/^ok \([0-9]*\)\/.*/\1/p' <<<"$out")
[ "$ok" -ge 198 ] || fail "only $ok of 200 legitimate clients succeeded during the SYN flood (want at least 99%)"
max_ms=$(sed -n 's/.*(max \([0-9]*\) ms.*/\1/p' <<<"$out")
[ "$max_ms" -lt 1000 ] || fail "a legitimate client took $max_ms ms: its SYN was dropped and retransmitted (SYN cookies should answer it)"
after_attack
expect_moved TcpExtSyncookiesSent TcpExtTCPReqQFullDoCookies
expect_unmoved TcpExtTCPReqQFullDrop
ustack_stop
echo PASS

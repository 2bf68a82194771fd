#!/usr/bin/env bash
# 5. Zero-window readers (the "Sockstress" pattern): 200 connections each ask
# for 10 MB and never read, from a 4 KiB receive buffer, so each advertises a
# zero window and ustack must hold what it cannot send. While they hold: ustack
# answers ping and HTTP, a download in progress completes byte-exact, the held
# connections stay bounded (each Send-Q at most its SO_SNDBUF, ss), ustack
# probes the zero windows (RFC 9293 3.8.6.1: "The sending TCP MUST regularly
# transmit at least one octet of new data (if available), or retransmit to the
# receiving TCP even if the send window is zero"; tcp.info.zero_window_probes),
# and its peak memory stays under the limit. When the readers close (with
# unread data, so RSTs), ustack frees every connection within 5 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
N=200
adv_start
transfer_start 3000000 400000
nsx timeout 60 "$PY" "$ADV_DIR/py/zero_window.py" "$US_IP" "$N" 10000000 "$WORK/release" 40 >"$WORK/zw.out" 2>&1 &
zw=$!; STARTED_PIDS+=("$zw")
for i in $(seq 1 100); do grep -q holding "$WORK/zw.out" && break; kill -0 "$zw" 2>/dev/null || break; sleep 0.1; done
grep -q holding "$WORK/zw.out" || fail "zero_window.py did not open its connections: $(cat "$WORK/zw.out")"
log "$(head -1 "$WORK/zw.out")"
sleep 3   # the windows close and ustack starts probing
"$USTACK" ss -tnmi --json --ctl "$CTL" "sport = :80" >"$WORK/ss.json" || fail "ustack ss failed"
read -r held maxq probes < <("$PY" - "$WORK/ss.json" <<'PYEOF'
import json, sys
socks = [s for s in json.load(open(sys.argv[1]))["sockets"] if s.get("tcp") and s["ss_state"] == "ESTAB"]
over = [s for s in socks if s["send_q"] > max(s["sndbuf"], 1)]
if over:
    print(f"Send-Q over SO_SNDBUF: {over[0]['send_q']} > {over[0]['sndbuf']}", file=sys.stderr); sys.exit(1)
print(len(socks), max((s["send_q"] for s in socks), default=0),
      sum(s["tcp"]["info"]["zero_window_probes"] for s in socks))
PYEOF
) || fail "a held connection's Send-Q exceeds its SO_SNDBUF"
log "held: $held established connections on :80, largest Send-Q $maxq bytes, $probes zero-window probes so far"
[ "$held" -ge "$N" ] || fail "only $held of the $N zero-window connections established"
[ "$probes" -gt 0 ] || fail "no zero-window probe sent on any of the $N connections"
after_attack
touch "$WORK/release"
wait "$zw" || fail "zero_window.py failed: $(cat "$WORK/zw.out")"
for i in $(seq 1 50); do
  left=$("$USTACK" ss -tnH --ctl "$CTL" "sport = :80" | wc -l)
  [ "$left" -eq 0 ] && break
  sleep 0.1
done
[ "$left" -eq 0 ] || fail "$left connections on :80 still held 5 s after the readers closed"
log "every zero-window connection freed after the readers closed"
ustack_stop
echo PASS

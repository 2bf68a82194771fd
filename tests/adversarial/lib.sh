# Shared helpers for the adversarial tests (tests/adversarial/adv_*.sh), on top
# of the interop helpers (tests/interop/lib.sh: setup, ustack_up, nsx, capture).
#
# Each test attacks one `ustack up` in its own namespace "us-<pid>-<n>" (tap0:
# Linux and the attacker at 198.18.0.1, ustack at 198.18.0.2), and around the
# attack checks what the issue asks of every attack:
#   adv_start            ustack up, the neighbour entry, the counters before;
#   transfer_start       a paced download (GET /bytes/N) running through
#                        the attack;
#   after_attack         ustack alive, answers ping and an HTTP GET, the
#                        transfer completes byte-exact (sha256), peak memory
#                        (VmHWM) under the limit;
#   expect_moved C...    each counter of `ustack netstat -s` moved since adv_start.
# Every loop is bounded in count and time.
# shellcheck shell=bash
ADV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../interop/lib.sh
source "$ADV_DIR/../interop/lib.sh"

# Peak resident memory of the ustack process allowed during an attack (KiB).
ADV_MEM_LIMIT_KB=${ADV_MEM_LIMIT_KB:-$((96 * 1024))}
US_MAC=""
CTL=""
XFER_PID=""
XFER_SIZE=0

# adv_start [USTACK UP ARGS...] : namespace, ustack up, Linux's neighbour entry
# for ustack, ustack's control socket, the counters before the attack.
adv_start() {
  require_tools curl sha256sum
  setup
  ustack_up "$@"
  linux_ping 1 56
  US_MAC=$(ip -n "$NS" neigh show "$US_IP" dev tap0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i+1) }')
  [ -n "$US_MAC" ] || fail "no neighbour entry for $US_IP after ping"
  CTL=/run/ustack/$US_PID.sock
  local i
  for i in $(seq 1 30); do [ -S "$CTL" ] && break; sleep 0.1; done
  [ -S "$CTL" ] || fail "no control socket $CTL"
  counters_json >"$WORK/counters.before.json"
}

# counters_json : ustack's counters now (netstat -s --json).
counters_json() { "$USTACK" netstat -s --json --ctl "$CTL" || fail "ustack netstat -s --json failed"; }

# counter_delta NAME : how much counter NAME moved since adv_start.
counter_delta() {
  counters_json >"$WORK/counters.now.json"
  "$PY" - "$WORK/counters.before.json" "$WORK/counters.now.json" "$1" <<'PYEOF'
import json, sys
a = json.load(open(sys.argv[1]))["counters"]; b = json.load(open(sys.argv[2]))["counters"]
n = sys.argv[3]
if n not in b:
    print(f"counter {n} unknown", file=sys.stderr); sys.exit(1)
print(b[n] - a.get(n, 0))
PYEOF
}

# expect_moved NAME... : fails unless every named counter moved since adv_start.
expect_moved() {
  local c d
  for c in "$@"; do
    d=$(counter_delta "$c") || fail "counter $c not in ustack netstat -s"
    [ "$d" -gt 0 ] || fail "counter $c did not move during the attack (netstat -s should explain the drops)"
    log "netstat -s: $c +$d"
  done
}

# expect_unmoved NAME... : fails if a named counter moved since adv_start.
expect_unmoved() {
  local c d
  for c in "$@"; do
    d=$(counter_delta "$c") || fail "counter $c not in ustack netstat -s"
    [ "$d" -eq 0 ] || fail "counter $c moved by $d during the attack"
  done
}

# print_moved : every counter that moved since adv_start (for the log).
print_moved() {
  counters_json >"$WORK/counters.now.json"
  "$PY" - "$WORK/counters.before.json" "$WORK/counters.now.json" <<'PYEOF'
import json, sys
a = json.load(open(sys.argv[1]))["counters"]; b = json.load(open(sys.argv[2]))["counters"]
print("  counters moved: " + " ".join(f"{k}+{v - a.get(k, 0)}" for k, v in b.items() if v != a.get(k, 0)))
PYEOF
}

# transfer_start SIZE RATE : Linux downloads /bytes/SIZE from ustack's HTTP
# server at RATE bytes a second through a small receive buffer (py/slow_get.py),
# so that the transfer on the wire runs through the attack.
transfer_start() {
  XFER_SIZE=$1
  nsx timeout 60 "$PY" "$ADV_DIR/py/slow_get.py" "$US_IP" "$XFER_SIZE" "$2" "$WORK/xfer.body" 50 \
    >"$WORK/xfer.out" 2>&1 &
  XFER_PID=$!
  STARTED_PIDS+=("$XFER_PID")
  local i
  for i in $(seq 1 50); do  # until the connection is established and data flows
    grep -q started "$WORK/xfer.out" 2>/dev/null && return 0
    kill -0 "$XFER_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "transfer did not start within 5 s: $(cat "$WORK/xfer.out")"
}

# transfer_check : waits for the transfer and checks it byte for byte.
transfer_check() {
  local rc=0
  wait "$XFER_PID" || rc=$?
  XFER_PID=""
  [ "$rc" -eq 0 ] || fail "transfer in progress during the attack failed (status $rc): $(cat "$WORK/xfer.out")"
  local want got
  want=$("$PY" "$INTEROP_DIR/py/bytes_gen.py" "$XFER_SIZE" | sha256sum | cut -d' ' -f1)
  got=$(sha256sum <"$WORK/xfer.body" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "transfer in progress during the attack: $(stat -c %s "$WORK/xfer.body") bytes, sha256 differs from /bytes/$XFER_SIZE's"
  log "transfer during the attack: $XFER_SIZE bytes, byte-exact ($(tail -1 "$WORK/xfer.out"))"
}

# peak_kb : the ustack process's peak resident memory (VmHWM, KiB).
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$US_PID/status"; }

# after_attack : what must hold after every attack.
after_attack() {
  ustack_alive || fail "ustack up died during the attack; stderr: $(tail -c 2000 "$US_ERR")"
  [ -z "$XFER_PID" ] || transfer_check
  linux_ping 3 56
  local out rc=0
  out=$(nsx timeout 20 curl -sS --max-time 10 -o "$WORK/get.body" -w '%{http_code}' "http://$US_IP/bytes/100000" 2>&1) || rc=$?
  [ "$rc" -eq 0 ] && [ "$out" = 200 ] || fail "HTTP GET after the attack: curl status $rc, '$out'"
  [ "$(sha256sum <"$WORK/get.body" | cut -d' ' -f1)" = "$("$PY" "$INTEROP_DIR/py/bytes_gen.py" 100000 | sha256sum | cut -d' ' -f1)" ] \
    || fail "HTTP GET after the attack: wrong body"
  log "after the attack: ustack answers ping and HTTP GET"
  local kb; kb=$(peak_kb)
  [ "$kb" -le "$ADV_MEM_LIMIT_KB" ] || fail "peak memory ${kb} KiB over the limit ${ADV_MEM_LIMIT_KB} KiB"
  log "peak memory ${kb} KiB (limit ${ADV_MEM_LIMIT_KB} KiB)"
  # The stack's own memory account (docs/hardening.md, Memory limits): its peak
  # never passes the configured max (--mem-limit; Linux's tcp_mem defaults).
  local peak max
  read -r peak max < <("$USTACK" netstat -s --ctl "$CTL" | awk '/^ustack memory:/ { m = 1 } m && $1 == "Peak:" { p = $2 } m && $1 == "Limits:" { x = $7 } END { print p, x }')
  [ -n "$peak" ] && [ -n "$max" ] || fail "no memory account in ustack netstat -s"
  [ "$peak" -le "$max" ] || fail "the memory account's peak $peak bytes is over its configured max $max"
  log "memory account: peak $peak bytes, max $max"
  echo "NOTE: peak memory ${kb} KiB; account peak $peak of max $max bytes"
  print_moved
}

# conn_info JSONPATH... : the live transfer's connection (ustack's side, port 80)
# from `ustack ss -tni --json`: prints tcp.info.<field> for each field.
conn_info() {
  "$USTACK" ss -tni --json --ctl "$CTL" "sport = :80" >"$WORK/ss.json" || fail "ustack ss failed"
  "$PY" - "$WORK/ss.json" "$@" <<'PYEOF'
import json, sys
socks = [s for s in json.load(open(sys.argv[1]))["sockets"] if s.get("tcp") and s["ss_state"] == "ESTAB"]
if len(socks) != 1:
    print(f"expected one established connection on :80, found {len(socks)}", file=sys.stderr); sys.exit(1)
t = socks[0]["tcp"]
print(" ".join(str(t["info"][f] if f in t["info"] else t[f]) for f in sys.argv[2:]))
PYEOF
}

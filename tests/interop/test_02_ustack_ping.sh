#!/usr/bin/env bash
# 2. ustack pings Linux (`ustack ping`, no `ustack up` on the TAP): 3 replies of
# 56 bytes, then 3 of 3000 bytes (fragments both ways); iputils-like output and
# exit status; a ping to an address nobody has exits 1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools nstat
setup

us_ping() {  # us_ping EXPECTED_STATUS EXPECTED_RECEIVED ARGS...
  local want_rc=$1 want=$2; shift 2
  local out rc=0
  out=$(nsx timeout 20 "$USTACK" ping --tap tap0 --addr "$US_CIDR" "$@" 2>&1) || rc=$?
  local got; got=$(ping_received "$out")
  echo "$out" | sed 's/^/    /'
  LAST_OUT=$out
  [ "$rc" -eq "$want_rc" ] || fail "ustack ping $*: exit status $rc, expected $want_rc"
  [ "$got" -eq "$want" ] || fail "ustack ping $*: $got received, expected $want"
  log "ustack ping $*: status $rc, $got received"
}

us_ping 0 3 -c 3 -i 0.2 "$HOST_IP"
grep -q "bytes from $HOST_IP" <<<"$LAST_OUT" \
  || fail "ustack ping prints no iputils-like 'bytes from $HOST_IP' line"
us_ping 0 3 -c 3 -i 0.2 -s 3000 "$HOST_IP"
# Nobody answers 198.18.0.99: no reply, exit status 1 (like iputils).
us_ping 1 0 -c 2 -i 0.2 -W 1 198.18.0.99
check_kernel_csum_clean
echo PASS

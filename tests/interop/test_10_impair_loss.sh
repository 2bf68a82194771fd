#!/usr/bin/env bash
# 10. `--impair loss=20%,seed=1`: ping -c 20 loses some echoes but not all, and
# the daemon keeps running and stops cleanly.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools ping
setup
ustack_up --impair loss=20%,seed=1
rc=0
out=$(nsx timeout 30 ping -n -c 20 -i 0.2 -W 1 "$US_IP" 2>&1) || rc=$?
got=$(ping_received "$out")
echo "$out" | tail -3 | sed 's/^/    /'
[ "$got" -ge 1 ] && [ "$got" -le 19 ] || fail "$got/20 replies with 20% loss, expected between 1 and 19"
ustack_alive || fail "ustack up died"
ustack_stop
log "$got/20 replies with loss=20%"
echo PASS

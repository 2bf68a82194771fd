#!/usr/bin/env bash
# 8. `ustack up --tap doesnotexist0` exits non-zero with a message naming the
# interface, and does not create it (TUNSETIFF would silently create it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
setup
rc=0
out=$(nsx timeout 5 "$USTACK" up --tap doesnotexist0 --addr "$US_CIDR" 2>&1) || rc=$?
echo "    $out"
[ "$rc" -ne 124 ] || fail "ustack up --tap doesnotexist0 still running after 5 s"
[ "$rc" -ne 0 ] || fail "ustack up --tap doesnotexist0 exited 0"
grep -q doesnotexist0 <<<"$out" || fail "the error message does not name the interface: '$out'"
if ip -n "$NS" link show doesnotexist0 >/dev/null 2>&1; then
  fail "ustack created an interface named doesnotexist0"
fi
grep -q ready <<<"$out" && fail "ustack printed 'ready' for a missing TAP"
log "exit status $rc, interface not created"
echo PASS

#!/usr/bin/env bash
# 12. wrk against `ustack up`'s HTTP server: 2 threads, 50 keep-alive
# connections for 5 s on GET /. No socket error (connect, read, write, timeout),
# no non-2xx response, a non-zero request rate (printed as a NOTE, not asserted:
# absolute figures on a 2-core virtual machine vary too much to assert), and the
# daemon still serves and stops cleanly afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools wrk curl
setup
ustack_up
rc=0
nsx timeout 30 wrk -t2 -c50 -d5s --timeout 2s "http://$US_IP/" >"$WORK/wrk.out" 2>&1 || rc=$?
sed 's/^/    /' "$WORK/wrk.out"
[ "$rc" -eq 0 ] || fail "wrk exited with status $rc"
if grep -q 'Socket errors' "$WORK/wrk.out"; then
  fail "wrk reports socket errors: $(grep 'Socket errors' "$WORK/wrk.out")"
fi
if grep -q 'Non-2xx or 3xx' "$WORK/wrk.out"; then
  fail "wrk reports bad responses: $(grep 'Non-2xx or 3xx' "$WORK/wrk.out")"
fi
rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out")
reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
[ -n "$rps" ] && [ -n "$reqs" ] || fail "no 'Requests/sec' or 'requests in' line in wrk's output"
awk -v r="$rps" 'BEGIN { exit !(r > 0) }' || fail "wrk: $rps requests/s"
[ "$reqs" -gt 0 ] || fail "wrk: $reqs requests"
# Still serving after the load.
code=$(nsx timeout 10 curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$US_IP/bytes/100") || true
[ "$code" = 200 ] || fail "after wrk: GET /bytes/100 -> '$code', expected 200"
ustack_stop
log "wrk: $reqs requests, $rps requests/s, no socket errors"
echo "NOTE: wrk -t2 -c50 -d5s GET /: $rps requests/s ($reqs requests, 0 socket errors)"
echo PASS

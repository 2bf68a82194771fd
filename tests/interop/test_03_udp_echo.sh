#!/usr/bin/env bash
# 3. UDP echo, Linux -> ustack port 7: datagrams of 1, 100, 1472, 1473 (first to
# be fragmented), 8000 bytes (and 0, 65507) come back byte-identical; one socat
# exchange; the kernel counts no UDP checksum error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools socat nstat
setup
ustack_up
nsx timeout 60 "$PY" "$INTEROP_DIR/py/udp_echo.py" "$US_IP" 7 1 100 1472 1473 8000 \
  || fail "UDP echo of sizes 1 100 1472 1473 8000 failed"
nsx timeout 60 "$PY" "$INTEROP_DIR/py/udp_echo.py" "$US_IP" 7 0 65507 \
  || fail "UDP echo of sizes 0 and 65507 (the largest datagram) failed"
msg="hello from socat $$ $(date +%s%N)"
got=$(printf '%s\n' "$msg" | nsx timeout 5 socat -T 2 - "UDP:$US_IP:7" 2>&1) || true
[ "$got" = "$msg" ] || fail "socat echo: sent '$msg', got '$got'"
log "socat echo ok"
check_kernel_csum_clean
ustack_stop
echo PASS

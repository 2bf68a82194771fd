#!/usr/bin/env bash
# 1. Linux pings ustack: 5 small echoes with 0% loss, then 4000- and 8000-byte
# echoes (fragmented both ways); the kernel counts no checksum or header error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools ping nstat
setup
ustack_up
linux_ping 5 56
linux_ping 3 4000
linux_ping 3 8000
check_kernel_csum_clean
ustack_alive || fail "ustack up died"
ustack_stop
echo PASS

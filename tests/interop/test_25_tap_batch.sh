#!/usr/bin/env bash
# 25. Batched TAP writes through io_uring (--tap-io uring; the default, auto, uses
#     it when offloads are off; link/uring_tx.h).
#  - With offloads off (one frame per segment: where batching matters) and on,
#    64 MiB through ustack's TCP echo from Linux `nc` (64 MiB each way) come back
#    byte-exact; the ready line says io_uring is used; no frame was dropped.
#  - Offloads off: ustack's device counters show batching: more than one frame
#    per io_uring_enter() on average, and some batch of at least 8 frames.
#  - `--tap-io plain`: one write() per frame (frames per submit exactly 1).
# Skips where io_uring is unavailable (the ready line says why).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools nc cmp
nc -h 2>&1 | grep -q 'OpenBSD netcat' || skip "missing tool: OpenBSD netcat (Debian package netcat-openbsd)"
setup
export USTACK_CTL_DIR=$WORK/ctl
unset USTACK_TAP_OFFLOAD USTACK_TAP_IO

dev_stat() {
  "$USTACK" addr --json | "$PY" -c "
import json, sys
j = json.load(sys.stdin)
i = [i for i in j['interfaces'] if i['name'] == 'tap0'][0]
print(i['stats']['$1'])"
}

echo_check() {
  head -c "$1" /dev/urandom >"$WORK/in.bin"
  local t0=$SECONDS
  nsx timeout 60 nc -N "$US_IP" 7 <"$WORK/in.bin" >"$WORK/out.bin" || fail "nc -N to echo failed ($1 bytes)"
  cmp -s "$WORK/in.bin" "$WORK/out.bin" ||
    fail "echo: $(stat -c %s "$WORK/out.bin") bytes back, not the $1 sent (or they differ)"
  log "echo: $1 bytes back byte-exact in $((SECONDS - t0)) s"
}

# run_batched OFFLOAD : one ustack up with --tap-offload OFFLOAD, 64 MiB echo;
# sets FRAMES, SUBMITS, BATCH_MAX.
run_batched() {
  ustack_up --tap-offload "$1" --tap-io uring
  grep -q "tx: io_uring" "$US_OUT" || {
    grep -q "io_uring unavailable" "$US_OUT" && skip "io_uring unavailable: $(grep -o 'io_uring unavailable[^)]*)' "$US_OUT")"
    fail "ready line does not say io_uring is used: $(head -c 400 "$US_OUT")"
  }
  echo_check $((64 * 1024 * 1024))
  FRAMES=$(dev_stat tx_frames)
  SUBMITS=$(dev_stat tx_submits)
  BATCH_MAX=$(dev_stat tx_batch_max)
  local drops="$(dev_stat rx_dropped) $(dev_stat tx_dropped)"
  [ "$drops" = "0 0" ] || fail "frames dropped by the device (rx, tx) with offloads $1: $drops"
  log "offloads $1: $FRAMES frames in $SUBMITS submits ($(( FRAMES * 100 / (SUBMITS > 0 ? SUBMITS : 1) )) per 100), largest batch $BATCH_MAX"
  ustack_stop
  sleep 1.5  # a TAP re-attached at once can drop the kernel's first frames (test 17)
}

run_batched 0
[ "$SUBMITS" -gt 0 ] || fail "no submit counted (tx_submits 0)"
[ "$FRAMES" -gt "$SUBMITS" ] || fail "offloads off: no batching ($FRAMES frames in $SUBMITS submits)"
[ "$BATCH_MAX" -ge 8 ] || fail "offloads off: the largest batch was $BATCH_MAX frames"
run_batched 1

# auto (the default): io_uring without offloads, plain with them.
ustack_up --tap-offload 1
grep -q "tx: one write() per frame (--tap-io auto" "$US_OUT" || fail "auto with offloads: $(head -c 400 "$US_OUT")"
ustack_stop
sleep 1.5
ustack_up --tap-io plain --tap-offload 0
grep -q "tx: one write() per frame (asked: --tap-io plain)" "$US_OUT" || fail "ready line does not say plain: $(head -c 400 "$US_OUT")"
echo_check $((8 * 1024 * 1024))
[ "$(dev_stat tx_frames)" -eq "$(dev_stat tx_submits)" ] || fail "plain: frames and writes differ"
[ "$(dev_stat tx_batch_max)" -eq 1 ] || fail "plain: a batch of more than one frame"
ustack_stop

#!/usr/bin/env bash
# 22. TAP offloads (IFF_VNET_HDR, TUNSETOFFLOAD CSUM|TSO4; docs/performance.md).
#  - With offloads (the default), 64 MiB through ustack's TCP echo from Linux
#    `nc` come back byte-exact: Linux -> ustack arrives as GRO/TSO super-frames
#    with partial checksums, ustack -> Linux leaves as coalesced TSO super-frames.
#    ustack's device counters show both were really used (rx_gso_frames and
#    tx_gso_frames > 0, and the segments per sent super-frame > 1), no frame was
#    refused for its vnet header, and no checksum or TCP error was counted on
#    either side.
#  - ustack nc sends 2.5 GB to Linux nc on one connection: exactly that many
#    bytes arrive (past 2^31 bytes, where a sequence comparison once failed).
#  - The fallback, `--tap-offload 0`, on the same TAP right after: the ready line
#    says so, 16 MiB echo byte-exact, no super-frame counted, and a capture on
#    tap0 shows no frame longer than the MTU from either side and only good
#    checksums (so the plain path switched the kernel's offloads off again).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools nc tcpdump tshark cmp
nc -h 2>&1 | grep -q 'OpenBSD netcat' || skip "missing tool: OpenBSD netcat (Debian package netcat-openbsd)"
setup
export USTACK_CTL_DIR=$WORK/ctl
unset USTACK_TAP_OFFLOAD

# stat FIELD : one device counter of tap0 from `ustack addr --json`.
dev_stat() {
  "$USTACK" addr --json | "$PY" -c "
import json, sys
j = json.load(sys.stdin)
i = [i for i in j['interfaces'] if i['name'] == 'tap0'][0]
print(i['stats']['$1'])"
}

# echo_check BYTES : BYTES of random data through ustack's echo port, compared.
echo_check() {
  head -c "$1" /dev/urandom >"$WORK/in.bin"
  local t0=$SECONDS
  nsx timeout 60 nc -N "$US_IP" 7 <"$WORK/in.bin" >"$WORK/out.bin" || fail "nc -N to echo failed ($1 bytes)"
  cmp -s "$WORK/in.bin" "$WORK/out.bin" ||
    fail "echo: $(stat -c %s "$WORK/out.bin") bytes back, not the $1 sent (or they differ)"
  log "echo: $1 bytes back byte-exact in $((SECONDS - t0)) s"
}

ustack_up --stats-on-exit
grep -q "offload vnet_hdr csum tso4" "$US_OUT" || {
  grep -q "offload off: the kernel refused" "$US_OUT" && skip "this kernel refuses TAP offloads: $(grep -o 'offload off[^)]*)' "$US_OUT")"
  fail "ready line does not say which offloads are used: $(head -c 400 "$US_OUT")"
}
echo_check $((64 * 1024 * 1024))
rx_gso=$(dev_stat rx_gso_frames)
tx_gso=$(dev_stat tx_gso_frames)
tx_segs=$(dev_stat tx_gso_segments)
bad=$(dev_stat rx_bad_vnet)
drops="$(dev_stat rx_dropped) $(dev_stat tx_dropped)"
log "offloads on: rx_gso_frames $rx_gso, tx_gso_frames $tx_gso carrying $tx_segs segments, rx_bad_vnet $bad, rx/tx dropped $drops"
[ "$rx_gso" -gt 0 ] || fail "no GRO/TSO super-frame received from the kernel (rx_gso_frames 0)"
[ "$tx_gso" -gt 0 ] || fail "no TSO super-frame sent (tx_gso_frames 0)"
[ "$tx_segs" -gt "$tx_gso" ] || fail "super-frames sent carry no more than one segment each ($tx_segs segments in $tx_gso)"
[ "$bad" -eq 0 ] || fail "$bad frames refused for their vnet header"
[ "$drops" = "0 0" ] || fail "frames dropped by the device (rx, tx): $drops"
errs=$(nsx ip -s -s link show tap0 | awk '/RX:/ { getline; print $3 + $4 }' | head -1)
[ "$errs" -eq 0 ] || fail "the kernel counted $errs receive errors/drops on tap0"
ustack_stop
for c in IpInCsumErrors UdpInCsumErrors DropTcpMalformed TcpInErrs DropDeviceTx; do
  v=$(counter "$c")
  [ "$v" -eq 0 ] || fail "ustack counted $c $v with offloads on"
done
# Not asserted: on two shared cores a timer-driven probe (TLP, RTO) can fire while
# the peer is not scheduled, so a retransmission here need not mean a lost frame.
echo "NOTE: ustack TcpRetransSegs $(counter TcpRetransSegs) with offloads on (64 MiB echo)"
csum=$(nsx nstat -az TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" { print $2 }')
[ "${csum:-0}" -eq 0 ] || fail "Linux counted $csum TCP checksum errors"

# Past 2 GiB on one connection (sequence numbers compare modulo 2^32: ustack's
# sender once took SND.UNA for "before ISS" there and sent wrong, duplicated data,
# then stalled). 2.5 GB from ustack nc to Linux nc, counted exactly.
sleep 1.5
BIG=2500000000
nsx timeout 60 nc -l "$HOST_IP" 5022 | wc -c >"$WORK/big.count" &
lnc=$!; STARTED_PIDS+=("$lnc")
for i in $(seq 1 50); do [ -n "$(nsx ss -Hltn "sport = :5022")" ] && break; sleep 0.1; done
t0=$SECONDS
head -c "$BIG" /dev/zero | nsx timeout 50 "$USTACK" nc --tap tap0 --addr "$US_CIDR" "$HOST_IP" 5022 ||
  fail "ustack nc sending $BIG bytes failed or timed out"
wait "$lnc" || true
got=$(cat "$WORK/big.count")
[ "$got" = "$BIG" ] || fail "Linux received $got bytes of the $BIG ustack nc sent"
log "$BIG bytes from ustack nc, exactly, in $((SECONDS - t0)) s"

# The fallback, right after, on the same TAP.
sleep 1.5   # a TAP re-attached at once can drop the kernel's first frames (test 17)
capture_start "$WORK/plain.pcap"
ustack_up --tap-offload 0
grep -q "offload off (asked: --tap-offload 0)" "$US_OUT" || fail "ready line does not say offloads are off: $(head -c 400 "$US_OUT")"
linux_ping 2 56
echo_check $((16 * 1024 * 1024))
[ "$(dev_stat rx_gso_frames)" -eq 0 ] || fail "super-frames received with --tap-offload 0"
[ "$(dev_stat tx_gso_frames)" -eq 0 ] || fail "super-frames sent with --tap-offload 0"
ustack_stop
capture_stop
capture_check_no_drops
n=$(count_frames "$WORK/plain.pcap" "tcp")
[ "$n" -gt 10000 ] || fail "capture: only $n TCP frames for 32 MiB"
long=$(count_frames "$WORK/plain.pcap" "frame.len > 1514")
[ "$long" -eq 0 ] || fail "capture: $long frames longer than the MTU with offloads off"
check_capture_clean "$WORK/plain.pcap"
log "fallback: $n TCP frames, none longer than the MTU, checksums good"

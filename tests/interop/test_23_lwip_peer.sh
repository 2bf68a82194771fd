#!/usr/bin/env bash
# 23. The lwIP peer of `ustack bench` (bench/lwip_peer/, ustack-lwip-peer on
# Debian's liblwip-dev) is a correct host, so that the bench's lwIP rows measure
# a working TCP: alone on tap0 as 198.18.0.2 (ustack is not started),
#  - it answers Linux's ping of 56 and 1400 bytes (frames over the 592 bytes
#    that break the library's own TAP driver);
#  - sink: Linux `nc -N` sends 8 MiB of random bytes; the peer reports exactly
#    8388608 bytes with the file's sha256, and closes;
#  - source: the peer sends 8 MiB of its pseudo-random sequence to Linux
#    `nc -l`; Linux gets 8388608 bytes whose sha256 is the one the peer reports
#    for what it handed to lwIP; both exit 0;
#  - the kernel counted no checksum error (IP, ICMP, TCP) from lwIP.
# Skipped when liblwip-dev is not installed (the peer is then not built); a
# build that has liblwip-dev but no peer fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools ping nstat nc sha256sum
nc -h 2>&1 | grep -q 'OpenBSD netcat' || skip "missing tool: OpenBSD netcat (nc with -N; Debian package netcat-openbsd)"
PEER=$(dirname "$USTACK")/ustack-lwip-peer
if [ ! -x "$PEER" ]; then
  dpkg-query -W -f='${Status}' liblwip-dev 2>/dev/null | grep -q "install ok installed" \
    || skip "liblwip-dev not installed (the lwIP peer is not built without it)"
  fail "liblwip-dev is installed but $PEER is missing (configure a fresh build directory)"
fi
setup
trap 'rc=$?; rm -f "$WORK"/*.bin; set +e; (exit $rc); _cleanup' EXIT

SIZE=$((8 * 1024 * 1024))
PEER_ARGS=(--tap tap0 --addr "$US_CIDR" --timeout 40)

# peer_start OUT ARGS... : the peer in the background (its pid in PEER_PID),
# waiting (5 s at most) for its "ready" line.
peer_start() {
  local out=$1; shift
  : >"$out"
  ip netns exec "$NS" "$PEER" "${PEER_ARGS[@]}" "$@" >"$out" 2>&1 &
  PEER_PID=$!
  STARTED_PIDS+=("$PEER_PID")
  local i
  for i in $(seq 1 50); do
    grep -q '^ready' "$out" && return 0
    kill -0 "$PEER_PID" 2>/dev/null || fail "the lwIP peer exited before 'ready': $(cat "$out")"
    sleep 0.1
  done
  fail "the lwIP peer printed no 'ready' within 5 s: $(cat "$out")"
}

# peer_wait OUT : waits (45 s at most) for the peer; fails unless it exits 0.
peer_wait() {
  local rc=0
  wait "$PEER_PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "the lwIP peer exited with status $rc: $(cat "$1")"
}

head -c "$SIZE" /dev/urandom >"$WORK/data.bin"
want=$(sha256sum <"$WORK/data.bin" | cut -d' ' -f1)

# --- ping and sink ---------------------------------------------------------------
peer_start "$WORK/sink.out" --mode sink --port 5001 --hash --count 1
linux_ping 5 56
linux_ping 5 1400
rc=0
nsx timeout 30 nc -N "$US_IP" 5001 <"$WORK/data.bin" >/dev/null 2>"$WORK/nc.err" || rc=$?
[ "$rc" -eq 0 ] || fail "sink: Linux nc exited with status $rc: $(cat "$WORK/nc.err")"
peer_wait "$WORK/sink.out"
line=$(grep '^sink ' "$WORK/sink.out" || true)
[ -n "$line" ] || fail "sink: the peer printed no result: $(cat "$WORK/sink.out")"
grep -q " bytes=$SIZE " <<<"$line" || fail "sink: expected bytes=$SIZE: $line"
grep -q " sha256=$want\$" <<<"$line" || fail "sink: expected sha256=$want (the file's): $line"
log "sink: $line"

# --- source ------------------------------------------------------------------------
nsx timeout 40 nc -l "$HOST_IP" 5002 </dev/null >"$WORK/got.bin" 2>"$WORK/ncl.err" &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5002
peer_start "$WORK/source.out" --mode source --connect "$HOST_IP:5002" --bytes "$SIZE" --hash
peer_wait "$WORK/source.out"
rc=0; wait "$lnc" || rc=$?
[ "$rc" -eq 0 ] || fail "source: Linux nc -l exited with status $rc: $(cat "$WORK/ncl.err")"
line=$(grep '^source ' "$WORK/source.out" || true)
[ -n "$line" ] || fail "source: the peer printed no result: $(cat "$WORK/source.out")"
grep -q " bytes=$SIZE " <<<"$line" || fail "source: expected bytes=$SIZE: $line"
sent=$(sed -n 's/.* sha256=\([0-9a-f]\{64\}\)$/\1/p' <<<"$line")
[ -n "$sent" ] || fail "source: no sha256 in: $line"
got_size=$(stat -c %s "$WORK/got.bin")
[ "$got_size" -eq "$SIZE" ] || fail "source: Linux received $got_size bytes, expected $SIZE"
got=$(sha256sum <"$WORK/got.bin" | cut -d' ' -f1)
[ "$got" = "$sent" ] || fail "source: Linux received sha256 $got, the peer sent $sent"
log "source: $line; Linux received the same"

check_kernel_csum_clean
v=$(kernel_counter TcpInCsumErrors)
[ "$v" -eq 0 ] || fail "kernel counter TcpInCsumErrors = $v (expected 0)"
echo "NOTE: lwIP peer: 8 MiB Linux -> lwIP in $(grep -o "seconds=[0-9.]*" "$WORK/sink.out" | cut -d= -f2) s (hashing), lwIP -> Linux in $(grep -o "seconds=[0-9.]*" "$WORK/source.out" | cut -d= -f2) s (hashing)"
echo PASS

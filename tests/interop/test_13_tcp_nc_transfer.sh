#!/usr/bin/env bash
# 13. Bulk TCP between `ustack nc` (alone on tap0, as 198.18.0.2) and Linux
# servers in the namespace:
#  - download: Linux `nc -N -l` sends 1 GiB of random bytes and closes; ustack nc
#    receives it (sha256 of its standard output equals the file's);
#  - upload: ustack nc sends the same 1 GiB, half-closes; Linux `nc -l` receives
#    it (sha256) and closes;
#  - HTTP: `python3 -m http.server` serves a 64 MiB file; ustack nc sends
#    "GET /file HTTP/1.0" and the body after the headers has the file's sha256.
# Each 1 GiB transfer must finish within 60 s (about 9 s each on the 2-core
# development machine, ~950 Mbit/s); the throughputs are printed as NOTE lines.
# INTEROP_NC_BYTES overrides the size (bytes) for quick runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools nc ss sha256sum
nc -h 2>&1 | grep -q 'OpenBSD netcat' || skip "missing tool: OpenBSD netcat (nc with -N; Debian package netcat-openbsd)"
setup
# The 1 GiB files are never worth keeping, not even when the test fails.
trap 'rc=$?; rm -f "$WORK"/*.bin "$WORK"/www/*.bin; set +e; (exit $rc); _cleanup' EXIT

SIZE=${INTEROP_NC_BYTES:-1073741824}
LIMIT=60
log "generating $SIZE random bytes"
head -c "$SIZE" /dev/urandom >"$WORK/data.bin"
[ "$(stat -c %s "$WORK/data.bin")" -eq "$SIZE" ] || fail "could not write $SIZE bytes to $WORK/data.bin"
want=$(sha256sum <"$WORK/data.bin" | cut -d' ' -f1)
US_NC=("$USTACK" nc --tap tap0 --addr "$US_CIDR")

# wait_listen PORT : until a Linux socket listens on PORT in the namespace (5 s).
# fin_wait2 PORT : true once the kernel's connection on local port PORT has sent
# its FIN and had it acknowledged (all its data and FIN acknowledged by ustack).
fin_wait2() { [ -n "$(nsx ss -Htn state fin-wait-2 "sport = :$1")" ]; }

mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b * 8 / (ns / 1e9) / 1e6 }'; }

# --- download: Linux nc -N -l sends, ustack nc receives --------------------------
nsx timeout $((LIMIT + 10)) nc -N -l "$HOST_IP" 5001 <"$WORK/data.bin" >"$WORK/dl.linux.out" 2>"$WORK/dl.linux.err" &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5001
# ustack nc's standard input stays open until the kernel has sent everything and
# its FIN was acknowledged: OpenBSD nc stops sending (and closes) as soon as it
# reads end of stream from the network, so ustack must not half-close first.
hold_until_fin() {
  local i
  for i in $(seq 1 $((LIMIT * 10))); do
    fin_wait2 5001 && return 0
    kill -0 "$lnc" 2>/dev/null || return 0   # Linux nc is gone: nothing to wait for
    sleep 0.1
  done
  return 0
}
t0=$(date +%s%N)
rc=0
hold_until_fin | nsx timeout "$LIMIT" "${US_NC[@]}" "$HOST_IP" 5001 2>"$WORK/dl.us.err" \
  | sha256sum >"$WORK/dl.sha" || rc=$?
t1=$(date +%s%N)
[ "$rc" -eq 0 ] || fail "download: ustack nc (or its pipeline) exited with status $rc$( [ "$rc" -eq 124 ] && echo " (not done within ${LIMIT} s)"): $(cat "$WORK/dl.us.err")"
lrc=0; wait "$lnc" || lrc=$?
[ "$lrc" -eq 0 ] || fail "download: Linux nc exited with status $lrc: $(cat "$WORK/dl.linux.err")"
got=$(cut -d' ' -f1 "$WORK/dl.sha")
[ "$got" = "$want" ] || fail "download: sha256 $got of what ustack received, expected $want ($SIZE bytes)"
dl_ms=$(( (t1 - t0) / 1000000 )); dl_mbps=$(mbps "$SIZE" $((t1 - t0)))
log "download: $SIZE bytes intact in $dl_ms ms ($dl_mbps Mbit/s)"

# --- upload: ustack nc sends, Linux nc -l receives ---------------------------------
# Linux nc's standard input is empty and without -N it never half-closes: it
# closes once it has read ustack's FIN.
nsx timeout $((LIMIT + 10)) nc -l "$HOST_IP" 5002 </dev/null 2>"$WORK/ul.linux.err" | sha256sum >"$WORK/ul.sha" &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5002
t0=$(date +%s%N)
rc=0
nsx timeout "$LIMIT" "${US_NC[@]}" "$HOST_IP" 5002 <"$WORK/data.bin" >"$WORK/ul.us.out" 2>"$WORK/ul.us.err" || rc=$?
t1=$(date +%s%N)
[ "$rc" -eq 0 ] || fail "upload: ustack nc exited with status $rc$( [ "$rc" -eq 124 ] && echo " (not done within ${LIMIT} s)"): $(cat "$WORK/ul.us.err")"
lrc=0; wait "$lnc" || lrc=$?
[ "$lrc" -eq 0 ] || fail "upload: Linux nc | sha256sum exited with status $lrc: $(cat "$WORK/ul.linux.err")"
got=$(cut -d' ' -f1 "$WORK/ul.sha")
[ "$got" = "$want" ] || fail "upload: sha256 $got of what Linux received, expected $want ($SIZE bytes)"
[ ! -s "$WORK/ul.us.out" ] || fail "upload: ustack nc printed data nobody sent: $(head -c 200 "$WORK/ul.us.out" | od -c | head -5)"
ul_ms=$(( (t1 - t0) / 1000000 )); ul_mbps=$(mbps "$SIZE" $((t1 - t0)))
log "upload: $SIZE bytes intact in $ul_ms ms ($ul_mbps Mbit/s)"

# --- HTTP/1.0 from python3 -m http.server --------------------------------------
HSIZE=$((64 * 1024 * 1024)); [ "$HSIZE" -le "$SIZE" ] || HSIZE=$SIZE
mkdir -p "$WORK/www"
head -c "$HSIZE" "$WORK/data.bin" >"$WORK/www/file.bin"
rm -f "$WORK/data.bin"
hwant=$(sha256sum <"$WORK/www/file.bin" | cut -d' ' -f1)
nsx "$PY" -m http.server 8000 --bind "$HOST_IP" --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
STARTED_PIDS+=("$!")
wait_listen 8000
rc=0
printf 'GET /file.bin HTTP/1.0\r\n\r\n' | nsx timeout 30 "${US_NC[@]}" "$HOST_IP" 8000 >"$WORK/resp.bin" 2>"$WORK/http.us.err" || rc=$?
[ "$rc" -eq 0 ] || fail "HTTP: ustack nc exited with status $rc: $(cat "$WORK/http.us.err")"
read -r status clen hgot < <("$PY" - "$WORK/resp.bin" <<'EOF'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
head, sep, body = data.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
status = lines[0].split(" ")[1] if sep and " " in lines[0] else "none"
clen = next((l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("content-length:")), "none")
print(status, clen, hashlib.sha256(body).hexdigest())
EOF
)
[ "$status" = 200 ] && [ "$clen" = "$HSIZE" ] \
  || fail "HTTP: status '$status', Content-Length '$clen' (expected 200, $HSIZE): $(head -c 300 "$WORK/resp.bin")"
[ "$hgot" = "$hwant" ] || fail "HTTP: body sha256 $hgot, expected $hwant ($HSIZE bytes)"
rm -f "$WORK/resp.bin"
log "HTTP/1.0 GET of $HSIZE bytes from python3 http.server intact"

# --- stopped mid-send: a quiet exit ------------------------------------------
# A peer that accepts and never reads: ustack nc's blocking send waits on a full
# window until SIGTERM. Stopping it is not a send error: it must not print one
# (it printed "send: Success" when the interrupted send returned a short count).
nsx timeout 30 "$PY" -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$HOST_IP"'", 5003)); s.listen(1)
c, _ = s.accept(); time.sleep(25)' >/dev/null 2>&1 &
STARTED_PIDS+=("$!")
wait_listen 5003
# Not through nsx (a function: $! would be a subshell): ip netns exec execs
# ustack itself, so $! is ustack nc's pid.
ip netns exec "$NS" "${US_NC[@]}" "$HOST_IP" 5003 </dev/zero >/dev/null 2>"$WORK/stop.us.err" &
unc=$!; STARTED_PIDS+=("$unc")
for i in $(seq 1 50); do
  [ -n "$(nsx ss -Htn state established "sport = :5003")" ] && break
  sleep 0.1
done
sleep 1   # the window fills and send blocks
kill -TERM "$unc"
for i in $(seq 1 100); do kill -0 "$unc" 2>/dev/null || break; sleep 0.1; done
kill -0 "$unc" 2>/dev/null && fail "stop: ustack nc still runs 10 s after SIGTERM"
rc=0; wait "$unc" || rc=$?
[ "$rc" -ne 143 ] || fail "stop: ustack nc died of SIGTERM instead of handling it"
! grep -q 'send:' "$WORK/stop.us.err" || fail "stop: ustack nc reported a send error when stopped: $(cat "$WORK/stop.us.err")"
log "stopped mid-send with status $rc and no send error"

echo "NOTE: ustack nc download (Linux nc -> ustack) $SIZE bytes in $dl_ms ms: $dl_mbps Mbit/s"
echo "NOTE: ustack nc upload (ustack -> Linux nc) $SIZE bytes in $ul_ms ms: $ul_mbps Mbit/s"
echo PASS

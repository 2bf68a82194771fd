#!/usr/bin/env bash
# 14. Orderly close in both orders, each side seeing all the data, no RST:
#  A. Linux closes first: `nc -N -l` sends 1 MiB and half-closes; ustack nc
#     reads it all and end of stream, then (in CLOSE-WAIT) sends a line and
#     closes; Linux nc receives the line and exits 0.
#  B. ustack closes first: ustack nc sends 1 MiB and half-closes when its
#     standard input ends; Linux `nc -l` reads it all and end of stream, closes;
#     ustack nc exits 0.
#  C. Against `ustack up`: Linux `nc -N` to the echo port sends 1 MiB and
#     half-closes first, gets all of it back and ustack's FIN; curl with
#     "Connection: close" makes the HTTP server close first.
# The capture shows the first FIN from the expected side and no RST at all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools nc ss curl tcpdump tshark sha256sum
nc -h 2>&1 | grep -q 'OpenBSD netcat' || skip "missing tool: OpenBSD netcat (Debian package netcat-openbsd)"
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
tshark_tcp_ports_as_data 5003 5004 7
US_NC=("$USTACK" nc --tap tap0 --addr "$US_CIDR")
head -c 1048576 /dev/urandom >"$WORK/a.dat"
head -c 1048576 /dev/urandom >"$WORK/b.dat"
capture_start "$WORK/close.pcap"

# first_fin PORT : source address of the first FIN on the connection with PORT.
first_fin() {
  tshark -n -r "$WORK/close.pcap" -Y "tcp.port==$1 && tcp.flags.fin==1" -T fields -e ip.src 2>/dev/null | head -1
}
# closed_first PORT SRC : SRC's FIN acknowledges no FIN of its peer, so SRC closed on
# its own (an active close) whichever FIN the capture shows first. The two FINs
# can cross: curl closes as soon as it has the whole body, while ustack's close()
# travels from the server's thread to the stack's (tens of microseconds).
closed_first() {
  local src_ack peer_fin
  src_ack=$(tshark -n -r "$WORK/close.pcap" -Y "tcp.port==$1 && tcp.flags.fin==1 && ip.src==$2" -T fields -e tcp.ack 2>/dev/null | head -1)
  peer_fin=$(tshark -n -r "$WORK/close.pcap" -Y "tcp.port==$1 && tcp.flags.fin==1 && ip.src!=$2" -T fields -e tcp.seq 2>/dev/null | head -1)
  [ -n "$src_ack" ] && { [ -z "$peer_fin" ] || [ "$src_ack" -le "$peer_fin" ]; }
}
fins() { tshark -n -r "$WORK/close.pcap" -Y "tcp.port==$1 && tcp.flags.fin==1" -T fields -e ip.src 2>/dev/null | sort -u | tr '\n' ' '; }

# --- A: Linux closes first ------------------------------------------------------
nsx timeout 30 nc -N -l "$HOST_IP" 5003 <"$WORK/a.dat" >"$WORK/a.linux.out" 2>"$WORK/a.linux.err" &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5003
# ustack nc's input: nothing until Linux's FIN was acknowledged (Linux socket in
# FIN-WAIT-2), then one line, then end of input.
reply_after_fin() {
  local i
  for i in $(seq 1 200); do
    [ -n "$(nsx ss -Htn state fin-wait-2 "sport = :5003")" ] && break
    kill -0 "$lnc" 2>/dev/null || break
    sleep 0.1
  done
  echo "reply from ustack"
}
rc=0
reply_after_fin | nsx timeout 30 "${US_NC[@]}" "$HOST_IP" 5003 >"$WORK/a.us.out" 2>"$WORK/a.us.err" || rc=$?
[ "$rc" -eq 0 ] || fail "A: ustack nc exited with status $rc: $(cat "$WORK/a.us.err")"
cmp -s "$WORK/a.us.out" "$WORK/a.dat" || fail "A: ustack nc received $(stat -c %s "$WORK/a.us.out") bytes, not the 1048576 Linux sent"
lrc=0; wait "$lnc" || lrc=$?
[ "$lrc" -eq 0 ] || fail "A: Linux nc exited with status $lrc: $(cat "$WORK/a.linux.err")"
[ "$(cat "$WORK/a.linux.out")" = "reply from ustack" ] || fail "A: Linux nc received '$(head -c 200 "$WORK/a.linux.out")', expected 'reply from ustack'"
log "A: Linux closed first; ustack nc got all 1 MiB and EOF, its reply after the FIN reached Linux"

# --- B: ustack closes first -------------------------------------------------------
nsx timeout 30 nc -l "$HOST_IP" 5004 </dev/null >"$WORK/b.linux.out" 2>"$WORK/b.linux.err" &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5004
rc=0
nsx timeout 30 "${US_NC[@]}" "$HOST_IP" 5004 <"$WORK/b.dat" >"$WORK/b.us.out" 2>"$WORK/b.us.err" || rc=$?
[ "$rc" -eq 0 ] || fail "B: ustack nc exited with status $rc: $(cat "$WORK/b.us.err")"
lrc=0; wait "$lnc" || lrc=$?
[ "$lrc" -eq 0 ] || fail "B: Linux nc exited with status $lrc: $(cat "$WORK/b.linux.err")"
cmp -s "$WORK/b.linux.out" "$WORK/b.dat" || fail "B: Linux received $(stat -c %s "$WORK/b.linux.out") bytes, not the 1048576 ustack sent"
[ ! -s "$WORK/b.us.out" ] || fail "B: ustack nc printed bytes Linux never sent"
log "B: ustack closed first; Linux got all 1 MiB and EOF, ustack nc exited 0"

# --- C: against ustack up -----------------------------------------------------------
ustack_up
rc=0
nsx timeout 30 nc -N "$US_IP" 7 <"$WORK/a.dat" >"$WORK/c.echo.out" 2>"$WORK/c.echo.err" || rc=$?
[ "$rc" -eq 0 ] || fail "C: nc -N to echo exited with status $rc: $(cat "$WORK/c.echo.err")"
cmp -s "$WORK/c.echo.out" "$WORK/a.dat" || fail "C: echo returned $(stat -c %s "$WORK/c.echo.out") bytes, not the 1048576 sent"
code=$(nsx timeout 10 curl -s --max-time 5 -H 'Connection: close' -o "$WORK/c.http.out" -w '%{http_code}' \
       "http://$US_IP/bytes/100000") || fail "C: curl with Connection: close failed"
[ "$code" = 200 ] && [ "$(stat -c %s "$WORK/c.http.out")" -eq 100000 ] || fail "C: Connection: close GET: status $code"
log "C: echo of 1 MiB after Linux's half-close complete; HTTP Connection: close served"
sleep 0.2   # the last ACKs
ustack_stop
capture_stop
capture_check_no_drops

# --- The capture ---------------------------------------------------------------------
f=$WORK/close.pcap
check_capture_clean "$f"
rst=$(frames_matching "$f" "tcp.flags.reset==1")
[ -z "$rst" ] || fail "capture: RST in clean closes (expected none):
$rst"
[ "$(first_fin 5003)" = "$HOST_IP" ] || fail "A: first FIN from '$(first_fin 5003)', expected Linux ($HOST_IP)"
[ "$(first_fin 5004)" = "$US_IP" ] || fail "B: first FIN from '$(first_fin 5004)', expected ustack ($US_IP)"
[ "$(first_fin 7)" = "$HOST_IP" ] || fail "C echo: first FIN from '$(first_fin 7)', expected Linux ($HOST_IP)"
closed_first 80 "$US_IP" || fail "C http: ustack's FIN acknowledges curl's: the server did not close first (first FIN from '$(first_fin 80)')"
for p in 5003 5004 7 80; do
  [ "$(fins $p)" = "$HOST_IP $US_IP " ] || fail "port $p: FINs from '$(fins $p)', expected one from each side"
  # Exactly one FIN per side: a retransmitted FIN would mean it went unacknowledged.
  n=$(count_frames "$f" "tcp.port==$p && tcp.flags.fin==1")
  [ "$n" -eq 2 ] || fail "port $p: $n FIN segments, expected exactly 2 (a retransmitted FIN means the other side never acknowledged it):
$(frames_matching "$f" "tcp.port==$p && tcp.flags.fin==1")"
done
log "capture: no RST; first FIN from Linux in A and C-echo, from ustack in B and C-http; one FIN per side"
echo PASS

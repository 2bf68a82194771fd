#!/usr/bin/env bash
# 17. TCP exchanges captured on tap0 and checked by tshark with IP/TCP checksum
# validation on: curl GET / and /bytes/10000000 and a keep-alive pair; 1 MiB
# through the echo port and into discard (Linux `nc -N`); 100 kB from chargen;
# then `ustack nc` downloading and uploading 64 MiB with Linux `nc`.
# Expected: no bad checksum, nothing malformed, no expert error, no frame from
# ustack longer than the MTU, and no TCP analysis flag except these, which a
# correct exchange over a lossless TAP can show:
#  - tcp.analysis.window_update: a receiver reopening its window when its
#    application reads (ustack does this once the reader drains its buffer);
#  - tcp.analysis.window_full / zero_window / zero_window_probe(_ack): a sender
#    filling the window of a receiver whose application is slower (ustack nc
#    writing into a pipe, python reading chargen) is flow control at work;
#  - tcp.analysis.keep_alive(_ack): idle probes.
# Anything else (retransmission, fast/spurious retransmission, duplicate ACK,
# out-of-order, lost segment, ACKed unseen segment, reused ports) means a lost,
# misordered or misnumbered segment on a link that loses nothing: printed, FAIL.
# The chargen client closes with unread data, so Linux's RST on port 19 is the
# test's own doing and is the only RST allowed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools curl nc ss tcpdump tshark sha256sum
nc -h 2>&1 | grep -q 'OpenBSD netcat' || skip "missing tool: OpenBSD netcat (Debian package netcat-openbsd)"
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
trap 'rc=$?; rm -f "$WORK"/*.bin; set +e; (exit $rc); _cleanup' EXIT
# Linux's timer-driven early retransmissions (tail loss probes, RACK) fire within
# a few milliseconds; on two shared cores ustack is sometimes not scheduled that
# soon, and Linux re-sends segments that were not lost (seen: a 5 ms gap). These
# per-namespace sysctls leave Linux with RTO (200 ms at least) and three duplicate
# ACKs, so a retransmission in the capture still means a real loss or a ustack bug.
nsx sysctl -qw net.ipv4.tcp_early_retrans=0 net.ipv4.tcp_recovery=0
tshark_tcp_ports_as_data 7 9 19 5005 5006
capture_start "$WORK/tcp.pcap"
ustack_up
URL=http://$US_IP

code=$(nsx timeout 20 curl -s --max-time 10 -o "$WORK/index.html" -w '%{http_code}' "$URL/") || true
[ "$code" = 200 ] || fail "GET /: '$code'"
size=$(nsx timeout 30 curl -s --max-time 20 -o /dev/null -w '%{size_download}' "$URL/bytes/10000000") || true
[ "$size" = 10000000 ] || fail "GET /bytes/10000000: '$size' bytes"
nsx timeout 20 curl -s --max-time 10 -o /dev/null "$URL/bytes/1000" -o /dev/null "$URL/" || fail "keep-alive pair failed"
head -c 1048576 /dev/urandom >"$WORK/small.bin"
nsx timeout 20 nc -N "$US_IP" 7 <"$WORK/small.bin" >"$WORK/echo.bin" || fail "nc -N to echo failed"
cmp -s "$WORK/echo.bin" "$WORK/small.bin" || fail "echo: $(stat -c %s "$WORK/echo.bin") bytes back, not the 1048576 sent"
nsx timeout 20 nc -N "$US_IP" 9 <"$WORK/small.bin" >"$WORK/discard.out" || fail "nc -N to discard failed"
[ ! -s "$WORK/discard.out" ] || fail "discard answered with data"
got=$(nsx timeout 20 "$PY" -c "
import socket
s = socket.create_connection(('$US_IP', 19), timeout=5)
n = 0
while n < 100000:
    d = s.recv(65536)
    if not d: break
    n += len(d)
s.close()
print(n)
") || fail "chargen client failed"
[ "$got" -ge 100000 ] || fail "chargen: $got bytes"
log "curl, echo, discard, chargen exchanges done"
ustack_stop
# A TAP re-attached within about a second of being released can drop what the
# kernel sends (its carrier change waits for the kernel's rate-limited link
# watch): seen as Linux's first ARP reply to ustack nc going missing, ustack nc's
# SYN timing out while queued behind ARP, and the original and retransmitted SYN
# both leaving once ARP resolves (duplicate SYN, SYN+ACK and ACK in the capture).
# Seen even 2 s after the release, on the first attach after `ustack up` only;
# not a TCP matter: a warm-up `ustack ping` takes that first exchange.
sleep 1.5
nsx timeout 10 "$USTACK" ping --tap tap0 --addr "$US_CIDR" -c 2 -i 0.5 -W 2 "$HOST_IP" >"$WORK/warmup.out" 2>&1 || true

# ustack nc, 64 MiB each way (see test 13 for why ustack's input is held open).
SIZE=$((64 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$WORK/data.bin"
want=$(sha256sum <"$WORK/data.bin" | cut -d' ' -f1)
US_NC=("$USTACK" nc --tap tap0 --addr "$US_CIDR")
nsx timeout 40 nc -N -l "$HOST_IP" 5005 <"$WORK/data.bin" >/dev/null &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5005
hold() {
  local i
  for i in $(seq 1 300); do
    [ -n "$(nsx ss -Htn state fin-wait-2 "sport = :5005")" ] && return 0
    kill -0 "$lnc" 2>/dev/null || return 0
    sleep 0.1
  done
}
got=$(hold | nsx timeout 30 "${US_NC[@]}" "$HOST_IP" 5005 | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "download of $SIZE bytes: sha256 $got, expected $want"
wait "$lnc" || fail "download: Linux nc failed"
sleep 1.5   # the TAP settles again after ustack nc released it (see above)
nsx timeout 40 nc -l "$HOST_IP" 5006 </dev/null | sha256sum >"$WORK/ul.sha" &
lnc=$!; STARTED_PIDS+=("$lnc")
wait_listen 5006
nsx timeout 30 "${US_NC[@]}" "$HOST_IP" 5006 <"$WORK/data.bin" >/dev/null || fail "upload: ustack nc failed"
wait "$lnc" || true
[ "$(cut -d' ' -f1 "$WORK/ul.sha")" = "$want" ] || fail "upload of $SIZE bytes: wrong sha256"
rm -f "$WORK/data.bin"
log "ustack nc: $SIZE bytes each way intact"
capture_stop
capture_check_no_drops

f=$WORK/tcp.pcap
check_capture_clean "$f"
total=$(count_frames "$f" "tcp")
big=$(frames_matching "$f" "ip.src==$US_IP && frame.len > 1514")
[ -z "$big" ] || fail "frames from ustack longer than the 1500-byte MTU:
$(head -10 <<<"$big")"
rst=$(frames_matching "$f" "tcp.flags.reset==1 && !(ip.src==$HOST_IP && tcp.dstport==19)")
[ -z "$rst" ] || fail "RST segments the test did not cause:
$(head -20 <<<"$rst")"
allowed='tcp.analysis.window_update || tcp.analysis.window_full || tcp.analysis.zero_window || tcp.analysis.zero_window_probe || tcp.analysis.zero_window_probe_ack || tcp.analysis.keep_alive || tcp.analysis.keep_alive_ack'
# After the chargen client's close, ustack's segments in flight meet Linux's
# RST: analysis of that stream's tail is the test's doing, so port 19 is left out.
flagged=$(frames_matching "$f" "tcp.analysis.flags && !($allowed) && !(tcp.port==19)")
if [ -n "$flagged" ]; then
  fail "$(wc -l <<<"$flagged") TCP analysis flags not expected on a lossless link:
$(head -40 <<<"$flagged")"
fi
notes=$(tshark -n -r "$f" "${TSHARK_CSUM[@]}" -Y "tcp.analysis.flags" -T fields -e _ws.expert.message 2>/dev/null \
        | tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort | uniq -c | sort -rn | head -8 | tr -s ' ' | tr '\n' ';')
log "capture: $total TCP frames, checksums good, nothing malformed; allowed analysis notes: ${notes:-none}"
echo "NOTE: $total TCP frames checked; analysis notes (allowed): ${notes:-none}"
echo PASS

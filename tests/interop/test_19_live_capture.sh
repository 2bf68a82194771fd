#!/usr/bin/env bash
# 19. Live capture: `ustack capture` attaches to a running `ustack up` through
# its control socket and streams the frames crossing tap0 as pcap.
#  - `ustack capture -c 6 -w - icmp | tshark -r -` reads, live, the 3 echo
#    requests of Linux's ping -c 3 and ustack's 3 replies, in a pcap tshark
#    decodes without error.
#  - A second capture to a file with the filter `tcp port 80`, running at the
#    same time as the first, records curl's HTTP exchange: the same TCP segments
#    (flags, sequence and acknowledgement numbers, lengths) as tcpdump sees on
#    tap0, and nothing that is not port 80.
#  - While both captures stream, `ustack ss` still answers at once.
#  - A filter libpcap rejects is a clear error; stopping the host ends a
#    capture by itself.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools ping tcpdump tshark curl
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
export USTACK_CTL_DIR=$WORK/ctl
US=("$USTACK")

capture_start "$WORK/ref.pcap"
ustack_up
ctl=$USTACK_CTL_DIR/$US_PID.sock

# A filter libpcap rejects.
rc=0; out=$("${US[@]}" capture -w "$WORK/bad.pcap" tcp port 2>&1) || rc=$?
[ "$rc" -eq 1 ] && grep -q "bad filter 'tcp port'" <<<"$out" || fail "bad filter: status $rc, '$out'"
# No pcap on a terminal, and none asked for: refused before attaching.

# waits (5 s at most) until a capture's stderr says it is attached.
wait_attached() {
  local i
  for i in $(seq 1 50); do grep -q "^ustack capture: pid $US_PID" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "ustack capture did not attach within 5 s: $(cat "$1")"
}

# 1. Live into tshark, which exits after the capture's 6 frames end the stream.
( "${US[@]}" capture -c 6 -w - --ctl "$ctl" icmp 2>"$WORK/live.err" |
    tshark -n -r - -T fields -e frame.protocols -e ip.src -e ip.dst -e icmp.type "${TSHARK_CSUM[@]}" \
      >"$WORK/live.txt" 2>"$WORK/tshark-live.err" ) &
live=$!; STARTED_PIDS+=("$live")
wait_attached "$WORK/live.err"

# 2. To a file, port 80 only.
"${US[@]}" capture -w "$WORK/http.pcap" --ctl "$ctl" tcp port 80 2>"$WORK/http.err" &
httpcap=$!; STARTED_PIDS+=("$httpcap")
wait_attached "$WORK/http.err"

linux_ping 3 56
body=$(nsx timeout 10 curl -sS --max-time 5 "http://$US_IP/") || fail "curl failed"
[ -n "$body" ] || fail "curl: empty body"

# ss answers while two captures stream (the server serves clients at once).
t0=$(date +%s%N)
out=$(timeout 5 "${US[@]}" ss -tan --ctl "$ctl") || fail "ustack ss did not answer during the captures"
t1=$(date +%s%N)
grep -q ":80 " <<<"$out" || fail "ustack ss during the capture: no port 80 listener:
$out"
log "ss answered in $(( (t1 - t0) / 1000000 )) ms while 2 captures streamed"

for i in $(seq 1 50); do kill -0 "$live" 2>/dev/null || break; sleep 0.1; done
kill -0 "$live" 2>/dev/null && fail "the live capture did not end after 6 frames: $(cat "$WORK/live.err")"
wait "$live" || fail "live capture pipeline failed: $(cat "$WORK/live.err") $(grep -v 'Running as user' "$WORK/tshark-live.err")"
log "live: $(tr '\n' ';' <"$WORK/live.txt")"
grep -q "^6 packets captured" "$WORK/live.err" || fail "ustack capture -c 6: $(cat "$WORK/live.err")"
[ "$(wc -l <"$WORK/live.txt")" -eq 6 ] || fail "tshark read $(wc -l <"$WORK/live.txt") frames live, want 6:
$(cat "$WORK/live.txt")"
req=$(awk -F'\t' -v h="$HOST_IP" -v u="$US_IP" '$1 ~ /^eth:ethertype:ip:icmp/ && $2 == h && $3 == u && $4 == 8' "$WORK/live.txt" | wc -l)
rep=$(awk -F'\t' -v h="$HOST_IP" -v u="$US_IP" '$1 ~ /^eth:ethertype:ip:icmp/ && $2 == u && $3 == h && $4 == 0' "$WORK/live.txt" | wc -l)
[ "$req" -eq 3 ] && [ "$rep" -eq 3 ] || fail "live capture: $req echo requests and $rep replies, want 3 and 3:
$(cat "$WORK/live.txt")"

# The file capture against tcpdump's view of the same port-80 segments.
sleep 0.3
capture_stop
capture_check_no_drops
fields=(-T fields -e tcp.srcport -e tcp.dstport -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw -e tcp.len)
tshark_q -n -r "$WORK/ref.pcap" -Y "tcp.port==80" "${fields[@]}" | sort >"$WORK/ref.txt"
ustack_stop   # also ends the file capture: the host stopped
for i in $(seq 1 50); do kill -0 "$httpcap" 2>/dev/null || break; sleep 0.1; done
kill -0 "$httpcap" 2>/dev/null && fail "ustack capture did not end when the host stopped"
rc=0; wait "$httpcap" || rc=$?
[ "$rc" -eq 0 ] || fail "ustack capture exited $rc when the host stopped: $(cat "$WORK/http.err")"
grep -q "(the host stopped)" "$WORK/http.err" || fail "ustack capture: $(cat "$WORK/http.err")"
check_capture_clean "$WORK/http.pcap"
tshark_q -n -r "$WORK/http.pcap" "${fields[@]}" | sort >"$WORK/http.txt"
n=$(wc -l <"$WORK/http.txt")
[ "$n" -ge 8 ] || fail "the port-80 capture holds $n segments, want a whole HTTP exchange (8 or more)"
diff "$WORK/ref.txt" "$WORK/http.txt" >"$WORK/diff.txt" || fail "ustack capture and tcpdump disagree on the port-80 segments:
$(head -40 "$WORK/diff.txt")"
other=$(count_frames "$WORK/http.pcap" "!(tcp.port==80)")
[ "$other" -eq 0 ] || fail "the 'tcp port 80' capture holds $other other frames"
log "port-80 capture: the same $n segments as tcpdump's"
echo PASS

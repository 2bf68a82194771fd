#!/usr/bin/env bash
# 4. UDP from ustack to Linux. `ustack up` originates UDP only as echo replies:
# those are checked (source 198.18.0.2:7, destination the sender's port, valid
# checksum present, the kernel delivers every one). If the CLI has `nc`, also
# `ustack nc -u` sends datagrams of 1, 1472, 1473 and 8000 bytes to a Linux
# socket, compared by sha256.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools tcpdump tshark nstat sha256sum
setup
plain_frames  # the capture on tap0 checks checksums and segments: TAP offloads off
ustack_up
capture_start "$WORK/udp.pcap"
before=$(kernel_counter UdpInDatagrams)
nsx timeout 60 "$PY" "$INTEROP_DIR/py/udp_echo.py" "$US_IP" 7 1 100 1473 8000 || fail "UDP echo failed"
after=$(kernel_counter UdpInDatagrams)
[ $((after - before)) -eq 4 ] || fail "kernel UdpInDatagrams grew by $((after - before)), expected 4 echo replies"
capture_stop
n=$(count_frames "$WORK/udp.pcap" "ip.src==$US_IP && udp && !icmp")
[ "$n" -eq 4 ] || fail "capture: $n UDP datagrams from ustack, expected 4"
n=$(count_frames "$WORK/udp.pcap" "ip.src==$US_IP && udp && !icmp && !(udp.srcport==7 && ip.dst==$HOST_IP && udp.checksum!=0)")
[ "$n" -eq 0 ] || fail "capture: $n UDP datagrams from ustack with a wrong port/address or no checksum"
n=$(count_frames "$WORK/udp.pcap" "ip.src==$US_IP && !icmp && udp.checksum.status==1")
[ "$n" -eq 4 ] || fail "capture: $n of 4 echo replies have a checksum tshark verifies as good"
check_capture_clean "$WORK/udp.pcap"
log "echo path ustack -> Linux ok (4 datagrams, good checksums)"

if "$USTACK" nc --help >/dev/null 2>&1; then
  # ustack nc -u: stdin -> one datagram per read; needs its own TAP owner, so stop `up`.
  ustack_stop
  for size in 1 1472 1473 8000; do
    head -c "$size" /dev/urandom >"$WORK/data.$size"
    want=$(sha256sum <"$WORK/data.$size" | cut -d' ' -f1)
    nsx "$PY" "$INTEROP_DIR/py/udp_sink.py" "$HOST_IP" 5555 1 10 >"$WORK/sink.$size" 2>&1 &
    sink=$!; STARTED_PIDS+=("$sink")
    for i in $(seq 1 50); do grep -q listening "$WORK/sink.$size" && break; sleep 0.1; done
    nsx timeout 10 "$USTACK" nc -u -w 0.5 --tap tap0 --addr "$US_CIDR" "$HOST_IP" 5555 <"$WORK/data.$size" \
      >"$WORK/nc.$size.out" 2>&1 || fail "ustack nc -u exited with status $? for $size bytes: $(cat "$WORK/nc.$size.out")"
    rc=0; wait "$sink" || rc=$?
    [ "$rc" -eq 0 ] || fail "ustack nc -u: no $size-byte datagram arrived: $(cat "$WORK/sink.$size" "$WORK/nc.$size.out")"
    line=$(grep -v listening "$WORK/sink.$size" | head -1)
    read -r from len sum <<<"$line"
    [ "${from%:*}" = "$US_IP" ] && [ "$len" -eq "$size" ] && [ "$sum" = "$want" ] \
      || fail "ustack nc -u $size bytes: got '$line', expected $US_IP $size $want"
    log "ustack nc -u: $size bytes arrived intact"
  done
else
  echo "NOTE: this ustack has no 'nc' command: only the echo-reply path ustack -> Linux was checked (needs 'ustack nc -u')"
  ustack_stop
fi
check_kernel_csum_clean
echo PASS

#!/usr/bin/env bash
# 4. Land attack (CVE-1999-0016): SYNs whose source is ustack's own address and
# port, to itself, 200 of them from scapy and a bounded hping3 burst; and SYNs
# from martian sources (127.0.0.1, 0.0.0.0, broadcast, multicast). RFC 1122
# 3.2.1.3: a host "MUST silently discard" a datagram from such a source. ustack
# answers none (no segment to its own address leaves it, no SYN-ACK to a
# martian), counts them (DropIpMartianSource) and the download completes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools tcpdump tshark hping3
adv_start
capture_start "$WORK/land.pcap"
transfer_start 3000000 400000
nsx timeout 30 "$PY" "$ADV_DIR/py/frames.py" tap0 "$US_MAC" "$US_IP" land 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "frames.py land failed"
# hping3 sends through the kernel's routing, so the spoofed source leaves on tap0.
nsx timeout 20 hping3 -q -S -a "$US_IP" -s 80 -k -p 80 -c 500 -i u200 "$US_IP" >"$WORK/hping.out" 2>&1 || true
log "hping3 land burst: $(grep -h 'packets transmitted' "$WORK/hping.out" || tail -1 "$WORK/hping.out")"
sleep 0.3
after_attack
capture_stop
n=$(count_frames "$WORK/land.pcap" "eth.src==$US_MAC && ip.dst==$US_IP")
[ "$n" -eq 0 ] || fail "ustack sent $n frames to its own address"
n=$(count_frames "$WORK/land.pcap" "eth.src==$US_MAC && (ip.dst==127.0.0.1 || ip.dst==0.0.0.0 || ip.dst==255.255.255.255 || ip.dst==224.0.0.1)")
[ "$n" -eq 0 ] || fail "ustack answered $n martian sources"
d=$(counter_delta DropIpMartianSource)
[ "$d" -ge 204 ] || fail "DropIpMartianSource moved by $d, expected at least 204 (every land and martian SYN)"
log "netstat -s: DropIpMartianSource +$d"
ustack_stop
echo PASS

#!/usr/bin/env bash
# 9. ARP spoofing: while a download runs, the attacker sends unsolicited ARP
# replies and gratuitous requests that map Linux's address (198.18.0.1) to a
# bogus MAC, and requests that claim ustack's own address. With the protection
# on by default (docs/hardening.md, ARP poisoning: --arp-accept 0, --arp-protect
# 1) ustack's neighbour entry for 198.18.0.1 keeps Linux's MAC (ustack neigh),
# no frame from ustack goes to the bogus MAC, the download completes byte-exact,
# and netstat -s counts what it refused (DropArpMacChange: the entry exists,
# so every spoofed message is a refused MAC change).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools tcpdump tshark
# ADV_ARP_FLAGS="--arp-protect 0 --arp-accept 1 --arp-locktime 0" turns the protection
# off: the test then fails (cache poisoned), as it should.
adv_start ${ADV_ARP_FLAGS:-}
host_mac=$(ip -n "$NS" link show tap0 | awk '/link\/ether/ { print $2 }')
capture_start "$WORK/arp.pcap"
transfer_start 3000000 400000
nsx timeout 30 "$PY" "$ADV_DIR/py/frames.py" tap0 "$US_MAC" "$US_IP" arp-spoof "$HOST_IP" 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "frames.py arp-spoof failed"
sleep 0.3
entry=$("$USTACK" neigh --ctl "$CTL" | awk -v ip="$HOST_IP" '$1 == ip')
log "ustack's neighbour entry after the spoofing: $entry"
grep -qi "lladdr $host_mac" <<<"$entry" || fail "ARP cache poisoned: $entry (Linux's MAC is $host_mac)"
expect_moved DropArpMacChange
after_attack
capture_stop
n=$(count_frames "$WORK/arp.pcap" "eth.src==$US_MAC && eth.dst==02:de:ad:be:ef:01")
[ "$n" -eq 0 ] || fail "ustack sent $n frames to the bogus MAC"
ustack_stop
echo PASS

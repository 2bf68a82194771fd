#!/usr/bin/env bash
# 6. Spoofed ICMP errors against a live connection (RFC 5927; RFC 1191; RFC
# 5461; RFC 6633): while a download runs, py/frames.py icmp-spoof sends
# "fragmentation needed" with MTU 0, 1, 67, 68 and 65535 quoting a sequence
# number not in flight, and with MTU 0, 1, 67 and 65535 quoting one in flight;
# net, host, protocol, port and admin-prohibited unreachables, time exceeded and
# parameter problem quoting a sequence number not in flight; source quench;
# and port and protocol unreachable quoting one in flight. RFC 5927 4.1: only an
# error quoting SND.UNA =< SEQ < SND.NXT is acted on; RFC 1191: an MTU under 68
# is not believed, and one above the current path MTU changes nothing; RFC
# 5461 / RFC 1122 4.2.3.9: a hard error never aborts an established connection;
# RFC 6633: source quench is ignored. So the connection's MSS is unchanged, it
# is not reset, the download completes byte-exact, and netstat -s counts the
# errors (IcmpInDestUnreachs, IcmpInTimeExcds, IcmpInParmProbs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools tcpdump tshark
adv_start
capture_start "$WORK/icmp.pcap"
transfer_start 3000000 400000
mss_before=$(conn_info snd_mss)
nsx timeout 30 "$PY" "$ADV_DIR/py/frames.py" tap0 "$US_MAC" "$US_IP" icmp-spoof 80 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "frames.py icmp-spoof failed"
sleep 0.3
mss_after=$(conn_info snd_mss)
[ "$mss_after" = "$mss_before" ] || fail "spoofed frag-needed changed the connection's MSS from $mss_before to $mss_after"
log "connection MSS unchanged ($mss_after) after the spoofed frag-needed errors"
after_attack
capture_stop
n=$(count_frames "$WORK/icmp.pcap" "tcp.flags.reset==1")
[ "$n" -eq 0 ] || fail "$n RSTs during the ICMP spoofing: a connection was aborted"
d=$(counter_delta IcmpInDestUnreachs)
[ "$d" -ge 16 ] || fail "IcmpInDestUnreachs moved by $d, expected 16"
expect_moved IcmpInTimeExcds IcmpInParmProbs
expect_unmoved TcpEstabResets
log "netstat -s: IcmpInDestUnreachs +$d"
ustack_stop
echo PASS

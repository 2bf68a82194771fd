#!/usr/bin/env bash
# 1. Blind RST, SYN and data injection into a live connection at in-window and
# out-of-window sequence numbers, and ACKs of data never sent (RFC 5961, RFC
# 9293 3.10.7.4): a download from ustack's HTTP server runs while the attacker,
# knowing the ports and sniffing one segment for the sequence numbers, injects
# ten segments (py/inject.py). The in-window RSTs and the SYNs draw challenge
# ACKs (tcp.info.challenge_acks), nothing resets the connection (no RST from
# either side, TcpEstabResets unmoved) and the download completes byte-exact.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_scapy
require_tools tcpdump tshark
adv_start
capture_start "$WORK/inject.pcap"
transfer_start 3000000 400000
before=$(conn_info challenge_acks)
nsx timeout 30 "$PY" "$ADV_DIR/py/inject.py" tap0 "$US_MAC" "$US_IP" 80 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "inject.py failed"
sleep 0.3
after=$(conn_info challenge_acks)
ch=$((after - before))
log "challenge ACKs sent during the injection: $ch"
# rst-in-window, syn-in-window, syn-out-window, rst-ack-unsent (the rate limit is 10 a second).
[ "$ch" -ge 4 ] || fail "expected at least 4 challenge ACKs (RFC 5961 3.2, 4.2), got $ch"
after_attack
capture_stop
# No RST left ustack, and the stream Linux received holds no injected byte
# (transfer_check compared it), nor did ustack echo any.
n=$(count_frames "$WORK/inject.pcap" "ip.src==$US_IP && tcp.flags.reset==1")
[ "$n" -eq 0 ] || fail "ustack sent $n RSTs during the injection"
expect_unmoved TcpEstabResets
ustack_stop
echo PASS

#!/usr/bin/env bash
# 7. nmap scans: SYN scan (-sS) of ports 1-1024, UDP scan (-sU) of 29 ports
# (1-20 and some well known), ACK scan (-sA) and OS detection (-O), bounded (--max-retries 1,
# --host-timeout 60 s). What nmap reports must be the truth: TCP 7, 9, 19 and
# 80 open and every other scanned TCP port closed (each closed port answers
# RST, RFC 9293 3.10.7.1); UDP 7 open or open|filtered, the other UDP ports
# closed or open|filtered (ICMP port unreachable is rate-limited, RFC 1812
# 4.3.2.8, IcmpOutRateLimited); the ACK scan finds every port unfiltered (an
# unexpected ACK draws a RST). A download in progress completes byte-exact.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_tools nmap
adv_start
transfer_start 3000000 400000
nmap_run() {
  local name=$1; shift
  nsx timeout 80 nmap -n -Pn --max-retries 1 --host-timeout 60s -oG "$WORK/$name.gnmap" "$@" "$US_IP" \
    >"$WORK/$name.out" 2>&1 || fail "nmap $*: $(tail -5 "$WORK/$name.out")"
  log "nmap $*: $(grep -h 'Ports:' "$WORK/$name.gnmap" | sed 's/.*Ports: //' | tr ',' '\n' | awk -F/ '{print $2}' | sort | uniq -c | tr '\n' ' ')"
}
nmap_run syn -sS -p 1-1024 -T4
open=$(grep -ho '[0-9]*/open/tcp' "$WORK/syn.gnmap" | cut -d/ -f1 | sort -n | tr '\n' ' ')
[ "$open" = "7 9 19 80 " ] || fail "SYN scan: open ports '$open', expected '7 9 19 80 '"
grep -q 'Ignored State: closed (1020)' "$WORK/syn.gnmap" || fail "SYN scan: the 1020 other ports are not all closed: $(grep Ports "$WORK/syn.gnmap")"
nmap_run ack -sA -p 1-100 -T4
grep -q 'Ignored State: unfiltered (100)' "$WORK/ack.gnmap" || fail "ACK scan: not every port unfiltered: $(grep Ports "$WORK/ack.gnmap")"
nmap_run udp -sU -p 1-20,53,67-69,123,137,161,500,514 -T4
grep -qE ' 7/(open|open\|filtered)/udp' "$WORK/udp.gnmap" || fail "UDP scan: port 7 not open: $(grep Ports "$WORK/udp.gnmap")"
nmap_run os -O -p 22,80 --osscan-guess
log "nmap -O: $(grep -h -E '^(Running|OS details|Aggressive OS guesses|No exact OS)' "$WORK/os.out" | head -2 | tr '\n' ' ')"
after_attack
expect_moved TcpOutRsts IcmpOutDestUnreachs
ustack_stop
echo PASS

#!/usr/bin/env bash
# 18. See inside: `ustack ss`, `netstat -s` and `neigh` read running ustack
# processes through their control sockets (here in $WORK/ctl, USTACK_CTL_DIR).
#  - Linux holds 3 idle TCP connections to ustack up's echo port (having sent
#    100, 200, 300 bytes and read none of the echoes), and accepts one from
#    `ustack nc` (on a second TAP), which sends 1000 bytes and half-closes.
#  - `ustack ss -tn` (the sockets of both ustack processes) lists exactly those
#    4 connections, mirrored by Linux's own `ss -tn`: the same 4-tuples reversed,
#    ESTAB<->ESTAB and FIN-WAIT-2<->CLOSE-WAIT, and the queues as both sides see them.
#  - `ustack netstat -s` agrees with what tshark counts on tap0: TcpPassiveOpens
#    = SYNs to ustack, IcmpInEchos = the echo requests of ping -c 3,
#    UdpInDatagrams = datagrams to port 7.
#  - `ustack neigh` shows 198.18.0.1 with the kernel's tap0 MAC.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_python
require_tools ss ping tcpdump tshark
setup
export USTACK_CTL_DIR=$WORK/ctl
NC_HOST_IP=198.18.1.1   # Linux on tap1, for ustack nc
NC_US_CIDR=198.18.1.2/24
ip -n "$NS" tuntap add dev tap1 mode tap
ip -n "$NS" addr add "$NC_HOST_IP/24" dev tap1
ip -n "$NS" link set tap1 up
US=("$USTACK")

# Nothing runs yet: a clear error.
rc=0; out=$("${US[@]}" ss -tn 2>&1) || rc=$?
[ "$rc" -ne 0 ] && grep -q "no ustack process is running" <<<"$out" || fail "ss with nothing running: status $rc, '$out'"

capture_start "$WORK/ss.pcap"
ustack_up
ctl_up=$USTACK_CTL_DIR/$US_PID.sock
[ -S "$ctl_up" ] || fail "no control socket $ctl_up for ustack up (pid $US_PID): $(ls -la "$USTACK_CTL_DIR" 2>&1)"
[ "$(stat -c %a "$USTACK_CTL_DIR")" = 700 ] || fail "control directory mode $(stat -c %a "$USTACK_CTL_DIR"), want 700"
[ "$(stat -c %a "$ctl_up")" = 600 ] || fail "control socket mode $(stat -c %a "$ctl_up"), want 600"

linux_ping 3 56
nsx timeout 30 "$PY" "$INTEROP_DIR/py/udp_echo.py" "$US_IP" 7 10 20 30 40 50 || fail "UDP echo of 5 datagrams failed"

# Python holds the connections (bounded: it exits after 60 s if not stopped).
cat >"$WORK/hold.py" <<'EOF'
import socket, sys, time
us, marker = sys.argv[1], sys.argv[2]
lst = socket.socket()
lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("198.18.1.1", 5018))
lst.listen(4)
conns = []
for n in (100, 200, 300):
    c = socket.create_connection((us, 7), timeout=5)
    c.sendall(b"x" * n)          # echoed back; never read
    conns.append(c)
open(marker, "w").write("connected\n")
lst.settimeout(20)
peer, _ = lst.accept()           # from ustack nc; its data is never read
conns.append(peer)
time.sleep(60)
EOF
nsx timeout 70 "$PY" "$WORK/hold.py" "$US_IP" "$WORK/hold.marker" >"$WORK/hold.out" 2>&1 &
hold=$!; STARTED_PIDS+=("$hold")
for i in $(seq 1 50); do [ -s "$WORK/hold.marker" ] && break; kill -0 "$hold" 2>/dev/null || break; sleep 0.1; done
[ -s "$WORK/hold.marker" ] || fail "python did not connect 3 times to the echo port: $(cat "$WORK/hold.out")"
head -c 1000 /dev/zero | tr '\0' y >"$WORK/nc.in"
nsx timeout 70 "$USTACK" nc --tap tap1 --addr "$NC_US_CIDR" "$NC_HOST_IP" 5018 <"$WORK/nc.in" >"$WORK/nc.out" 2>"$WORK/nc.err" &
ncpid=$!; STARTED_PIDS+=("$ncpid")

# Wait (5 s at most) until Linux sees the settled picture.
settled=0
for i in $(seq 1 50); do
  lin=$(nsx ss -Htn)
  if [ "$(grep -c '^ESTAB' <<<"$lin")" -eq 3 ] && grep -q '^CLOSE-WAIT *1001 ' <<<"$lin" &&
     [ "$(awk '$1 == "ESTAB" { s += $2 } END { print s + 0 }' <<<"$lin")" -eq 600 ]; then
    settled=1; break
  fi
  sleep 0.1
done
[ "$settled" -eq 1 ] || fail "Linux's sockets did not settle (3 ESTAB holding 600 bytes, 1 CLOSE-WAIT holding 1000 and the FIN):
$lin"
sleep 0.2
lin=$(nsx ss -Htn)
us=$("${US[@]}" ss -Htn) || fail "ustack ss -Htn failed"
log "Linux ss -tn:
$lin"
log "ustack ss -tn:
$us"
[ "$(wc -l <<<"$us")" -eq 4 ] || fail "ustack ss -tn lists $(wc -l <<<"$us") sockets, want exactly 4:
$us"
[ "$(wc -l <<<"$lin")" -eq 4 ] || fail "Linux ss -tn lists $(wc -l <<<"$lin") sockets, want exactly 4:
$lin"
# Every ustack connection has its mirror on Linux: the 4-tuple reversed, the
# paired state; ustack's queues are empty (all echoed and acknowledged, all of
# nc's bytes acknowledged), Linux holds what it did not read.
while read -r st rq sq local peer _; do
  case $st in
    ESTAB) want=ESTAB ;;
    FIN-WAIT-2) want=CLOSE-WAIT ;;
    *) fail "ustack ss: unexpected state $st in '$st $rq $sq $local $peer'" ;;
  esac
  [ "$rq" -eq 0 ] && [ "$sq" -eq 0 ] || fail "ustack ss: queues $rq/$sq on $local $peer, want 0/0"
  m=$(awk -v l="$peer" -v p="$local" '$4 == l && $5 == p' <<<"$lin")
  [ -n "$m" ] || fail "no Linux socket $peer -> $local mirrors ustack's $local -> $peer ($st)"
  read -r lst lrq lsq _ <<<"$m"
  [ "$lst" = "$want" ] || fail "$local <-> $peer: ustack $st, Linux $lst (want $want)"
  if [ "$want" = CLOSE-WAIT ]; then
    # Linux counts the unread FIN in Recv-Q (tcp_inq: rcv_nxt - copied_seq).
    [ "$lrq" -eq 1001 ] || fail "Linux CLOSE-WAIT Recv-Q $lrq, want 1001 (the 1000 bytes nc sent and its FIN)"
  else
    case $lrq in 100|200|300) ;; *) fail "Linux ESTAB Recv-Q $lrq, want 100, 200 or 300 (the echo)" ;; esac
  fi
  [ "$lsq" -eq 0 ] || fail "Linux Send-Q $lsq on $peer, want 0"
done <<<"$us"
[ "$(grep -c ':7 ' <<<"$us")" -eq 3 ] || fail "ustack ss: not 3 connections on port 7"
log "ustack ss -tn mirrors Linux's ss -tn: 3 ESTAB, FIN-WAIT-2 <-> CLOSE-WAIT"

# Filters and the -p column.
n=$("${US[@]}" ss -Htn state fin-wait-2 | wc -l); [ "$n" -eq 1 ] || fail "ss state fin-wait-2: $n lines, want 1"
n=$("${US[@]}" ss -Htn sport = :7 | wc -l); [ "$n" -eq 3 ] || fail "ss sport = :7: $n lines, want 3"
"${US[@]}" ss -Htnp | grep -q "users:((\"ustack up\",pid=$US_PID," || fail "ss -p does not name ustack up (pid $US_PID)"
"${US[@]}" ss -Htnp | grep -q 'users:(("ustack nc",pid=' || fail "ss -p does not name ustack nc"
n=$("${US[@]}" ss -Htln sport = :80 | wc -l); [ "$n" -eq 1 ] || fail "ss -l sport = :80: $n lines, want 1 (the HTTP listener)"

# netstat needs one process: with two running it names both.
rc=0; out=$("${US[@]}" netstat -s 2>&1) || rc=$?
[ "$rc" -ne 0 ] && grep -q "2 ustack processes are running" <<<"$out" && grep -q -- "--ctl $ctl_up" <<<"$out" \
  || fail "netstat -s with two processes: status $rc, '$out'"

# The counters against the capture.
sleep 0.2
capture_stop
capture_check_no_drops
flat=$("${US[@]}" netstat -s --flat --ctl "$ctl_up") || fail "ustack netstat -s --flat --ctl failed"
ctr() { awk -v n="$1" '$1 == n { print $2 }' <<<"$flat"; }
f=$WORK/ss.pcap
syns=$(count_frames "$f" "ip.dst==$US_IP && tcp.flags.syn==1 && tcp.flags.ack==0")
echos=$(count_frames "$f" "ip.dst==$US_IP && icmp.type==8")
dgrams=$(count_frames "$f" "ip.dst==$US_IP && udp.dstport==7")
log "tshark: $syns SYNs, $echos echo requests, $dgrams datagrams to port 7; ustack: $(ctr TcpPassiveOpens), $(ctr IcmpInEchos), $(ctr UdpInDatagrams)"
[ "$syns" -eq 3 ] || fail "capture: $syns SYNs to ustack, want 3"
[ "$(ctr TcpPassiveOpens)" = "$syns" ] || fail "TcpPassiveOpens $(ctr TcpPassiveOpens), capture $syns SYNs"
[ "$(ctr IcmpInEchos)" = "$echos" ] && [ "$echos" -eq 3 ] || fail "IcmpInEchos $(ctr IcmpInEchos), capture $echos echo requests (want 3)"
[ "$(ctr UdpInDatagrams)" = "$dgrams" ] && [ "$dgrams" -ge 5 ] || fail "UdpInDatagrams $(ctr UdpInDatagrams), capture $dgrams datagrams to port 7"
json=$("${US[@]}" netstat -s --json --ctl "$ctl_up") || fail "netstat -s --json failed"
v=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["TcpPassiveOpens"])' <<<"$json") \
  || fail "netstat -s --json: not JSON with counters: $json"
[ "$v" = "$syns" ] || fail "netstat -s --json: TcpPassiveOpens $v, want $syns"
log "netstat -s agrees with the capture"

# The neighbour: the kernel's tap0 MAC.
mac=$(ip -n "$NS" link show tap0 | awk '/link\/ether/ { print $2 }')
neigh=$("${US[@]}" neigh --ctl "$ctl_up") || fail "ustack neigh failed"
grep -q "^$HOST_IP .*lladdr $mac" <<<"$neigh" || fail "ustack neigh does not show $HOST_IP lladdr $mac:
$neigh"
"${US[@]}" route --ctl "$ctl_up" | grep -q "^198.18.0.0/24 dev tap0" || fail "ustack route: no connected route on tap0"
"${US[@]}" addr --ctl "$ctl_up" | grep -q "inet $US_CIDR" || fail "ustack addr: no $US_CIDR"
log "neigh shows $HOST_IP at $mac; route and addr answer"

kill -TERM "$ncpid" 2>/dev/null || true
kill -TERM "$hold" 2>/dev/null || true
wait "$hold" 2>/dev/null || true
wait "$ncpid" 2>/dev/null || true
ustack_stop
[ ! -e "$ctl_up" ] || fail "ustack up left its control socket behind"
log "control socket removed on stop"
echo PASS

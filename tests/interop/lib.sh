# Shared helpers for the interop tests (sourced by tests/interop/test_*.sh).
#
# Each test gets its own network namespace "us-<pid>-<n>" with lo up, IPv6 off
# and a TAP "tap0" holding 198.18.0.1/24 (the Linux side). ustack runs inside
# that namespace on tap0 as 198.18.0.2/24. Traffic never leaves the namespace.
#
# Exit codes of a test: 0 pass, 1 fail, 77 skip. The EXIT trap stops only the
# processes this test started (by PID) and deletes only its own namespace.
# shellcheck shell=bash

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEROP_DIR/../.." && pwd)
USTACK=${USTACK:-$REPO_ROOT/build/release/ustack}
PY=/usr/bin/python3            # Debian's python: the one that sees python3-scapy

HOST_IP=198.18.0.1             # Linux, on tap0 in the namespace
US_IP=198.18.0.2               # ustack
US_CIDR=$US_IP/24

NS=""
WORK=""
US_PID=""
US_OUT=""
US_ERR=""
CAP_PID=""
CAP_FILE=""
STARTED_PIDS=()
_NS_SEQ=0

log()  { echo "[$(date +%T.%3N)] $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- Preconditions -----------------------------------------------------------

require_env() {
  [ "$(id -u)" -eq 0 ] || skip "not root (needs network namespaces and /dev/net/tun)"
  [ -c /dev/net/tun ] || skip "/dev/net/tun missing"
  [ -x "$USTACK" ] || fail "ustack binary not found or not executable: $USTACK (build it: scripts/build.sh release ustack_cli)"
}

# require_tools TOOL... : SKIP naming the first missing tool.
require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
  done
}

require_python() { [ -x "$PY" ] || skip "missing tool: $PY"; }

require_scapy() {
  require_python
  "$PY" -c 'import scapy.all' >/dev/null 2>&1 || skip "missing python3-scapy for $PY"
}

# --- Setup and cleanup ---------------------------------------------------------

_cleanup() {
  local rc=$?
  set +e
  local pid n
  for pid in "${STARTED_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for n in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  if [ -n "$NS" ]; then
    # Anything still inside our own namespace was started by this test (e.g. a
    # child of a wrapper script): stop it too before deleting the namespace.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    for n in $(seq 1 20); do [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break; sleep 0.1; done
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
      echo "artifacts kept in $WORK" >&2
    elif [ -z "${INTEROP_KEEP:-}" ]; then
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}

# setup: checks the environment, makes the work dir and the namespace with tap0.
setup() {
  require_env
  require_tools ip timeout
  WORK=$(mktemp -d /tmp/ustack-interop.XXXXXX)
  trap _cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  _NS_SEQ=$((_NS_SEQ + 1))
  NS="us-$$-$_NS_SEQ"
  ip netns add "$NS" 2>"$WORK/netns.err" || { NS=""; skip "cannot create a network namespace: $(cat "$WORK/netns.err")"; }
  ip -n "$NS" link set lo up
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip -n "$NS" tuntap add dev tap0 mode tap
  ip -n "$NS" addr add "$HOST_IP/24" dev tap0
  ip -n "$NS" link set tap0 up
}

# plain_frames : TAP offloads off for every ustack command this test runs (they
# read USTACK_TAP_OFFLOAD=0 as the default of --tap-offload). For tests whose
# capture on tap0 checks checksums or counts segments: with offloads the kernel
# hands over TCP/UDP with partial checksums (tshark reports them wrong, as on any
# NIC with offloads) and TCP super-frames of many segments each.
plain_frames() { export USTACK_TAP_OFFLOAD=0; }

# nsx CMD... : runs a command inside the test's namespace.
nsx() { ip netns exec "$NS" "$@"; }

# wait_listen PORT : waits (5 s at most) until a TCP socket in the namespace
# listens on PORT, else fails the test.
wait_listen() {
  local i
  for i in $(seq 1 50); do
    [ -n "$(nsx ss -Hltn "sport = :$1")" ] && return 0
    sleep 0.1
  done
  fail "nothing listens on $HOST_IP:$1 after 5 s"
}

# --- ustack up ----------------------------------------------------------------

# ustack_up [EXTRA ARGS...] : starts `ustack up` on tap0 as 198.18.0.2/24 in the
# background and waits (5 s at most) for its "ready" line.
ustack_up() {
  US_OUT=$WORK/ustack.out
  US_ERR=$WORK/ustack.err
  : >"$US_OUT"; : >"$US_ERR"
  ip netns exec "$NS" "$USTACK" up --tap tap0 --addr "$US_CIDR" "$@" >"$US_OUT" 2>"$US_ERR" &
  US_PID=$!
  STARTED_PIDS+=("$US_PID")
  local i
  for i in $(seq 1 50); do
    if grep -q ready "$US_OUT" 2>/dev/null; then
      log "ustack up ready (pid $US_PID): $*"
      return 0
    fi
    if ! kill -0 "$US_PID" 2>/dev/null; then
      local rc=0; wait "$US_PID" || rc=$?
      fail "ustack up exited (status $rc) before 'ready'; stderr: $(head -c 2000 "$US_ERR")"
    fi
    sleep 0.1
  done
  local state; state=$(ip -n "$NS" link show tap0 2>&1 | head -1)
  fail "no 'ready' line on ustack's stdout within 5 s (stdout not flushed?); tap0: $state; stdout: $(head -c 500 "$US_OUT"); stderr: $(head -c 1000 "$US_ERR")"
}

# ustack_alive : true while the daemon runs.
ustack_alive() { [ -n "$US_PID" ] && kill -0 "$US_PID" 2>/dev/null; }

# ustack_stop : SIGINT, waits (5 s at most), fails unless it exits with status 0.
ustack_stop() {
  [ -n "$US_PID" ] || return 0
  ustack_alive || { local rc=0; wait "$US_PID" || rc=$?; US_PID=""; fail "ustack up had already exited (status $rc); stderr: $(head -c 2000 "$US_ERR")"; }
  kill -INT "$US_PID"
  local i
  for i in $(seq 1 50); do ustack_alive || break; sleep 0.1; done
  if ustack_alive; then
    kill -KILL "$US_PID"; wait "$US_PID" 2>/dev/null || true; US_PID=""
    fail "ustack up did not stop within 5 s of SIGINT"
  fi
  local rc=0; wait "$US_PID" || rc=$?
  US_PID=""
  [ "$rc" -eq 0 ] || fail "ustack up exited with status $rc on SIGINT; stderr: $(head -c 2000 "$US_ERR")"
  log "ustack up stopped cleanly"
}

# counter NAME : value of a counter printed by `ustack up --stats-on-exit`
# (after ustack_stop); fails if the counter is absent.
counter() {
  local v
  v=$(awk -v n="$1" '$1 == n && NF == 2 { print $2; exit }' "$US_OUT")
  [ -n "$v" ] || fail "counter $1 not found in ustack's --stats-on-exit output"
  echo "$v"
}

# --- Capture --------------------------------------------------------------------

# capture_start FILE : tcpdump on tap0 (inside the namespace), packet-buffered.
# In immediate mode each slot of tcpdump's kernel ring is one snapshot length
# long: with -s 0 (256 KiB) the default 2 MiB ring holds 8 frames and a TCP
# transfer at full speed over the TAP loses frames. So: 4096-byte snapshots (more
# than any frame on a 1500-byte MTU; check_capture_clean fails on a truncated
# frame) in a 64 MiB ring. See capture_check_no_drops.
capture_start() {
  CAP_FILE=$1
  ip netns exec "$NS" tcpdump -i tap0 -n -U --immediate-mode -B 65536 -Z root -s 4096 -w "$CAP_FILE" 2>"$WORK/tcpdump.err" &
  CAP_PID=$!
  STARTED_PIDS+=("$CAP_PID")
  local i
  for i in $(seq 1 50); do
    grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && return 0
    kill -0 "$CAP_PID" 2>/dev/null || fail "tcpdump exited: $(cat "$WORK/tcpdump.err")"
    sleep 0.1
  done
  fail "tcpdump not listening within 5 s: $(cat "$WORK/tcpdump.err")"
}

capture_stop() {
  [ -n "$CAP_PID" ] || return 0
  sleep 0.3   # let the last frames in
  kill -INT "$CAP_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 30); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$CAP_PID" 2>/dev/null && kill -KILL "$CAP_PID" 2>/dev/null
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
}

# capture_check_no_drops : after capture_stop, fails if tcpdump reports frames
# dropped by the kernel (the capture would then show false gaps: "previous
# segment not captured", "ACKed unseen segment", missing FINs).
capture_check_no_drops() {
  local d
  d=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$WORK/tcpdump.err" | tail -1)
  [ -n "$d" ] || fail "tcpdump printed no 'dropped by kernel' count: $(cat "$WORK/tcpdump.err")"
  [ "$d" -eq 0 ] || fail "tcpdump dropped $d frames: the capture is incomplete ($(tr '\n' ' ' <"$WORK/tcpdump.err"))"
}

TSHARK_CSUM=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE)

# tshark_tcp_ports_as_data PORT... : from now on the tshark checks below
# (frames_matching, count_frames, check_capture_clean) decode the payload of TCP
# segments to or from these ports as plain data: random bytes of a bulk transfer
# otherwise pass for some protocol a heuristic dissector recognizes (THRIFT, ...)
# and are reported malformed. (A port's "Decode As" is tried before heuristics.)
tshark_tcp_ports_as_data() {
  local p
  for p in "$@"; do TSHARK_CSUM+=(-d "tcp.port==$p,data"); done
}

# tshark_q ARGS... : tshark without the "running as root" chatter.
tshark_q() { tshark "$@" 2> >(grep -v -e 'Running as user "root"' -e '^$' >&2); }

# frames_matching FILE FILTER : tshark's one-line summaries of the frames of FILE
# matching a display filter (with checksum validation on); fails if tshark does.
frames_matching() {
  local out
  out=$(tshark -n -r "$1" "${TSHARK_CSUM[@]}" -Y "$2" 2>"$WORK/tshark.err") \
    || fail "tshark -Y '$2' failed on $1: $(grep -v 'Running as user' "$WORK/tshark.err")"
  printf '%s' "$out"
}

# count_frames FILE FILTER : number of frames of FILE matching a display filter.
count_frames() {
  local out
  out=$(frames_matching "$1" "$2") || exit 1
  if [ -z "$out" ]; then echo 0; else wc -l <<<"$out"; fi
}

# check_capture_clean FILE : no bad IP/UDP/TCP/ICMP checksum, nothing malformed,
# no expert error, as tshark sees it with checksum validation on.
check_capture_clean() {
  local f=$1 bad
  # Linux now and then sends a TCP checksum of 0xffff where a sender computing
  # it afresh writes 0x0000 (the same value in ones' complement; receivers accept
  # both; tshark flags it, "see RFC 1624"). Forgiven in frames from Linux only.
  bad=$(frames_matching "$f" "ip.checksum.status==0 || (tcp.checksum.status==0 && !(tcp.checksum.ffff && ip.src==$HOST_IP)) || udp.checksum.status==0 || icmp.checksum.status==0") || exit 1
  [ -z "$bad" ] || fail "bad checksums in $f:
$bad"
  bad=$(frames_matching "$f" '_ws.malformed || _ws.expert.severity == error') || exit 1
  [ -z "$bad" ] || fail "malformed frames or expert errors in $f:
$bad"
  bad=$(frames_matching "$f" 'frame.len > frame.cap_len') || exit 1
  [ -z "$bad" ] || fail "frames longer than the capture's snapshot length in $f (checksums unverifiable):
$bad"
}

# --- Kernel side ------------------------------------------------------------------

# kernel_counter NAME : absolute value of a kernel SNMP counter in the namespace
# (0 if nstat does not list it).
kernel_counter() {
  local v
  v=$(ip netns exec "$NS" nstat -asz 2>/dev/null | awk -v n="$1" '$1 == n { print $2; exit }')
  echo "${v:-0}"
}

# check_kernel_csum_clean : the kernel saw no checksum or header error from ustack.
check_kernel_csum_clean() {
  local c v
  for c in IcmpInCsumErrors UdpInCsumErrors IpExtInCsumErrors IpInHdrErrors IcmpInErrors IpReasmFails; do
    v=$(kernel_counter "$c")
    [ "$v" -eq 0 ] || fail "kernel counter $c = $v (expected 0)"
  done
  log "kernel checksum/header error counters all zero"
}

# ping_received OUTPUT : "N" from iputils/ustack ping's "N received" summary.
ping_received() {
  local n
  n=$(sed -n 's/.* \([0-9][0-9]*\) \(packets \)\{0,1\}received.*/\1/p' <<<"$1" | tail -1)
  echo "${n:--1}"
}

# linux_ping COUNT SIZE [EXTRA...] : Linux pings ustack, fails unless all replies came.
linux_ping() {
  local count=$1 size=$2; shift 2
  local out rc=0
  out=$(ip netns exec "$NS" timeout 30 ping -n -c "$count" -s "$size" -i 0.2 -W 2 "$@" "$US_IP" 2>&1) || rc=$?
  local got; got=$(ping_received "$out")
  [ "$rc" -eq 0 ] && [ "$got" -eq "$count" ] || fail "ping -c $count -s $size: status $rc, $got/$count received:
$out"
  grep -q ' 0% packet loss' <<<"$out" || fail "ping -s $size: loss reported:
$out"
  log "Linux ping -s $size: $got/$count replies"
}

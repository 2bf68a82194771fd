#!/bin/sh
# The trace plotter (docs/trace.md) draws a PNG from a real trace: `ustack demo
# --tcp-trace` writes one, scripts/plot-trace.py plots it. Skipped (exit 77)
# when Debian's python3-matplotlib is missing.
# Usage: plot_test.sh USTACK PLOT_TRACE_PY
set -eu
ustack=$1
plot=$2
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "SKIPPED: /usr/bin/python3 has no matplotlib (apt-get install python3-matplotlib)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$ustack" demo --tcp-trace "$dir/trace.csv" >/dev/null
head -1 "$dir/trace.csv" | grep -q '^time,conn,state,snd_una,snd_nxt,delivered,cwnd,ssthresh,in_flight,srtt_us,rttvar_us,rto_us,retrans_segs'
"$plot" "$dir/trace.csv" -o "$dir/trace.png"
# A PNG's signature, and more than an empty canvas.
[ "$(head -c 8 "$dir/trace.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "not a PNG"; exit 1; }
size=$(wc -c <"$dir/trace.png")
[ "$size" -gt 20000 ] || { echo "PNG of only $size bytes"; exit 1; }
# An unknown connection is an error, named.
if "$plot" "$dir/trace.csv" --conn 10.9.9.9 -o "$dir/x.png" 2>"$dir/err"; then echo "accepted an unknown --conn"; exit 1; fi
grep -q "no connection matches" "$dir/err"
echo "ok: $size-byte PNG"

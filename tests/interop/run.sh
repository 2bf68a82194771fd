#!/usr/bin/env bash
# Runs the interop tests against the real Linux kernel, each in its own network
# namespace. Usage: tests/interop/run.sh [path/to/ustack] [TEST-NAME-SUBSTRING...]
# Needs root and /dev/net/tun; a test whose tools are missing is reported SKIP.
# Exit status: 0 if no test failed, 1 otherwise.
# INTEROP_TESTS_DIR runs the test_*.sh of another folder the same way
# (tests/adversarial/run.sh); INTEROP_SUITE names it in the output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tests_dir=${INTEROP_TESTS_DIR:-$here}
suite=${INTEROP_SUITE:-interop}
bin=${1:-$root/build/release/ustack}
[ $# -gt 0 ] && shift
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
if [ ! -x "$bin" ]; then
  echo "run.sh: ustack binary not found: $bin (build it: scripts/build.sh release ustack_cli)" >&2
  exit 2
fi
export USTACK=$bin
per_test_timeout=${INTEROP_TEST_TIMEOUT:-90}

logdir=$(mktemp -d "/tmp/ustack-$suite-logs.XXXXXX")
pass=0; fail=0; skip=0; failed=()
start=$(date +%s)
echo "$suite: ustack = $bin, logs in $logdir"
for t in "$tests_dir"/test_*.sh; do
  name=$(basename "$t" .sh)
  if [ $# -gt 0 ]; then
    want=0; for f in "$@"; do [[ $name == *"$f"* ]] && want=1; done
    [ $want -eq 1 ] || continue
  fi
  t0=$(date +%s%3N)
  timeout -k 5 "$per_test_timeout" bash "$t" >"$logdir/$name.log" 2>&1
  rc=$?
  ms=$(( $(date +%s%3N) - t0 )); dt=$((ms / 1000)).$(( (ms % 1000) / 100 ))
  case $rc in
    0)  pass=$((pass + 1)); printf 'PASS  %-28s %5ss\n' "$name" "$dt"
        grep -h '^NOTE:' "$logdir/$name.log" | sed 's/^/      /' ;;
    77) skip=$((skip + 1)); printf 'SKIP  %-28s %5ss  %s\n' "$name" "$dt" "$(grep -h '^SKIP:' "$logdir/$name.log" | head -1)" ;;
    *)  fail=$((fail + 1)); failed+=("$name")
        why=""; [ $rc -eq 124 ] && why=" (timed out after ${per_test_timeout}s)"
        printf 'FAIL  %-28s %5ss  exit %d%s\n' "$name" "$dt" "$rc" "$why"
        tail -n 25 "$logdir/$name.log" | sed 's/^/      | /' ;;
  esac
done
echo "$suite: $pass passed, $fail failed, $skip skipped in $(( $(date +%s) - start ))s (logs: $logdir)"
[ $fail -eq 0 ] || { echo "$suite: failed: ${failed[*]}"; exit 1; }
exit 0

#!/usr/bin/env bash
# Runs ustack's fuzz targets (tests/fuzz/fuzz_*.cc) with libFuzzer, ASan and UBSan.
# Usage: scripts/fuzz.sh [--seconds N | --total N] [--merge] [TARGET...]
#   --seconds N  budget per target (default 60; the test command gives each 10):
#                `--seconds 3600` runs EACH target for an hour, one after another
#   --total N    budget for the whole run, shared evenly by the targets:
#                `--total 3600` is one hour in all
#   --merge      then fold the inputs that add coverage into tests/fuzz/corpus/
#   TARGET       ingress, tcp, script, ... (default: every target)
# Each target starts from its seeds (tests/fuzz/corpus/<target>/, the inputs that
# once crashed it in tests/fuzz/regressions/<target>/, and for `script` the
# scenario scripts in tests/script/) plus what earlier runs found
# (build/fuzz/corpus/<target>/). A crash, a leak, a broken invariant or an input
# slower than 10 s stops the run: the input is kept under build/fuzz/artifacts/,
# and the command printed replays it. Fixed bugs keep their input in
# tests/fuzz/regressions/<target>/, which CTest replays in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
total=""
merge=0
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --total) total=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cc; do n=$(basename "$f" .cc); targets+=("${n#fuzz_}"); done
fi
if [ -n "$total" ]; then
  seconds=$(( total / ${#targets[@]} ))
  [ "$seconds" -ge 1 ] || seconds=1
  echo "fuzz: $total s in all: ${seconds} s for each of ${#targets[@]} targets"
fi
scripts/deps.sh fuzz
scripts/build.sh fuzz "${targets[@]/#/fuzz_}" >/dev/null
mkdir -p build/fuzz/artifacts
failed=()
for t in "${targets[@]}"; do
  bin=build/fuzz/tests/fuzz/fuzz_$t
  work=build/fuzz/corpus/$t
  mkdir -p "$work"
  seeds=(tests/fuzz/corpus/"$t")
  [ -d tests/fuzz/regressions/"$t" ] && seeds+=(tests/fuzz/regressions/"$t")
  [ "$t" = script ] && seeds+=(tests/script/tcp)
  log=build/fuzz/$t.log
  start=$(date +%s)
  rc=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/artifacts/$t-" "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    echo "FAIL  fuzz_$t after $(( $(date +%s) - start ))s (status $rc):"
    grep -E "ERROR|invariant|SUMMARY|Test unit written" "$log" | head -8 | sed 's/^/      /'
    art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)
    [ -n "$art" ] && echo "      replay: $bin $art   (full log: $log)"
  else
    echo "ok    fuzz_$t: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l)"
  fi
  if [ "$merge" -eq 1 ] && [ "$rc" -eq 0 ]; then
    "$bin" -merge=1 tests/fuzz/corpus/"$t" "$work" >"build/fuzz/$t.merge.log" 2>&1
    echo "      merged: tests/fuzz/corpus/$t now holds $(ls tests/fuzz/corpus/"$t" | wc -l) inputs"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean, ${seconds}s each"

#!/usr/bin/env bash
# Builds ustack and runs every test: unit and simulated-network tests in the
# release and the sanitizer (ASan+UBSan) builds (with the fuzz targets' seeds
# and regression inputs replayed), then the interop suite against the Linux
# kernel in network namespaces (skipped, and reported so, without root or
# /dev/net/tun), then the adversarial suite (attacks on `ustack up` in
# namespaces, a few minutes), then every fuzz target under libFuzzer for a short budget
# (FUZZ_SECONDS, default 10 each; scripts/fuzz.sh runs them for longer).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
status=0
for flavour in release asan; do
  echo "== build ($flavour)"
  scripts/build.sh "$flavour"
  echo "== unit and simulated-network tests ($flavour)"
  (cd "build/$flavour" && ctest --output-on-failure -j2 --timeout 300) || status=1
done
echo "== interop with the Linux kernel"
tests/interop/run.sh build/release/ustack || status=1
echo "== adversarial suite (attacks from the link)"
tests/adversarial/run.sh build/release/ustack || status=1
echo "== fuzzing (${FUZZ_SECONDS:-10} s per target)"
scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-10}" || status=1
if [ $status -eq 0 ]; then echo "== all tests passed"; else echo "== SOME TESTS FAILED"; fi
exit $status

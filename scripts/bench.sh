#!/usr/bin/env bash
# Runs the benchmark suite (bench/README.md) and writes bench/results/bench.md,
# bench.jsonl and bench.png. The TAP part needs root (it creates the network
# namespaces ns-bench and ns-benchp and removes them; the lwIP rows need
# liblwip-dev, installed here as root); without root those rows
# say they were skipped. Extra arguments go to `ustack bench` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
# As root: the build's packages, liblwip-dev among them (the lwIP peer).
if [ "$(id -u)" = 0 ]; then scripts/deps.sh build; fi
scripts/build.sh release ustack_cli >/dev/null
if [ ! -x build/release/ustack-lwip-peer ] && [ -f /usr/include/lwip/lwip/tcp.h ]; then
  # Configured before liblwip-dev was installed: configure again to find it.
  cmake -S . -B build/release >/dev/null
  scripts/build.sh release ustack_cli >/dev/null
fi
if [ "$(id -u)" = 0 ] && ! command -v wrk >/dev/null; then
  apt-get install -y --no-install-recommends wrk >/dev/null
fi
mkdir -p bench/results
build/release/ustack bench --json --md bench/results/bench.md "$@" | tee bench/results/bench.jsonl
/usr/bin/python3 scripts/plot-bench.py bench/results/bench.jsonl -o bench/results/bench.png

#!/usr/bin/env bash
# Configure (once) and build one flavour of ustack: release (default) or asan.
# Usage: scripts/build.sh [release|asan|fuzz] [ninja targets...]
# fuzz: clang with libFuzzer, ASan and UBSan, only the fuzz targets (scripts/fuzz.sh).
# Builds are serialised with a lock: the machine has two cores, and two builds at
# once only slow each other down.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}; shift || true
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DUSTACK_SANITIZE=ON) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=Release -DUSTACK_FUZZ=ON -DUSTACK_TESTS=OFF
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan or fuzz)" >&2; exit 2 ;;
esac
dir=build/$flavour
exec 9>/tmp/ustack-build.lock
flock 9
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
cmake --build "$dir" -- "$@"

#!/usr/bin/env bash
# Builds ustack (release) and runs its demo: several stacks on a simulated network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh release ustack_cli >/dev/null
exec build/release/ustack demo "$@"

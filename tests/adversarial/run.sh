#!/usr/bin/env bash
# Runs the adversarial suite (issue "Hostile networks"): attacks from the Linux
# side of a TAP against `ustack up`, each test in its own network namespace
# (docs/threat-model.md lists what each one proves).
# Usage: tests/adversarial/run.sh [path/to/ustack] [TEST-NAME-SUBSTRING...]
# Needs root and /dev/net/tun; a test whose tools are missing is reported SKIP.
# Every test is bounded (ADV_TEST_TIMEOUT, default 90 s; the suite takes a few minutes).
here=$(cd "$(dirname "$0")" && pwd)
INTEROP_TESTS_DIR=$here INTEROP_SUITE=adversarial INTEROP_TEST_TIMEOUT=${ADV_TEST_TIMEOUT:-90} \
  exec "$here/../interop/run.sh" "$@"

#!/bin/sh
# Runs a script that must fail (tests/script/selftest_fail/): passes only when
# `ustack script` exits with the code the script's `// expect-exit: N` line names
# (1 when it has none) and its output holds the text of every `// expect-error:` line.
# Usage: expect_failure.sh USTACK FILE.pkt
ustack=$1
pkt=$2
want=$(sed -n 's|^// expect-exit: *\([0-9][0-9]*\).*|\1|p' "$pkt" | head -n 1)
want=${want:-1}
out=$("$ustack" script "$pkt" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$want" ]; then
  echo "expect_failure: exit status $rc, expected $want"
  exit 1
fi
sed -n 's|^// expect-error: ||p' "$pkt" | while IFS= read -r text; do
  if ! printf '%s\n' "$out" | grep -qF -- "$text"; then
    echo "expect_failure: the output lacks: $text"
    exit 1
  fi
done || exit 1
exit 0

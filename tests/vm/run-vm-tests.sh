#!/usr/bin/env bash
# Runs every in-VM suite inside one guest (booted by tests/run-all.sh with two
# devices whose properties differ) and prints a combined "N passed, N failed".
set -u
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "run-vm-tests.sh: run inside tools/mtia-vm" >&2; exit 2; }
cd "$(dirname "$0")/../.." || exit 2

total_pass=0 total_fail=0
add_counts() { # log: take its last "N passed, N failed" line
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n1)
  if [ -z "$line" ]; then total_fail=$((total_fail + 1)); return; fi
  total_pass=$((total_pass + $(cut -d' ' -f1 <<<"$line")))
  total_fail=$((total_fail + $(cut -d' ' -f3 <<<"$line")))
}
run_suite() { # name command...
  local name=$1 log; shift
  log=$(mktemp)
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  add_counts "$log"
  [ "$rc" -eq 0 ] || { echo "=== $name: FAILED (exit $rc)"; grep -qE '^[0-9]+ passed, [1-9]' "$log" || total_fail=$((total_fail + 1)); }
  rm -f "$log"
}
gtest_counts() { # gtest binary -> its output plus "N passed, N failed"
  local log rc p f
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  rm -f "$log"
  echo "${p:-0} passed, ${f:-0} failed"
  [ "$rc" -eq 0 ]
}

run_suite "libmtia against the driver (gtest)" gtest_counts build/bin/vm_tests
run_suite "mtia-smi" tests/vm/test-smi.sh
run_suite "buffer objects" tests/vm/test-bo.sh
run_suite "job submission" tests/vm/test-submit.sh
run_suite "runtime buffers, streams, events" tests/vm/test-runtime.sh
run_suite "driver (nodes, IRQ self-test, reload x10)" tests/vm/test-driver.sh
run_suite "firmware (boot, mailbox, log, faults, recovery)" tests/vm/test-firmware.sh

echo "in-VM: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

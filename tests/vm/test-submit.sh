#!/usr/bin/env bash
# In-VM test of job submission. Runs INSIDE an mtia-vm guest (the harness
# loads the driver first), with cwd = repo top:
#   tools/mtia-vm run --devices 2 --append iomem=relaxed -- tests/vm/test-submit.sh
# - build/bin/submit_tests (GoogleTest, raw ioctls: NOP, copies 1 B..64 MiB,
#   FILL, TIMESTAMP, ordering, syncobjs, bounds/argument checks, DMA error
#   and hung-job fault injection through debugfs fault_inject, processes x
#   queues), one check per test;
# - the hung-job test reset the device (sysfs reset_count moved);
# - then, alone, unbinding the driver with jobs in flight and rebinding it;
# - dmesg has no warning, oops or leak report.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
DBG=/sys/kernel/debug
BIN=${MTIA_SUBMIT_TESTS:-build/bin/submit_tests}

need_device
[ -d "$DBG/accel" ] || mount -t debugfs none "$DBG" 2>/dev/null
dmesg_mark=$(dmesg | wc -l)
rc0=$(cat "/sys/bus/pci/devices/${devs[0]}/mtia/reset_count")

run_gtest "$BIN" --gtest_filter=-SubmitTest.UnbindWithJobsInFlight

rc1=$(cat "/sys/bus/pci/devices/${devs[0]}/mtia/reset_count")
check "the hung job reset the device (reset_count $rc0 -> $rc1)" [ "$rc1" -gt "$rc0" ]

# Last: it unbinds and rebinds the driver (a new driver instance counts
# resets from 0 again).
run_gtest "$BIN" --gtest_filter=SubmitTest.UnbindWithJobsInFlight

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t|list_(add|del) corruption|still allocated|completion without a job' || true)
check "dmesg has no warning, oops or leak report" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

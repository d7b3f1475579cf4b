#!/usr/bin/env bash
# In-VM test of direct queues (user-mode submission, docs/driver.md "Direct
# queues"). Runs INSIDE an mtia-vm guest as root, cwd = repo top:
#   tools/mtia-vm run --devices 1 -- tests/vm/test-direct.sh
# - build/bin/direct_tests: commands written to a mapped SQ and run by one
#   doorbell write; a forged context, an unmapped VA and a bad doorbell
#   fail only themselves; no other file can map the queue; the kernel path
#   beside it; killed processes; a reset (skipped with the device MMU off);
#   an unmapped VA takes the file's direct queues back; DIRECT_SIGNAL's
#   fences (kernel job and host waits behind direct work, every fence ends);
# - the fence timeout (none while the queue progresses, up to a cap), with
#   the driver reloaded with job_timeout_ms=500, then reloaded as the VM
#   loaded it (the suites after this one in the VM must not inherit a
#   timeout that a loaded host's slow jobs exceed);
# - the take-back was logged; dmesg has no warning, oops or leak report.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

need_device
dmesg_mark=$(dmesg | wc -l)
reload() { rmmod mtia && insmod "${MTIA_VM_DRIVER:-$KO}" "$@"; } # [insmod args...]
run_gtest build/bin/direct_tests
if reload job_timeout_ms=500 && wait_for 100 fw_ready "${devs[0]}"; then
  run_gtest build/bin/direct_tests --gtest_filter='*FenceTimesOut*:*FenceWaitsWhileItsQueueProgresses*'
else
  fail "reloading the driver with job_timeout_ms=500"
fi
# shellcheck disable=SC2086 # the VM's module parameters, word-split as insmod takes them
reload_as_vm() { reload ${MTIA_VM_DRIVER_ARGS:-} && [ "$(cat /sys/module/mtia/parameters/job_timeout_ms)" != 500 ]; }
check "the driver reloaded with the VM's parameters (${MTIA_VM_DRIVER_ARGS:-none})" reload_as_vm
for d in "${devs[@]}"; do wait_for 100 fw_ready "$d" || fail "$d: firmware not ready after the reload"; done
check "a fault's take-back was logged" \
  bash -c "dmesg | tail -n +$((dmesg_mark + 1)) | grep -q 'translation fault at VA 0x7000000000 on direct queue'"
bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t|list_(add|del) corruption|still allocated' || true)
check "dmesg has no warning, oops or leak report" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"
finish

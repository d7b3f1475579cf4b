#!/usr/bin/env bash
# In-VM test of the PE-grid compute engine through the driver. Runs INSIDE an
# mtia-vm guest (the harness loads the driver first), with cwd = repo top:
#   tools/mtia-vm run --devices 1 --append iomem=relaxed -- tests/vm/test-compute.sh
# - build/bin/compute_vm_tests (GoogleTest, raw ioctls): conv+relu and GEMM
#   programs from host and device BOs checked against references, a bad
#   program failing only its job (MTIA_CQE_BAD_PROGRAM), SUBMIT refusing
#   arenas in host BOs and ranges outside their BOs, a program over the job
#   timeout stopped by the device reset, RESIZE over 60 random shapes and
#   modes in one job, integer BINARY over random shapes;
# - that reset happened (sysfs reset_count moved);
# - dmesg has no warning or oops.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
BIN=${MTIA_COMPUTE_TESTS:-build/bin/compute_vm_tests}

need_device
dmesg_mark=$(dmesg | wc -l)
rc0=$(sysattr "${devs[0]}" reset_count)

run_gtest "$BIN"

rc1=$(sysattr "${devs[0]}" reset_count)
check "the over-long program reset the device (reset_count $rc0 -> $rc1)" [ "$rc1" -gt "$rc0" ]

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

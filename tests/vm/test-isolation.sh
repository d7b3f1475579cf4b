#!/usr/bin/env bash
# In-VM proof of isolation between processes (docs/security.md). Runs INSIDE
# an mtia-vm guest as root, cwd = repo top:
#   tools/mtia-vm run --devices 1 -- tests/vm/test-isolation.sh
# - build/bin/isolation_tests: a victim's host and device BOs against an
#   attacker process (victim's handles, out-of-bounds offsets, a COMPUTE
#   program leaving its arena, mmap of the victim's offsets, raw addresses
#   forged through debugfs fault_inject): every attempt fails, the victim's
#   checksums stay and its jobs run (skipped with the device MMU off);
# - the device MMU's refusals are in dmesg, naming context and address, and
#   its fault registers in debugfs fw_regs;
# - dmesg has no warning, oops or leak report.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
DBG=/sys/kernel/debug

need_device
[ -d "$DBG/accel" ] || mount -t debugfs none "$DBG" 2>/dev/null
dmesg_mark=$(dmesg | wc -l)

# Every attempt must fail with its own error: the attacker's forged
# addresses are translation faults, and three would get its file banned
# (ban_threshold, docs/fault-injection.md; the fault matrix tests bans), so
# bans are off while it runs.
bans=/sys/module/mtia/parameters/ban_threshold
ban0=$(cat "$bans" 2>/dev/null || echo 3)
echo 0 >"$bans"
run_gtest build/bin/isolation_tests
echo "$ban0" >"$bans"

if [ "$(cat "/sys/bus/pci/devices/${devs[0]}/mtia/mmu")" = on ]; then
  faults=$(dmesg | tail -n +$((dmesg_mark + 1)) | grep -c 'device MMU fault at VA 0x' || true)
  check "dmesg names the device MMU's refusals ($faults lines)" [ "$faults" -ge 1 ]
  check "debugfs fw_regs shows the MMU's last fault" \
    grep -Eq '^MMU_FAULT: count [1-9][0-9]* ctx [0-9]+ addr 0x' "$DBG/accel/${devs[0]}/fw_regs"
fi
bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t|list_(add|del) corruption|still allocated' || true)
check "dmesg has no warning, oops or leak report" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

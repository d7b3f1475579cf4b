#!/usr/bin/env bash
# In-VM test of libmtia's buffers, streams and events (build/bin/runtime_vm_tests,
# GoogleTest; on the device with >= 512 MiB, then on one with the MMU, where
# streams use direct queues) plus mtia-run --bench copy as a smoke test. Runs INSIDE an
# mtia-vm guest with the driver loaded; the device used is the first with
# >= 512 MiB of device memory (MTIA_TEST_DEVICE=N overrides):
#   tools/mtia-vm run --device-opts devmem-size=512M -- tests/vm/test-runtime.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
BIN=${MTIA_RUNTIME_TESTS:-build/bin/runtime_vm_tests}
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }

need_device
dmesg_mark=$(dmesg | wc -l)

run_gtest "$BIN"
# Again on a device with the MMU, where streams take direct queues
# (docs/runtime.md "Direct queues"), if the VM has one.
if grep -qx on /sys/bus/pci/devices/*/mtia/mmu 2>/dev/null; then
  echo "== the same tests with direct queues (MTIA_TEST_DIRECT=1) =="
  MTIA_TEST_DIRECT=1 run_gtest "$BIN" --gtest_filter=-Direct.*
fi

dev=${MTIA_TEST_DEVICE:-0}
if build/bin/mtia-run --bench copy --device "$dev" --size 4M --iters 2 --nop-iters 50 --json >"$tmp/bench.json" 2>&1; then
  check "mtia-run --bench copy --json gives positive numbers" /usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
ok = all(j[k]["gbps"] > 0 for k in ("host_to_device", "device_to_host", "device_to_device")) and j["nop"]["p50_us"] > 0
print("  h2d %.3f d2h %.3f d2d %.3f GB/s, NOP p50 %.1f us" % (j["host_to_device"]["gbps"], j["device_to_host"]["gbps"], j["device_to_device"]["gbps"], j["nop"]["p50_us"]))
sys.exit(0 if ok else 1)' "$tmp/bench.json"
else
  cat "$tmp/bench.json"
  fail "mtia-run --bench copy failed"
fi
check "mtia-run without a mode is a usage error" bash -c '! build/bin/mtia-run >/dev/null 2>&1'
check "mtia-run --size garbage is a usage error" bash -c '! build/bin/mtia-run --bench copy --size 12Q >/dev/null 2>&1'

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

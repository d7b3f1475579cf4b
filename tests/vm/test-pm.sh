#!/usr/bin/env bash
# In-VM test of power management (driver/mtia_pm.c): an idle device
# autosuspends to D3hot, the next job, mailbox command, sensor read or touch
# of a mapped device BO resumes it, results and device memory survive, and
# a system suspend/resume cycle (pm_test "devices": every device's suspend
# and resume callbacks, without sleeping) keeps BOs and reloads the firmware.
#   tools/mtia-vm run --devices 1 -- tests/vm/test-pm.sh
# Needs tests/vm/test-models.sh --prepare (build/models/mlp.mtia).
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
need_device
need_prepared tests/vm/test-models.sh build/models/mlp.mtia build/models/mlp.input0.npy

BDF=${devs[0]}
P=$(sysd "$BDF")/power
delay0=$(cat "$P/autosuspend_delay_ms")
control0=$(cat "$P/control")
work=$(mktemp -d)
on_finish() {
  echo "$delay0" >"$P/autosuspend_delay_ms"
  echo "$control0" >"$P/control"
  rm -rf "$work"
}

status_is() { [ "$(cat "$P/runtime_status")" = "$1" ]; }
d3() { lspci -vv -s "$BDF" 2>/dev/null | grep -q 'Status: D3'; }

# Probe allows runtime PM (the suites before this one leave it so).
check "runtime PM allowed after probe (power/control auto)" [ "$control0" = auto ]
check "default autosuspend delay is the module's (5000 ms)" [ "$delay0" = 5000 ]
echo auto >"$P/control"
echo 200 >"$P/autosuspend_delay_ms"

# The reference result while awake; then idle until suspended.
check "model runs" build/bin/mtia-run build/models/mlp.mtia --input build/models/mlp.input0.npy \
  --output "$work/ref.npy"
check "idle device autosuspends" wait_for 100 status_is suspended
check "fw_status says suspended" [ "$(sysattr "$BDF" fw_status)" = suspended ]
check "the function is in D3hot" d3

# A job resumes it and is right.
check "a job after suspend runs" build/bin/mtia-run build/models/mlp.mtia \
  --input build/models/mlp.input0.npy --output "$work/after.npy"
check "its result equals the one before suspend" cmp -s "$work/ref.npy" "$work/after.npy"
check "suspends again" wait_for 100 status_is suspended

# A sensor read resumes it (as nvidia-smi wakes a GPU).
hw=$(grep -l '^mtia$' /sys/class/hwmon/hwmon*/name 2>/dev/null | head -n1)
check "hwmon temperature readable while suspended" \
  bash -c "[ \"\$(cat ${hw%/name}/temp1_input)\" -gt 0 ]"
check "the read resumed it, it suspends again" wait_for 100 status_is suspended

# Device memory keeps its contents; a mapped BO faults the device awake.
cat >"$work/bo.py" <<'EOF'
import os, sys, time
import numpy as np
sys.path.insert(0, "build/python")
import mtia
status = sys.argv[1]
dev = mtia.Device(0)
buf = mtia.Buffer(dev, 1 << 20)
pat = np.random.default_rng(1).integers(0, 256, 1 << 20, dtype=np.uint8)
np.asarray(buf)[:] = pat
def state():
    return open(status).read().strip()
deadline = time.monotonic() + 60
while state() != "suspended" and time.monotonic() < deadline:
    time.sleep(0.05)
print("status while idle:", state())
same = np.array_equal(np.asarray(buf), pat)   # faults: resumes first
print("mapped BO after suspend equals the pattern:", same, "status:", state())
back = mtia.Buffer(dev, 1 << 20, mtia.Placement.HOST)
s = mtia.Stream(dev)
s.copy(back, 0, buf, 0, 1 << 20)
s.synchronize()
ok = same and np.array_equal(np.asarray(back), pat)
print("device copy of it equals the pattern:", ok)
sys.exit(0 if ok else 1)
EOF
check "device BO survives suspend (mmap and DMA read back)" $PY "$work/bo.py" "$P/runtime_status"

check "firmware ready after all that" bash -c \
  "build/bin/mtia-smi >/dev/null && [ \"\$(cat $(sysd "$BDF")/mtia/fw_status)\" != dead ]"
finish

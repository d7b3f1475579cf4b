#!/usr/bin/env bash
# Runs the device core's unit tests (registers, boot ROM, firmware on the
# control core, queues and DMA, compute pause/abort, telemetry, the RV32
# simulator, the firmware on the simulator) N times over, to show they hold
# on any host: `tests/host-load.sh loaded|slowed tests/device-core-repeat.sh 20`.
# Needs a build (make). Last line: "N passed, N failed" (binaries).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20}
bin=$top/build/bin
runs=(
  "unit_tests CoreTest.*:Config*:Bad/ConfigTest.*:DeviceSha256.*:FwTest.*:QueueTest.*:Telemetry*"
  "compute_tests PauseTest.*:ComputeProgram.*:ComputeValidate.*"
  "firmware_sim_test *"
  "rv32_tests *"
)
pass=0 fail=0
for r in "${runs[@]}"; do
  read -r b filter <<<"$r"
  start=$SECONDS
  if "$bin/$b" --gtest_filter="$filter" --gtest_repeat="$n" --gtest_brief=1 >"/tmp/device-core-repeat.$b.log" 2>&1; then
    pass=$((pass + 1)); echo "PASS: $b ($filter) x$n, $((SECONDS - start)) s"
  else
    fail=$((fail + 1)); echo "FAIL: $b ($filter) x$n: /tmp/device-core-repeat.$b.log"
    grep -E "^\[  FAILED|Failure" "/tmp/device-core-repeat.$b.log" | sort | uniq -c | head -20
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Runs the in-VM suites inside one guest (booted by tests/run-all.sh with two
# devices whose properties differ) and prints a combined "N passed, N failed".
#   run-vm-tests.sh [use|lifecycle|all]   (default all)
# use: the suites that only use the driver and devices as they are;
# lifecycle: those that change them (the SDK's DKMS module swapped in, driver
# reloads, firmware faults, runtime suspend, hot-unplug), and need the SDK
# and Debian packages built on the host first. run-all.sh runs the two
# groups in two VMs side by side, each VM being one TCG thread.
set -u
cd "$(dirname "$0")/../.." || exit 2
group=${1:-all}
case $group in use | lifecycle | all) ;; *) echo "usage: $0 [use|lifecycle|all]" >&2; exit 2 ;; esac
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh

total_pass=0 total_fail=0
add_counts() { # log: take its last "N passed, N failed" line
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n1)
  if [ -z "$line" ]; then total_fail=$((total_fail + 1)); return; fi
  total_pass=$((total_pass + $(cut -d' ' -f1 <<<"$line")))
  total_fail=$((total_fail + $(cut -d' ' -f3 <<<"$line")))
}
run_suite() { # group name command...
  [ "$group" = all ] || [ "$group" = "$1" ] || return 0
  shift
  local name=$1 log start=$SECONDS; shift
  log=$(mktemp)
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  add_counts "$log"
  [ "$rc" -eq 0 ] || { echo "=== $name: FAILED (exit $rc)"; grep -qE '^[0-9]+ passed, [1-9]' "$log" || total_fail=$((total_fail + 1)); }
  rm -f "$log"
  echo "=== $name: $((SECONDS - start)) s"
}
# A GoogleTest binary as a suite: its output, then "N passed, N failed".
gtest_suite() { run_gtest "$@"; finish; }

run_suite use "libmtia against the driver (gtest)" gtest_suite build/bin/vm_tests
run_suite use "mtia-smi" tests/vm/test-smi.sh
run_suite use "telemetry under load (mtia-smi, hwmon, fdinfo, reset)" tests/vm/test-telemetry.sh
run_suite use "management API and nvidia-smi parity (mtia-smi)" tests/vm/test-mgmt.sh
run_suite use "Prometheus exporter (mtia-exporter)" tests/vm/test-exporter.sh
run_suite use "throttling slows the engines (6 W power limit, resnet18)" tests/vm/test-throttle.sh
run_suite use "buffer objects" tests/vm/test-bo.sh
run_suite use "job submission" tests/vm/test-submit.sh
run_suite use "isolation between processes (device MMU)" tests/vm/test-isolation.sh
run_suite use "direct queues (user-mode submission)" tests/vm/test-direct.sh
run_suite use "runtime buffers, streams, events" tests/vm/test-runtime.sh
run_suite use "models" tests/vm/test-models.sh
run_suite use "batch buckets (one file, batches 1..16)" tests/vm/test-buckets.sh
run_suite use "reduced precision (bf16/fp16 resnet18, F16/BF16 tensors)" tests/vm/test-precision.sh
run_suite use "accuracy (a CNN trained at test time: fp32, bf16, int8 QDQ and PTQ)" tests/vm/test-accuracy.sh
run_suite use "profiler (mtia-run --profile, Chrome trace JSON)" tests/vm/test-profile.sh
run_suite use "Python bindings (pytest)" tests/vm/test-python.sh
run_suite use "compute engine" tests/vm/test-compute.sh
run_suite use "tracepoints (every job's path, reset, timeout)" tests/vm/test-trace.sh
run_suite use "Kubernetes device plugin (kubelet stand-in, health, re-registration)" tests/vm/test-device-plugin.sh
run_suite use "mtia-serve (REST, dynamic batching, load, overload, SIGTERM drain)" tests/vm/test-serve.sh
run_suite use "mtia-serve gRPC (grpcio client, typed and raw tensors, status codes, repository, SIGTERM drain)" tests/vm/test-serve-grpc.sh
run_suite lifecycle "SDK examples (built against the installed SDK)" tests/vm/test-sdk.sh
run_suite lifecycle "driver (nodes, IRQ self-test, reload x10)" tests/vm/test-driver.sh
run_suite lifecycle "firmware (boot, mailbox, log, faults, recovery)" tests/vm/test-firmware.sh
run_suite lifecycle "power management (autosuspend, resume on use)" tests/vm/test-pm.sh
# Last: it unplugs the first device and plugs it back.
run_suite lifecycle "PCIe (link, AER under load, hot-unplug and hot-plug under load)" tests/vm/test-pcie.sh

echo "in-VM ($group): $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

#!/usr/bin/env bash
# The demo, run inside the VM by `make demo`: what the driver saw, the
# firmware's own log, then mtia-smi's view of the devices the QEMU command
# line created.
set -eu
cd "$(dirname "$0")/.."
echo "--- guest kernel $(uname -r); driver messages:"
dmesg | sed 's/^\[[ 0-9.]*\] //' | grep -E '^(mtia [0-9a-f:.]+: |\[drm\] Initialized mtia)'
for log in /sys/kernel/debug/accel/*/fw_log; do
  echo "--- firmware log of ${log#/sys/kernel/debug/accel/}"
  head -n 6 "$log"
  break
done
echo "--- mtia-smi"
build/bin/mtia-smi
echo "--- mtia-smi -L"
build/bin/mtia-smi -L

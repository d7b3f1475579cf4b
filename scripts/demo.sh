#!/usr/bin/env bash
# The demo, run inside the VM by `make demo`: what the driver saw, the
# firmware's own log, mtia-smi's view of the devices the QEMU command line
# created, then an inference: resnet18 (compiled on the host by `make demo`)
# checked against PyTorch's output, and mtia-smi while it runs.
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

model=build/models/resnet18
echo "--- inference: torchvision resnet18 (random weights, compiled by mtia-compile)"
build/bin/mtia-run "$model.mtia" --input "$model.input0.npy" --output /tmp/resnet18.out.npy
/usr/bin/python3 -c 'import numpy as np, sys
got, want = np.load("/tmp/resnet18.out.npy"), np.load(sys.argv[1])
print("max abs error vs PyTorch: %.2e; top-1 class: device %d, PyTorch %d" %
      (abs(got - want).max(), got.argmax(), want.argmax()))' "$model.output0.npy"
echo "--- mtia-smi while mtia-run --bench runs resnet18"
build/bin/mtia-run "$model.mtia" --bench 150 >/tmp/bench.txt &
sleep 2
build/bin/mtia-smi
wait
cat /tmp/bench.txt

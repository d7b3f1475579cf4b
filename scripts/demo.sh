#!/usr/bin/env bash
# The demo, run inside the VM by `make demo`: what the driver saw, then
# mtia-smi's view of the devices the QEMU command line created.
set -eu
cd "$(dirname "$0")/.."
echo "--- guest kernel $(uname -r); driver messages:"
dmesg | grep -E 'mtia' | sed 's/^\[[ 0-9.]*\] //'
echo "--- mtia-smi"
build/bin/mtia-smi
echo "--- mtia-smi -L"
build/bin/mtia-smi -L

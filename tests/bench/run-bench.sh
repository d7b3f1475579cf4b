#!/usr/bin/env bash
# `make bench`: every figure printed here is measured in this run.
#  1. control-core simulator speed (Google Benchmark, host)
#  2. admin-mailbox ping round trip, driver -> firmware -> driver (in a VM),
#     beside the guest's getppid() syscall cost measured in the same VM
#  3. host single-thread memcpy; in one VM: guest memcpy, device DMA
#     bandwidth (mtia-run --bench copy) and its ratio to host memcpy, NOP job
#     round trip vs QEMU's emulated NVMe (RAM-backed) 4 KiB O_DIRECT QD1 reads
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== control-core simulator (RV32IMC), host, one thread"
build/bin/rv32_bench --benchmark_format=json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    name, ips = b["name"], b["items_per_second"]
    print(f"  {name:<20} {ips / 1e6:8.1f} M simulated instructions/s")
'

echo "== admin mailbox ping round trip (TCG guest, debugfs fw_ping)"
tools/mtia-vm run --devices 1 -- tests/bench/fw-ping.sh "${MTIA_BENCH_PINGS:-2000}"

echo "== host memcpy (one thread, 256 MiB buffers)"
host_memcpy=$(build/bin/memcpy_bench 256 5 | awk '{print $2}')
echo "  host memcpy: $host_memcpy GB/s"

echo "== device DMA and NOP job latency vs emulated NVMe (TCG guest)"
nvme_img=$(mktemp /dev/shm/mtia-bench-nvme.XXXXXX)
trap 'rm -f "$nvme_img"' EXIT
truncate -s 64M "$nvme_img"
tools/mtia-vm run --devices 1 --device-opts devmem-size=1G \
  --qemu-arg=-drive --qemu-arg="file=$nvme_img,if=none,id=nvm,format=raw,cache=writeback" \
  --qemu-arg=-device --qemu-arg=nvme,serial=mtiabench,drive=nvm \
  --env MTIA_BENCH_HOST_MEMCPY="$host_memcpy" -- tests/bench/vm-bench.sh

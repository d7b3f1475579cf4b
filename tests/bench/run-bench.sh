#!/usr/bin/env bash
# `make bench`: every figure printed here is measured in this run.
#  1. control-core simulator speed (Google Benchmark, host)
#  2. admin-mailbox ping round trip, driver -> firmware -> driver (in a VM),
#     beside the guest's getppid() syscall cost measured in the same VM
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== control-core simulator (RV32IMC), host, one thread"
build/bin/rv32_bench --benchmark_format=json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    print(f"  {b[\"name\"]:<20} {b[\"items_per_second\"] / 1e6:8.1f} M simulated instructions/s")
'

echo "== admin mailbox ping round trip (TCG guest, debugfs fw_ping)"
tools/mtia-vm run --devices 1 -- tests/bench/fw-ping.sh "${MTIA_BENCH_PINGS:-2000}"

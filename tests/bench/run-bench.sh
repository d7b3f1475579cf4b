#!/usr/bin/env bash
# `make bench`: every figure printed here is measured in this run.
#  1. control-core simulator speed (Google Benchmark, host)
#  2. admin-mailbox ping round trip, driver -> firmware -> driver (in a VM),
#     beside the guest's getppid() syscall cost measured in the same VM
#  3. host single-thread memcpy; in one VM: guest memcpy, device DMA
#     bandwidth (mtia-run --bench copy) and its ratio to host memcpy, NOP job
#     round trip vs QEMU's emulated NVMe (RAM-backed) 4 KiB O_DIRECT QD1 reads
#  4. inference: resnet18 batch 1 and 8 on the device (mtia-run --bench in a
#     VM) vs PyTorch CPU on the host at its best (the faster of eager and
#     frozen TorchScript, OpenBLAS), both 2 threads, and their ratio; resnet18
#     latency with profiling (mtia-run --profile) off and on, and their ratio;
#     the Python overhead of mtia.torch.compile'd resnet18 batch 1 against the
#     C++ run() of the same image in the same VM (ratio, target <= 1.05)
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

echo "== inference: resnet18 on the device (TCG guest, mtia-run --bench) vs PyTorch CPU (host)"
# Models compiled from the same torchvision graphs (random weights); PyTorch
# first, alone on the host; then the VM, whose device runs its kernels on 2
# host threads (oneDNN, OMP_NUM_THREADS=2) as PyTorch does.
tests/vm/test-models.sh --prepare >/dev/null
# PyTorch at its best (torch_bench.py: eager and frozen, OpenBLAS): this
# machine may set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for old OpenBLAS builds;
# the anchor runs without them, as a user of a current OpenBLAS would.
torch_anchor() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tests/bench/torch_bench.py "$@"; }
torch_b1=$(torch_anchor resnet18 1 "${MTIA_BENCH_TORCH_SECONDS:-10}")
torch_b8=$(torch_anchor resnet18 8 "${MTIA_BENCH_TORCH_SECONDS:-10}")
device=$(OMP_NUM_THREADS=2 tools/mtia-vm run --devices 1 --device-opts devmem-size=1G -- tests/bench/model-bench.sh |
  grep '^{')
/usr/bin/python3 - "$torch_b1" "$torch_b8" "$device" <<'PYEOF'
import json, sys
torch = {j["batch"]: j for j in map(json.loads, sys.argv[1:3])}
lines = [json.loads(l) for l in sys.argv[3].splitlines()]
runs = [j for j in lines if "batch" in j]
py = [j for j in lines if "python_p50_ms" in j]
dev = {j["batch"]: j for j in runs if not j.get("profiled")}
off = [j["latency_ms"]["p50"] for j in runs if j["batch"] == 1 and not j.get("profiled")]
on = [j["latency_ms"]["p50"] for j in runs if j["batch"] == 1 and j.get("profiled")]
print(f"  PyTorch {torch[1]['threads']} threads, BLAS: {torch[1]['blas']}")
for b in (1, 8):
    t, d = torch[b], dev[b]
    sync, pipe = d["throughput_ips"] * b, d["async_throughput_ips"] * b
    print(f"  resnet18 batch {b}: device {sync:7.2f} inferences/s (run(), p50 {d['latency_ms']['p50']:.1f} ms/run; "
          f"pipelined run_async {pipe:.2f}/s, device time {d['device_ms_per_inference']:.1f} ms/run)")
    modes = ", ".join(f"{k} {v['inferences_per_s']:.2f}/s" for k, v in t["modes"].items())
    print(f"  {'':17} PyTorch CPU at its best ({t['best']}; {modes}) {t['inferences_per_s']:7.2f} inferences/s "
          f"({t['ms_per_run']:.1f} ms/run)  ->  device/PyTorch {sync / t['inferences_per_s']:.2f}x "
          f"(pipelined {pipe / t['inferences_per_s']:.2f}x)")
if off and on:
    moff, mon = sorted(off)[0], sorted(on)[0]
    print(f"  resnet18 batch 1 run() p50, profiling off {' / '.join(f'{x:.2f}' for x in off)} ms, "
          f"on (--profile) {' / '.join(f'{x:.2f}' for x in on)} ms  ->  on/off {mon / moff:.3f}x (best of each)")
for j in py:
    print(f"  resnet18 batch 1 mtia.torch.compile'd call p50 {j['python_p50_ms']:.2f} ms vs C++ run() "
          f"{j['cxx_p50_ms']:.2f} ms (same image, same VM)  ->  Python/C++ {j['ratio']:.3f}x (target <= 1.05)")
PYEOF

#!/usr/bin/env bash
# `make bench`: every figure printed here is measured in this run.
#  1. control-core simulator speed (Google Benchmark, host)
#  2. admin-mailbox ping round trip, driver -> firmware -> driver (in a VM),
#     beside the guest's getppid() syscall cost measured in the same VM
#  3. host single-thread memcpy; in one VM: guest memcpy, device DMA
#     bandwidth (mtia-run --bench copy) and its ratio to host memcpy, NOP job
#     round trip vs QEMU's emulated NVMe (RAM-backed) 4 KiB O_DIRECT QD1 reads;
#     direct queues (user-mode submission) vs the ioctl path: NOP launch and
#     round trip, libmtia's NOP and resnet18 batch 1 latency
#  3b. the device MMU's cost: DMA bandwidth, NOP round trip and resnet18
#     batch 1 latency with the device's mmu=on vs mmu=off, in one VM
#  3c. throttling: resnet18 batch 1 throughput, device time and estimate
#     uncapped, at a 6 W power limit and uncapped again, against the clock
#  4. inference: resnet18 batch 1 and 8 (and the stack's overhead: run()
#     latency and device time against the same program on the host without
#     the VM, build/bin/host_model_bench; and the residual-add fusion's gain:
#     the same model compiled --no-fuse-residual), mobilenet_v2 batch 1, a DLRM at
#     batch 128 and 512 and a transformer encoder layer on the device (mtia-run --bench in a VM) vs
#     PyTorch CPU on the host at its best (the faster of eager and frozen
#     TorchScript, OpenBLAS), both 2 threads, and their ratio, with the
#     timing model's MTIA v1 estimate for the workloads; resnet18
#     latency with profiling (mtia-run --profile) off and on, and their ratio;
#     the Python overhead of mtia.torch.compile'd resnet18 batch 1 against the
#     C++ run() of the same image in the same VM (ratio, target <= 1.05);
#     resnet18 by precision: bf16 (--dtype bf16) and int8 (a QDQ model from
#     PyTorch's quantizer) on the device vs its fp32, vs PyTorch's own bf16
#     and static int8 (onednn and qnnpack engines), and the MTIA v1 estimates
# MTIA_BENCH_ONLY="inference mmu ..." runs only the named sections (sim,
# ping, vm -- with the host memcpy it compares against --, mmu, throttle,
# inference, serve); unset, all of them.
set -euo pipefail
cd "$(dirname "$0")/../.."
want() { [ -z "${MTIA_BENCH_ONLY:-}" ] || [[ " $MTIA_BENCH_ONLY " == *" $1 "* ]]; }

if want sim; then
echo "== control-core simulator (RV32IMC), host, one thread"
build/bin/rv32_bench --benchmark_format=json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    name, ips = b["name"], b["items_per_second"]
    print(f"  {name:<20} {ips / 1e6:8.1f} M simulated instructions/s")
'
fi

if want ping; then
echo "== admin mailbox ping round trip (TCG guest, debugfs fw_ping)"
tools/mtia-vm run --devices 1 -- tests/bench/fw-ping.sh "${MTIA_BENCH_PINGS:-2000}"
fi

if want vm; then
echo "== host memcpy (one thread, 256 MiB buffers)"
host_memcpy=$(build/bin/memcpy_bench 256 5 | awk '{print $2}')
echo "  host memcpy: $host_memcpy GB/s"

echo "== device DMA and NOP job latency vs emulated NVMe (TCG guest)"
nvme_img=$(mktemp /dev/shm/mtia-bench-nvme.XXXXXX)
trap 'rm -f "$nvme_img"' EXIT
truncate -s 64M "$nvme_img"
tests/vm/test-models.sh --prepare >/dev/null  # resnet18 for the direct queue's figures
OMP_NUM_THREADS=2 tools/mtia-vm run --devices 1 --device-opts devmem-size=1G \
  --qemu-arg=-drive --qemu-arg="file=$nvme_img,if=none,id=nvm,format=raw,cache=writeback" \
  --qemu-arg=-device --qemu-arg=nvme,serial=mtiabench,drive=nvm \
  --env MTIA_BENCH_HOST_MEMCPY="$host_memcpy" -- tests/bench/vm-bench.sh
fi

if want mmu; then
echo "== device MMU cost (TCG guest; one VM, two devices alike but mmu=on / mmu=off)"
tests/vm/test-models.sh --prepare >/dev/null
OMP_NUM_THREADS=2 tools/mtia-vm run --devices 1 --device-opts devmem-size=1G \
  --qemu-arg=-device --qemu-arg=mtia,devmem-size=1G,mmu=off -- tests/bench/mmu-bench.sh
fi

if want throttle; then
echo "== throttling: resnet18 batch 1 uncapped, at a 6 W power limit, uncapped again (TCG guest, one VM)"
tests/vm/test-models.sh --prepare >/dev/null
OMP_NUM_THREADS=2 tools/mtia-vm run --devices 1 --device-opts devmem-size=1G -- tests/bench/throttle-bench.sh
fi

if want inference; then
echo "== inference: resnet18 on the device (TCG guest, mtia-run --bench) vs PyTorch CPU (host)"
# Models compiled from the same torchvision graphs (random weights); PyTorch
# first, alone on the host; then the VM, whose device runs its kernels on 2
# host threads (oneDNN, OMP_NUM_THREADS=2) as PyTorch does.
tests/vm/test-models.sh --prepare >/dev/null
# Meta's workloads: built (make_models.py BENCH, random weights and ids) and
# compiled only when missing or older than their sources.
bench_dir=build/bench-models
bench_models="dlrm_bench_b128 dlrm_bench_b512 encoder_bench mobilenet_v2"
for m in $bench_models resnet18_int8 resnet18_int8_b8; do
  if [ ! -f "$bench_dir/$m.onnx" ] || [ tests/models/make_models.py -nt "$bench_dir/$m.onnx" ] ||
    ! grep -q "\"$m\"" "$bench_dir/manifest.json" 2>/dev/null; then
    /usr/bin/python3 tests/models/make_models.py --out "$bench_dir" --only "$m" >/dev/null
  fi
  if [ ! -f "$bench_dir/$m.mtia" ] || [ "$bench_dir/$m.onnx" -nt "$bench_dir/$m.mtia" ] ||
    [ build/bin/mtia-compile -nt "$bench_dir/$m.mtia" ]; then
    build/bin/mtia-compile -q "$bench_dir/$m.onnx" -o "$bench_dir/$m.mtia"
  fi
done
# resnet18 with its residual adds left as ops (--no-fuse-residual), for the
# fusion's gain.
for b in "" _b8; do
  if [ ! -f "$bench_dir/resnet18${b}_nofuse.mtia" ] || [ build/models/resnet18$b.onnx -nt "$bench_dir/resnet18${b}_nofuse.mtia" ] ||
    [ build/bin/mtia-compile -nt "$bench_dir/resnet18${b}_nofuse.mtia" ]; then
    build/bin/mtia-compile -q --no-fuse-residual "build/models/resnet18$b.onnx" -o "$bench_dir/resnet18${b}_nofuse.mtia"
  fi
done
# resnet18 in bf16: the float model compiled with --dtype bf16.
for b in "" _b8; do
  if [ ! -f "$bench_dir/resnet18_bf16$b.mtia" ] || [ build/models/resnet18$b.onnx -nt "$bench_dir/resnet18_bf16$b.mtia" ] ||
    [ build/bin/mtia-compile -nt "$bench_dir/resnet18_bf16$b.mtia" ]; then
    build/bin/mtia-compile -q --dtype bf16 "build/models/resnet18$b.onnx" -o "$bench_dir/resnet18_bf16$b.mtia"
  fi
done
# PyTorch at its best (torch_bench.py: eager and frozen, OpenBLAS): this
# machine may set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for old OpenBLAS builds;
# the anchor runs without them, as a user of a current OpenBLAS would.
torch_anchor() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tests/bench/torch_bench.py "$@"; }
torch_b1=$(torch_anchor build/models resnet18 "${MTIA_BENCH_TORCH_SECONDS:-10}")
torch_b8=$(torch_anchor build/models resnet18_b8 "${MTIA_BENCH_TORCH_SECONDS:-10}")
torch_work=$(for m in $bench_models; do torch_anchor "$bench_dir" "$m" "${MTIA_BENCH_TORCH_SECONDS:-10}"; done)
# PyTorch's own reduced precision on resnet18: bf16, and static int8 on each
# quantized engine Debian's torch has.
torch_prec=$(for m in resnet18 resnet18_b8; do for p in bf16 int8-onednn int8-qnnpack; do
  torch_anchor build/models "$m" "${MTIA_BENCH_TORCH_SECONDS:-10}" "$p"; done; done)
# The stack's own overhead: the same resnet18 programs on the host, without
# the VM, driver or queues (host_model_bench: libmtia's reader, then the
# compute engine on 2 threads), alone on the host like PyTorch; --tracked,
# as the device runs them (reordered weights reused without a compare:
# docs/compute.md "Reused weights"), so it is the design's physical limit.
host_prog=$(for m in resnet18 resnet18_b8; do
  echo "$m $(OMP_NUM_THREADS=2 build/bin/host_model_bench --tracked "build/models/$m.mtia" 30 "build/models/$m.input0.npy")"; done)
device=$(OMP_NUM_THREADS=2 tools/mtia-vm run --devices 1 --device-opts devmem-size=1G -- tests/bench/model-bench.sh |
  grep '^{')
/usr/bin/python3 - "$torch_b1" "$torch_b8" "$device" "$torch_work" "$torch_prec" "$host_prog" <<'PYEOF'
import json, sys
torch = {j["batch"]: j for j in map(json.loads, sys.argv[1:3])}
lines = [json.loads(l) for l in sys.argv[3].splitlines()]
work = [j for j in lines if "bench_model" in j]
prec = {j["precision_model"]: j for j in lines if "precision_model" in j}
runs = [j for j in lines if "batch" in j and not {"bench_model", "precision_model", "fusion_model"} & j.keys()]
fusion = [j for j in lines if "fusion_model" in j]
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
# "resnet18 host_ms p50 X min Y model_us Z" per program.
host = {1 if l.split()[0] == "resnet18" else 8: float(l.split()[3]) for l in sys.argv[6].splitlines()}
for b in (1, 8):
    d = dev[b]
    p50, dev_ms = d["latency_ms"]["p50"], d["device_ms_per_inference"]  # per run()
    print(f"  resnet18 batch {b} stack overhead: run() p50 {p50:.2f} ms, device time {dev_ms:.2f} ms, the same "
          f"program on the host without the VM {host[b]:.2f} ms  ->  VM/driver/queue {p50 / dev_ms - 1:+.1%} of "
          f"device time (target <= 5%), device time / host {dev_ms / host[b]:.2f}x")
for b, m in ((1, "resnet18"), (8, "resnet18_b8")):
    fused = [j["latency_ms"]["p50"] for j in fusion if j["fusion_model"] == m]
    unfused = [j["latency_ms"]["p50"] for j in fusion if j["fusion_model"] == m + "_nofuse"]
    if fused and unfused:
        print(f"  resnet18 batch {b} run() p50, residual adds fused {' / '.join(f'{x:.2f}' for x in fused)} ms, "
              f"as ops (--no-fuse-residual) {' / '.join(f'{x:.2f}' for x in unfused)} ms  ->  fused/unfused "
              f"{min(fused) / min(unfused):.3f}x time (best of each)")
if off and on:
    moff, mon = sorted(off)[0], sorted(on)[0]
    print(f"  resnet18 batch 1 run() p50, profiling off {' / '.join(f'{x:.2f}' for x in off)} ms, "
          f"on (--profile) {' / '.join(f'{x:.2f}' for x in on)} ms  ->  on/off {mon / moff:.3f}x (best of each)")
for j in py:
    print(f"  resnet18 batch 1 mtia.torch.compile'd call p50 {j['python_p50_ms']:.2f} ms vs C++ run() "
          f"{j['cxx_p50_ms']:.2f} ms (same image, same VM)  ->  Python/C++ {j['ratio']:.3f}x (target <= 1.05)")
anchor = {j["model"]: j for j in map(json.loads, sys.argv[4].splitlines())}
what = {"dlrm_bench": "DLRM, 8 tables x 100k x 64, bags of 20,", "encoder_bench": "encoder layer d256 4 heads seq 128,",
        "mobilenet_v2": "mobilenet_v2 (torchvision, random weights),"}
for d in work:
    m, b, t = d["bench_model"], d["batch"], anchor[d["bench_model"]]
    sync, pipe = d["throughput_ips"] * b, d["async_throughput_ips"] * b
    name = what["dlrm_bench" if m.startswith("dlrm_bench") else m]
    print(f"  {name} batch {b}: device {sync:9.1f} samples/s (run(), p50 {d['latency_ms']['p50']:.1f} ms; "
          f"pipelined {pipe:.1f}/s; device time {d['device_ms_per_inference']:.2f} ms/batch; "
          f"MTIA v1 estimate {d['device_estimate_ms']:.3f} ms/batch = {b / d['device_estimate_ms'] * 1e3:.0f} samples/s)")
    print(f"  {'':10} PyTorch CPU at its best ({t['best']}) {t['inferences_per_s']:9.1f} samples/s "
          f"({t['ms_per_run']:.1f} ms/batch)  ->  device/PyTorch {sync / t['inferences_per_s']:.2f}x "
          f"(pipelined {pipe / t['inferences_per_s']:.2f}x)")
tprec = [json.loads(l) for l in sys.argv[5].splitlines()]
for b, suffix in ((1, ""), (8, "_b8")):
    f32 = dev[b]
    print(f"  resnet18 batch {b} by precision (device: run(); MTIA v1 estimate; PyTorch CPU at its best, same threads):")
    print(f"    fp32  device {f32['throughput_ips'] * b:7.2f}/s  MTIA v1 {f32['device_estimate_ms']:.3f} ms  "
          f"PyTorch {torch[b]['inferences_per_s']:7.2f}/s")
    for p, tp in (("bf16", ["bf16"]), ("int8", ["int8-onednn", "int8-qnnpack"])):
        d = prec.get(f"resnet18_{p}{suffix}")
        if d is None:
            continue
        ips = d["throughput_ips"] * b
        anchors = [t for t in tprec if t["batch"] == b and t["precision"] in tp]
        best = max(anchors, key=lambda t: t["inferences_per_s"])
        names = ", ".join(f"{t['precision']} {t['inferences_per_s']:.2f}/s" for t in anchors)
        print(f"    {p}  device {ips:7.2f}/s  MTIA v1 {d['device_estimate_ms']:.3f} ms  PyTorch ({names})  ->  "
              f"device {p}/fp32 {ips / (f32['throughput_ips'] * b):.2f}x, device/PyTorch {p} "
              f"{ips / best['inferences_per_s']:.2f}x, MTIA v1 {p}/fp32 "
              f"{d['device_estimate_ms'] / f32['device_estimate_ms']:.2f}x time")
PYEOF
fi

if want serve; then
# 5. serving: resnet18 and the DLRM through mtia-serve (dynamic batching on,
#    32 concurrent clients, binary tensor data over loopback in the guest) as
#    a ratio to in-process run_batch of the same file and request, one VM run.
echo "== serving: mtia-serve (dynamic batching) vs in-process run_batch, same VM run"
tests/vm/test-serve.sh --prepare
OMP_NUM_THREADS=2 tools/mtia-vm run --devices 1 --device-opts devmem-size=1G -- tests/bench/serve-bench.sh |
  grep '^serve '
fi

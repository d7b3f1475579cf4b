#!/usr/bin/env bash
# In-VM part of tests/bench/run-bench.sh (run by it; the VM has one mtia
# device with 1 GiB of device memory and a RAM-backed emulated NVMe drive):
#  - guest single-thread memcpy (same binary as on the host)
#  - mtia-run --bench copy: DMA bandwidth by direction, NOP job round trip
#  - 4 KiB O_DIRECT reads at QD1 from QEMU's emulated NVMe
#  - build/bin/direct_nop: NOP launch cost and round trip on a direct queue
#    (user-mode submission) against the ioctl path, in one run
#  - libmtia on a direct queue vs the ioctl path (MTIA_DIRECT_QUEUES=0):
#    Stream NOP round trip and resnet18 batch 1 run() latency, alternating
#    rounds (direct, ioctl, direct, ...: drift hits both), best of each
# Prints the figures and their ratios; MTIA_BENCH_HOST_MEMCPY (GB/s) is
# the host's memcpy measured by run-bench.sh just before.
set -euo pipefail
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "vm-bench.sh: run inside tools/mtia-vm" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build/bin/memcpy_bench 256 5 >"$tmp/memcpy"
# The ioctl path's NOP figure, as before direct queues (the DMA figures do
# not depend on the path).
MTIA_DIRECT_QUEUES=0 build/bin/mtia-run --bench copy --size "${MTIA_BENCH_COPY_SIZE:-256M}" \
  --iters "${MTIA_BENCH_COPY_ITERS:-4}" --nop-iters "${MTIA_BENCH_NOPS:-2000}" --json >"$tmp/copy.json"
modprobe -d "$MTIA_GUEST_ROOT" nvme
for _ in $(seq 100); do [ -b /dev/nvme0n1 ] && break; sleep 0.1; done
build/bin/nvme_qd1 /dev/nvme0n1 "${MTIA_BENCH_NVME_READS:-2000}" >"$tmp/nvme"
build/bin/direct_nop "${MTIA_BENCH_NOPS:-2000}" >"$tmp/direct" || echo "direct_nop unavailable" >"$tmp/direct"
DIR=${MTIA_MODEL_DIR:-build/models}
rounds=${MTIA_BENCH_DIRECT_ROUNDS:-5}
for round in $(seq "$rounds"); do
  for m in direct ioctl; do
    off=1
    [ $m = ioctl ] && off=0
    MTIA_DIRECT_QUEUES=$off build/bin/mtia-run --bench copy --size 4M --iters 1 \
      --nop-iters "${MTIA_BENCH_NOPS:-2000}" --json >"$tmp/lnop.$m.$round"
    MTIA_DIRECT_QUEUES=$off build/bin/mtia-run "$DIR/resnet18.mtia" --bench "${MTIA_BENCH_DIRECT_INFER:-50}" \
      --input "$DIR/resnet18.input0.npy" --json >"$tmp/resnet.$m.$round"
  done
done

/usr/bin/python3 - "$tmp" "${MTIA_BENCH_HOST_MEMCPY:-0}" "$rounds" <<'PYEOF'
import json, sys
d, host, rounds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
guest = float(open(d + "/memcpy").read().split()[1])
j = json.load(open(d + "/copy.json"))
nv = open(d + "/nvme").read().split()
nv = dict(zip(nv[1::2], nv[2::2]))
nv_p50, nv_p99 = float(nv["p50_us"]), float(nv["p99_us"])
print(f"  guest memcpy (1 thread, 256 MiB):    {guest:8.3f} GB/s  ({guest / host:.2f}x host)" if host else
      f"  guest memcpy (1 thread, 256 MiB):    {guest:8.3f} GB/s")
print(f"  device DMA, {j['size'] >> 20} MiB x {j['iters']} per direction (host clock; device clock):")
worst = None
for k, name in (("host_to_device", "host->device"), ("device_to_host", "device->host"),
                ("device_to_device", "device->device")):
    g, dg = j[k]["gbps"], j[k]["device_gbps"]
    r = g / host if host else 0
    worst = r if worst is None else min(worst, r)
    print(f"    {name:<15} {g:8.3f} GB/s ({dg:8.3f})  = {r:.2f}x host memcpy, {g / guest:.2f}x guest memcpy")
print(f"  target DMA >= 0.5x host memcpy: {'met' if worst >= 0.5 else 'NOT met'} (lowest {worst:.2f}x)")
n50, n99 = j["nop"]["p50_us"], j["nop"]["p99_us"]
print(f"  NOP job submit->complete ({j['nop']['iters']} jobs): p50 {n50:.1f} us  p99 {n99:.1f} us")
print(f"  emulated NVMe 4 KiB O_DIRECT read, QD1 ({nv['reads']} reads): p50 {nv_p50:.1f} us  p99 {nv_p99:.1f} us")
r = n50 / nv_p50
print(f"  NOP p50 / NVMe p50: {r:.2f}x  (target <= 1.0x: {'met' if r <= 1.0 else 'NOT met'})")
dq = open(d + "/direct").read().split()
if dq[0] == "direct_nop":
    q = {k: float(v) for k, v in zip(dq[1::2], dq[2::2])}
    print(f"  direct queue (user-mode submission) vs the ioctl path, NOP, {int(q['iters'])} each, same run:")
    print(f"    launch: doorbell p50 {q['launch_p50_us']:.1f} us  p99 {q['launch_p99_us']:.1f} us;"
          f"  SUBMIT ioctl p50 {q['ioctl_launch_p50_us']:.1f} us  p99 {q['ioctl_launch_p99_us']:.1f} us"
          f"  (target <= 5 us: {'met' if q['launch_p50_us'] <= 5 else 'NOT met'})")
    for k, name in (("spin", "direct, spinning on the CQ"), ("wait", "direct, DIRECT_WAIT (interrupt)"),
                    ("ioctl", "ioctl, SUBMIT + WAIT")):
        p50, p99 = q[k + "_p50_us"], q[k + "_p99_us"]
        print(f"    round trip {name:<32} p50 {p50:7.1f} us  p99 {p99:7.1f} us"
              f"  = {p50 / nv_p50:.2f}x / {p99 / nv_p99:.2f}x NVMe's")
    best = min(q["spin_p50_us"], q["wait_p50_us"])
    print(f"    target direct p50 <= 0.5x NVMe's: {'met' if best <= 0.5 * nv_p50 else 'NOT met'};"
          f" wait p99 <= 1.0x: {'met' if q['wait_p99_us'] <= nv_p99 else 'NOT met'}")
else:
    print("  direct queue: " + " ".join(dq))
def each(xs):
    return " ".join(f"{x:.2f}" for x in xs)
def load(kind, m):
    return [json.load(open(f"{d}/{kind}.{m}.{r}")) for r in range(1, rounds + 1)]
print(f"  libmtia, direct queue vs ioctl path (MTIA_DIRECT_QUEUES=0), best of {rounds} alternating rounds"
      f" (each round's in brackets):")
for key, name, unit in (("p50_us", "p50", "us"), ("p99_us", "p99", "us")):
    a, b = ([j["nop"][key] for j in load("lnop", m)] for m in ("direct", "ioctl"))
    print(f"    Stream NOP round trip {name} {min(a):7.1f} / {min(b):7.1f} us  ->  direct/ioctl {min(a) / min(b):.2f}x;"
          f"  direct {min(a) / (nv_p50 if name == 'p50' else nv_p99):.2f}x NVMe's [{each(a)} / {each(b)}]")
a, b = ([j["latency_ms"]["p50"] for j in load("resnet", m)] for m in ("direct", "ioctl"))
print(f"    resnet18 batch 1 run() p50 {min(a):.2f} / {min(b):.2f} ms  ->  direct/ioctl {min(a) / min(b):.3f}x"
      f" ({(min(b) - min(a)) * 1000:+.0f} us saved; an NVMe 4 KiB read is {nv_p50:.0f} us) [{each(a)} / {each(b)}]")
a, b = ([j["latency_ms"]["p99"] for j in load("resnet", m)] for m in ("direct", "ioctl"))
print(f"    resnet18 batch 1 run() p99 {min(a):.2f} / {min(b):.2f} ms  ->  direct/ioctl {min(a) / min(b):.3f}x")
PYEOF

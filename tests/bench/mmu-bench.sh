#!/usr/bin/env bash
# In-VM part of run-bench.sh's device MMU figures: the VM has two devices
# alike but for the "mmu" property (one on, one off); the same benchmarks
# run on each, alternately (on, off, on, off: drift hits both), and the
# ratio on/off of the best of each is printed (every round's figure too:
# on a shared host the spread says how far to trust the ratio):
#  - mtia-run --bench copy: DMA bandwidth per direction, NOP job round trip
#  - mtia-run resnet18 --bench (batch 1): run() p50 latency
set -euo pipefail
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "mmu-bench.sh: run inside tools/mtia-vm" >&2; exit 2; }
# Both devices on the ioctl path, so the ratio is the MMU's cost alone (with
# the MMU, streams would otherwise take direct queues: vm-bench.sh's figures).
export MTIA_DIRECT_QUEUES=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DIR=${MTIA_MODEL_DIR:-build/models}

node_on="" node_off=""
for n in /sys/class/accel/accel*; do
  case "$(cat "$n/device/mtia/mmu")" in
    on) node_on=/dev/accel/${n##*/} ;;
    off) node_off=/dev/accel/${n##*/} ;;
  esac
done
[ -n "$node_on" ] && [ -n "$node_off" ] || { echo "mmu-bench.sh: needs a device with mmu=on and one with mmu=off" >&2; exit 2; }

rounds=${MTIA_BENCH_MMU_ROUNDS:-3}
for round in $(seq "$rounds"); do
  for m in on off; do
    node=node_$m
    build/bin/mtia-run --device "${!node}" --bench copy --size "${MTIA_BENCH_COPY_SIZE:-256M}" \
      --iters "${MTIA_BENCH_COPY_ITERS:-4}" --nop-iters "${MTIA_BENCH_NOPS:-2000}" --json >"$tmp/copy.$m.$round"
    build/bin/mtia-run --device "${!node}" "$DIR/resnet18.mtia" --bench "${MTIA_BENCH_INFER_B1:-30}" \
      --input "$DIR/resnet18.input0.npy" --json >"$tmp/resnet.$m.$round"
  done
done

/usr/bin/python3 - "$tmp" "$rounds" <<'PYEOF'
import json, sys
d, rounds = sys.argv[1], int(sys.argv[2])
def load(kind, m):
    return [json.load(open(f"{d}/{kind}.{m}.{r}")) for r in range(1, rounds + 1)]
def each(xs):
    return " ".join(f"{x:.2f}" for x in xs)
copy = {m: load("copy", m) for m in ("on", "off")}
res = {m: load("resnet", m) for m in ("on", "off")}
print(f"  device DMA, {copy['on'][0]['size'] >> 20} MiB x {copy['on'][0]['iters']}, best of {rounds} rounds "
      f"(each round's in brackets), mmu on / off:")
for k, name in (("host_to_device", "host->device"), ("device_to_host", "device->host"),
                ("device_to_device", "device->device")):
    on, off = ([j[k]["gbps"] for j in copy[m]] for m in ("on", "off"))
    print(f"    {name:<15} {max(on):7.3f} / {max(off):7.3f} GB/s  ->  on/off {max(on) / max(off):.3f}x bandwidth "
          f"[{each(on)} / {each(off)}]")
on, off = ([j["nop"]["p50_us"] for j in copy[m]] for m in ("on", "off"))
print(f"    NOP job round trip p50 {min(on):.1f} / {min(off):.1f} us  ->  on/off {min(on) / min(off):.3f}x time "
      f"[{each(on)} / {each(off)}]")
on, off = ([j["latency_ms"]["p50"] for j in res[m]] for m in ("on", "off"))
print(f"  resnet18 batch 1 run() p50 {min(on):.2f} / {min(off):.2f} ms  ->  on/off {min(on) / min(off):.3f}x time "
      f"[{each(on)} / {each(off)}]")
PYEOF

#!/usr/bin/env bash
# In-VM part of run-bench.sh's throttling figures (docs/telemetry.md,
# "Throttling slows the engines"): resnet18 batch 1 (mtia-run --bench)
# uncapped, under the lowest power limit (6 W, after --warmup runs under it
# let the clock settle) and uncapped again, in one VM. The clock is sampled
# from sysfs while each run goes; printed: each run's throughput, device
# time per inference (run_async between TIMESTAMP events), timing-model
# estimate and clock, and the ratios capped / uncapped against the clock's.
set -euo pipefail
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "throttle-bench.sh: run inside tools/mtia-vm" >&2; exit 2; }
DIR=${MTIA_MODEL_DIR:-build/models}
tmp=$(mktemp -d)
hw="" sys=""
for d in /sys/bus/pci/devices/*; do
  [ -d "$d/mtia" ] || continue
  sys=$d/mtia
  for h in "$d"/hwmon/hwmon*; do [ "$(cat "$h/name")" = mtia ] && hw=$h; done
  break
done
[ -n "$hw" ] || { echo "throttle-bench.sh: no mtia hwmon" >&2; exit 2; }
trap 'echo 25000000 >"$hw/power1_cap"; rm -rf "$tmp"' EXIT
[ -w "$sys/../power/control" ] && echo on >"$sys/../power/control"
n=${MTIA_BENCH_THROTTLE_N:-30}

# run NAME: the bench, with the clock sampled every 0.1 s while it runs.
run() {
  build/bin/mtia-run "$DIR/resnet18.mtia" --bench "$n" --warmup "${MTIA_BENCH_THROTTLE_WARMUP:-10}" --json \
    >"$tmp/$1.json" &
  local pid=$!
  : >"$tmp/$1.clk"
  while kill -0 "$pid" 2>/dev/null; do
    echo "$(cat "$sys/clock_mhz") $(cat "$sys/throttle_reasons")" >>"$tmp/$1.clk"
    sleep 0.1
  done
  wait "$pid"
}
full_clock() {
  local i
  for i in $(seq 600); do  # up to a minute; the governor needs one 100 ms sample
    [ "$(cat "$sys/clock_mhz")" = "$(cat "$sys/clock_max_mhz")" ] && return 0
    sleep 0.1
  done
  echo "throttle-bench.sh: the clock did not come back to full" >&2
  return 1
}

echo 25000000 >"$hw/power1_cap"
full_clock
run full
echo 6000000 >"$hw/power1_cap"
run capped
echo 25000000 >"$hw/power1_cap"
full_clock
run after

/usr/bin/python3 - "$tmp" "$(cat "$sys/clock_max_mhz")" <<'PYEOF'
import json, statistics, sys
d, fmax = sys.argv[1], int(sys.argv[2])
r = {}
for name in ("full", "capped", "after"):
    j = json.load(open(f"{d}/{name}.json"))
    clk = [l.split() for l in open(f"{d}/{name}.clk") if l.strip()]
    # The settled clock: the median of the second half of the samples (the
    # first half holds the warm-up, when the clock is still coming down).
    half = [int(c[0]) for c in clk[len(clk) // 2:]] or [fmax]
    reasons = sorted({c[1] for c in clk if len(c) > 1})
    r[name] = dict(ips=j["throughput_ips"], dev=j["device_ms_per_inference"], est=j["device_estimate_ms"],
                   f=statistics.median(half), reasons=",".join(reasons))
    x = r[name]
    print(f"  {name:<7} {x['ips']:7.2f} inferences/s, device {x['dev']:8.3f} ms/inference, "
          f"estimate {x['est']:.3f} ms, clock {x['f']:.0f} MHz (throttle: {x['reasons']})")
u, c, a = r["full"], r["capped"], r["after"]
clock_ratio = c["f"] / u["f"]
tput = c["ips"] / u["ips"]
speed = u["dev"] / c["dev"]  # device speed ratio: 1 / time stretch
print(f"  6 W cap: capped/uncapped throughput {tput:.2f}, device speed {speed:.2f}, clock ratio {clock_ratio:.2f} "
      f"-> device time stretch tracks the clock within {abs(speed / clock_ratio - 1) * 100:.0f} %, "
      f"estimate x{c['est'] / u['est']:.2f} (clock x{1 / clock_ratio:.2f})")
print(f"  after lifting the cap: throughput {a['ips'] / u['ips']:.2f}x, device time {a['dev'] / u['dev']:.2f}x, "
      f"estimate {a['est'] / u['est']:.2f}x of uncapped")
PYEOF

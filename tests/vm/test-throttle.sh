#!/usr/bin/env bash
# Throttling slows the engines (docs/telemetry.md, "Throttling slows the
# engines"): resnet18 (batch 1, mtia-run --bench) uncapped, under the
# lowest power limit (6 W) and uncapped again. Under the limit the clock
# must drop with "power" as the reason, the device's time per inference
# (run_async between two TIMESTAMP events) must grow by about f_max / f
# and the timing model's estimate (the CQE's result) by f_max / f of the
# clock the jobs ran at; with the limit lifted the clock, the estimate and
# the time come back. The stretch itself is read from the capped runs'
# profiles (a program's span against the span less its throttle_ns, the
# time the engine was held): within one job, so the host's load, which
# changes the work under the stretch from one phase to the next by more
# than the stretch's tolerance, cancels. Across phases only the direction
# of the device time is held to.
#
# Models are prepared on the host by tests/vm/test-models.sh --prepare; run
# INSIDE an mtia-vm guest:
#   tools/mtia-vm run --devices 1 -- tests/vm/test-throttle.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh  # (its PY runs the JSON reads)
DIR=${MTIA_MODEL_DIR:-build/models}
RUN=build/bin/mtia-run
tmp=$(mktemp -d)
hw=
on_finish() {
  [ -n "$hw" ] && echo 25000000 >"$hw/power1_cap"
  rm -rf "$tmp"
}

need_device
need_prepared tests/vm/test-models.sh "$DIR/resnet18.mtia"
dev=${devs[0]}
for h in "$(sysd "$dev")"/hwmon/hwmon*; do [ "$(cat "$h/name" 2>/dev/null)" = mtia ] && hw=$h; done
[ -n "$hw" ] || { fail "$dev has no mtia hwmon"; finish; }
node=/dev/accel/$(accel_of "$dev")
keep_awake

clock() { sysattr "$dev" clock_mhz; }
full_clock() { [ "$(clock)" = "$(sysattr "$dev" clock_max_mhz)" ]; }
fmax=$(sysattr "$dev" clock_max_mhz)

# phase NAME N: mtia-run --bench N on resnet18 while the clock and the
# throttle reasons are sampled; NAME.json is mtia-run's output, NAME.clk
# the samples ("MHz reasons") taken while it ran.
phase() {
  local name=$1 n=$2 pid
  "$RUN" "$DIR/resnet18.mtia" --device "$node" --bench "$n" --warmup 2 --json --profile "$tmp/$name.trace" \
    >"$tmp/$name.json" 2>"$tmp/$name.err" &
  pid=$!
  : >"$tmp/$name.clk"
  while kill -0 "$pid" 2>/dev/null; do
    echo "$(clock) $(sysattr "$dev" throttle_reasons)" >>"$tmp/$name.clk"
    sleep 0.2  # a sampling period, not a wait for a state
  done
  wait "$pid"
}
# field NAME KEY: a number from NAME.json.
field() { $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/$1.json" "$2"; }
# median clock of the second half of NAME's samples (the settled clock;
# mtia-run's estimate is its last job's, the device time its last phase's).
settled() {
  local n
  n=$(wc -l <"$tmp/$1.clk")
  tail -n $(((n + 1) / 2)) "$tmp/$1.clk" | cut -d' ' -f1 | sort -n |
    awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}

echo 25000000 >"$hw/power1_cap"
wait_for 100 full_clock && pass "uncapped: full clock ($fmax MHz)" || fail "clock $(clock) MHz at 25 W"

# ---- uncapped -----------------------------------------------------------------
if phase full 6; then pass "uncapped resnet18 bench ran"; else fail "uncapped bench: $(cat "$tmp/full.err")"; finish; fi
est0=$(field full device_estimate_ms)
dev0=$(field full device_ms_per_inference)
ips0=$(field full throughput_ips)
echo "uncapped: estimate $est0 ms, device $dev0 ms/inference, $ips0 inferences/s, clock $(settled full) MHz"

# ---- capped at 6 W --------------------------------------------------------------
echo 6000000 >"$hw/power1_cap"
[ "$(cat "$hw/power1_cap")" = 6000000 ] && pass "power limit 6 W" || fail "power1_cap $(cat "$hw/power1_cap")"
if phase capped 12; then pass "capped resnet18 bench ran"; else fail "capped bench: $(cat "$tmp/capped.err")"; fi
est1=$(field capped device_estimate_ms)
dev1=$(field capped device_ms_per_inference)
ips1=$(field capped throughput_ips)
f1=$(settled capped)
echo "capped:   estimate $est1 ms, device $dev1 ms/inference, $ips1 inferences/s, clock $f1 MHz"
grep -q ' power' "$tmp/capped.clk" && awk -v f="$fmax" '$1 < f { found = 1 } END { exit !found }' "$tmp/capped.clk" &&
  pass "under load the clock dropped for power (settled at $f1 MHz)" ||
  fail "no power throttling seen: $(sort -u "$tmp/capped.clk" | tr '\n' ';')"
# The estimate is the last job's, at the clock it ran at: f_max / f of the
# uncapped one, f within 35 % of the clock sampled then.
awk -v a="$est0" -v b="$est1" -v f="$f1" -v m="$fmax" \
  'BEGIN { if (b <= 0 || f <= 0) exit 1; g = m * a / b; exit !(g > 0.65 * f && g < 1.35 * f && f < m) }' &&
  pass "estimate $est0 -> $est1 ms: x$(awk -v a="$est0" -v b="$est1" 'BEGIN { printf "%.2f", b / a }') for ${f1} MHz" ||
  fail "estimate $est0 -> $est1 ms does not follow the clock ($f1 of $fmax MHz)"
# The stretch per job, from the profiles of the last half of the timed runs
# (the clock settled): f_max / (span / (span - held)) within 35 % of the
# clock sampled then, as for the estimate.
stretch=$($PY -c '
import json, sys
runs = [e["args"] for e in json.load(open(sys.argv[1]))["traceEvents"]
        if e["ph"] == "X" and e["pid"] == 2 and e.get("cat") == "program"]
s = sorted(a["device_ns"] / max(a["device_ns"] - a["throttle_ns"], 1) for a in runs[len(runs) // 2:])
print(s[len(s) // 2] if s else 0)' "$tmp/capped.trace")
awk -v s="$stretch" -v f="$f1" -v m="$fmax" 'BEGIN { if (s <= 0 || f <= 0) exit 1; g = m / s; exit !(g > 0.65 * f && g < 1.35 * f) }' &&
  pass "profiled programs at $f1 MHz: span x$(printf %.2f "$stretch") of the work (clock x$(awk -v f="$f1" -v m="$fmax" 'BEGIN { printf "%.2f", m / f }'))" ||
  fail "profiled programs: span x$stretch of the work for $f1 of $fmax MHz"
# ---- the limit lifted ------------------------------------------------------------
echo 25000000 >"$hw/power1_cap"
wait_for 100 full_clock && pass "limit lifted: full clock" || fail "clock $(clock) MHz after lifting the limit"
if phase after 6; then pass "resnet18 bench ran after lifting"; else fail "bench after: $(cat "$tmp/after.err")"; fi
est2=$(field after device_estimate_ms)
dev2=$(field after device_ms_per_inference)
echo "after:    estimate $est2 ms, device $dev2 ms/inference, $(field after throughput_ips) inferences/s"
[ "$est2" = "$est0" ] && pass "estimate back to $est0 ms" || fail "estimate $est2 ms after lifting, $est0 before"
# The device time per inference (events around run_async) grows under the
# cap against the uncapped runs before and after (their geometric mean,
# which cancels a steady drift of the host's load). How much is the
# profiles' check: across phases the host's load moves the work under the
# stretch (CI measured an uncapped resnet18 at 60 and 115 ms minutes apart).
ref=$(awk -v a="$dev0" -v b="$dev2" 'BEGIN { print sqrt(a * b) }')
awk -v a="$ref" -v b="$dev1" \
  'BEGIN { if (a <= 0) exit 1; exit !(b > 1.3 * a) }' &&
  pass "device time $ref -> $dev1 ms per inference: x$(awk -v a="$ref" -v b="$dev1" 'BEGIN { printf "%.2f", b / a }') (clock x$(awk -v f="$f1" -v m="$fmax" 'BEGIN { printf "%.2f", m / f }'))" ||
  fail "device time $ref -> $dev1 ms does not follow the clock ($f1 of $fmax MHz)"
awk -v a="$dev1" -v b="$dev2" 'BEGIN { exit !(b < a) }' &&
  pass "device time back to $dev2 ms per inference" || fail "device time $dev2 ms after lifting ($dev1 capped)"
! grep -q ' power\|thermal' "$tmp/after.clk" && pass "not throttled after lifting" ||
  fail "throttled after lifting: $(sort -u "$tmp/after.clk" | tr '\n' ';')"
finish

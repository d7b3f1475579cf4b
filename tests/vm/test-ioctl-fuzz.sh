#!/usr/bin/env bash
# The ioctl fuzzer (build/bin/ioctl_fuzz, tests/vm/ioctl_fuzz.cc) on every
# mtia device of the VM, bounded by time; then each device must still run
# a small model to the same output as before the fuzzing, its firmware must
# be ready (or runtime-suspended: the fuzzing runs with runtime PM on, so
# devices suspend and resume under it), and the VM harness checks dmesg (no
# WARN, BUG or oops).
#
# INSIDE an mtia-vm guest:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-ioctl-fuzz.sh [SECONDS]
# SECONDS: default $MTIA_IOCTL_FUZZ_S or 20 (make test); make fuzz runs it
# longer. MTIA_IOCTL_FUZZ_SEED repeats a run's random choices (per thread;
# the interleaving of threads still differs).
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh

FUZZ=build/bin/ioctl_fuzz
RUN=build/bin/mtia-run
MODEL=${MTIA_MODEL_DIR:-build/models}/mlp
SECONDS_FUZZ=${1:-${MTIA_IOCTL_FUZZ_S:-20}}

need_device
need_prepared tests/vm/test-models.sh "$MODEL.mtia" "$MODEL.input0.npy"
[ -x "$FUZZ" ] || { fail "no $FUZZ (ninja -C build/cmake ioctl_fuzz)"; finish; }
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }

nodes=()
for d in "${devs[@]}"; do
  wait_for 100 fw_usable "$d" || fail "$d: firmware not ready before fuzzing ($(sysattr "$d" fw_status))"
  nodes+=("/dev/accel/$(accel_of "$d")")
done
# Reference outputs, one per device (device index = node order).
for i in "${!nodes[@]}"; do
  "$RUN" "$MODEL.mtia" -d "${nodes[$i]}" --input "$MODEL.input0.npy" --output "$tmp/ref$i.npy" >/dev/null 2>&1 ||
    fail "mlp on ${nodes[$i]} before fuzzing"
done
resets_before=()
for d in "${devs[@]}"; do resets_before+=("$(sysattr "$d" reset_count)"); done

seed=()
[ -n "${MTIA_IOCTL_FUZZ_SEED:-}" ] && seed=(--seed "$MTIA_IOCTL_FUZZ_SEED")
"$FUZZ" --seconds "$SECONDS_FUZZ" --procs 3 --threads 3 "${seed[@]}" "${nodes[@]}" | tee "$tmp/fuzz.log"
rc=${PIPESTATUS[0]}
line=$(grep '^ioctl-fuzz: [0-9]* calls' "$tmp/fuzz.log")
check "ioctl fuzzer: no crash, no hang, a right job after it (exit $rc)" test "$rc" -eq 0
[[ $line =~ ([0-9]+)\ calls ]] && calls=${BASH_REMATCH[1]} || calls=0
[[ $line =~ ([0-9]+)\ jobs\ submitted ]] && jobs=${BASH_REMATCH[1]} || jobs=0
# A fuzzer that makes few calls, or whose jobs never get past the driver's
# checks, tests little: both are checked.
check "ioctl fuzzer made calls ($calls) and ran jobs ($jobs)" test "$calls" -ge $((SECONDS_FUZZ * 50)) -a "$jobs" -ge "$SECONDS_FUZZ"

for i in "${!devs[@]}"; do
  d=${devs[$i]}
  wait_for 100 fw_usable "$d" || fail "$d: firmware not ready after fuzzing ($(sysattr "$d" fw_status))"
  echo "$d: resets during fuzzing: $(($(sysattr "$d" reset_count) - ${resets_before[$i]}))"
  if "$RUN" "$MODEL.mtia" -d "${nodes[$i]}" --input "$MODEL.input0.npy" --output "$tmp/out$i.npy" >/dev/null 2>&1; then
    check "$d: mlp after fuzzing gives the same output as before" cmp -s "$tmp/ref$i.npy" "$tmp/out$i.npy"
  else
    fail "$d: mlp after fuzzing"
  fi
done
finish

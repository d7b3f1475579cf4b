# Shared helpers of the in-VM shell tests (sourced, not run). Each test
# counts checks and ends with "N passed, N failed" through finish().
# shellcheck shell=bash disable=SC2034  # variables are for the sourcing tests

if [ "${MTIA_IN_VM:-0}" != 1 ]; then
  echo "${0##*/}: run inside the VM: tools/mtia-vm run --devices 2 -- $0" >&2
  exit 2
fi

VENDOR=0x1d9b
DEVICE=0x0a01
KO=${MTIA_DRIVER_KO:-build/driver/mtia.ko}
PY=/usr/bin/python3

# shellcheck source=tests/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

# devs: the mtia PCI functions, by BDF; ndev: how many.
devs=()
for d in /sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor")" = "$VENDOR" ] && [ "$(cat "$d/device")" = "$DEVICE" ] &&
    devs+=("${d##*/}")
done
ndev=${#devs[@]}

# need_device: fails and finishes the test unless the VM has an mtia device.
need_device() {
  if [ "$ndev" -eq 0 ]; then
    fail "no PCI device $VENDOR:$DEVICE in the VM (run with --devices N)"
    finish
  fi
}

# need_prepared SCRIPT FILE...: fails and finishes the test unless every
# FILE exists (what SCRIPT --prepare writes on the host).
need_prepared() {
  local script=$1 f
  shift
  for f in "$@"; do
    [ -f "$f" ] && continue
    fail "no $f: run $script --prepare on the host first"
    finish
  done
}

# run_gtest BIN [ARGS...]: runs a GoogleTest binary (its output shown), adds
# its passed/failed test counts to ours, and counts a non-zero exit or a
# missing binary as one more failure.
run_gtest() {
  local bin=$1 log rc p f
  shift
  if [ ! -x "$bin" ]; then
    fail "no $bin (ninja -C build/cmake ${bin##*/})"
    return
  fi
  log=$(mktemp)
  "$bin" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  rm -f "$log"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail "${bin##*/} exited $rc"; fi
}

# keep_awake: runtime PM off (power/control "on") for every bound mtia
# device, for tests that poke registers themselves or expect the firmware
# running: an idle device otherwise autosuspends (driver/mtia_pm.c). Probe
# allows runtime PM again, so call it after every driver reload too.
keep_awake() {
  local d
  for d in "${devs[@]}"; do
    [ -w "/sys/bus/pci/devices/$d/power/control" ] && echo on >"/sys/bus/pci/devices/$d/power/control"
  done
  return 0
}

# ---- sysfs and device-node helpers, by PCI address ------------------------
sysd() { echo "/sys/bus/pci/devices/$1"; }
sysattr() { cat "$(sysd "$1")/mtia/$2" 2>/dev/null; }
# accelN of a bound PCI function ("" if none).
accel_of() {
  local f
  for f in "$(sysd "$1")"/accel/accel*; do
    [ -e "$f" ] && { echo "${f##*/}"; return; }
  done
}
accel_count() {
  local n=0 f
  for f in /dev/accel/accel*; do [ -e "$f" ] && n=$((n + 1)); done
  echo "$n"
}

# wait_for TENTHS CMD...: retries CMD every 0.1 s until it succeeds or
# TENTHS x MTIA_WAIT_SCALE (default 4) tenths of a second of wall time have
# passed; the last try's status. TENTHS is what an idle host needs with
# room to spare; the scale covers a slowed or loaded one (make test-slowed,
# make test-loaded) and costs nothing when the state comes sooner.
wait_for() {
  local end
  end=$(awk -v t="$EPOCHREALTIME" -v n="$1" -v k="${MTIA_WAIT_SCALE:-4}" 'BEGIN { printf "%.3f", t + n * k / 10 }')
  shift
  until "$@"; do
    awk -v t="$EPOCHREALTIME" -v e="$end" 'BEGIN { exit !(t >= e) }' && { "$@"; return; }
    sleep 0.1
  done
}
# Conditions for wait_for (re-evaluated on every try).
accel_is() { [ "$(accel_count)" -eq "$1" ]; }
fw_ready() { [ "$(sysattr "$1" fw_status)" = ready ]; }
# Ready, or runtime-suspended after going idle (it resumes on use).
fw_usable() { case $(sysattr "$1" fw_status) in ready | suspended) return 0 ;; esac; return 1; }
resets_above() { [ "$(sysattr "$1" reset_count)" -gt "$2" ]; }

# expect_rc WANT DESCRIPTION CMD...: runs CMD (its output, both streams, in
# $out; its status in $rc) and passes if it exits WANT.
expect_rc() {
  local want=$1 what=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$what (exit $rc)"; else fail "$what: exit $rc, want $want: $out"; fi
}
# contains HAYSTACK NEEDLE DESCRIPTION: passes if NEEDLE is a line-part of HAYSTACK.
contains() {
  if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: '$2' not in: $1"; fi
}

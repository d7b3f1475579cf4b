#!/usr/bin/env bash
# In-VM test of the device on PCI Express: its link behind the root port,
# AER errors injected from QEMU's monitor (tools/mtia-monitor) while jobs
# run, and hot-unplug with files open and jobs in flight, then hot-plug.
#   tools/mtia-vm run --devices 1 -- tests/vm/test-pcie.sh
# The device under test is the QOM device mtia0 in slot mtia-rp0 (mtia-vm's
# first device); it is unplugged and plugged back, so run this last.
# Needs tests/vm/test-models.sh --prepare (build/models/mlp.mtia).
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
need_device
need_prepared tests/vm/test-models.sh build/models/mlp.mtia

MON=tools/mtia-monitor
# mtia0 sits alone on the first root port's secondary bus, bus 1.
BDF=
for d in "${devs[@]}"; do
  [ "${d#*:}" = "01:00.0" ] && BDF=$d
done
if [ -z "$BDF" ]; then
  fail "no mtia0 at 0000:01:00.0 (mtia-vm puts its first device behind root port mtia-rp0)"
  finish
fi
work=$(mktemp -d)
on_finish() { touch "$work/stop"; wait; rm -rf "$work"; }

# index of $BDF among libmtia's devices (ordered like /dev/accel)
dev_index() {
  local a i=0 n
  a=$(accel_of "$BDF")
  for n in $(ls /dev/accel | sort -V); do
    [ "$n" = "$a" ] && { echo $i; return; }
    i=$((i + 1))
  done
}

# ---- the link ----------------------------------------------------------
check "link trained at 16 GT/s" grep -q '^16.0 GT/s' "$(sysd "$BDF")/current_link_speed"
check "link width x8" [ "$(cat "$(sysd "$BDF")/current_link_width")" = 8 ]
check "parent is a PCIe root port" \
  bash -c "[ \"\$(cat $(sysd "$BDF")/../class)\" = 0x060400 ]"
check "AER capability present" bash -c "lspci -vvv -s $BDF 2>/dev/null | grep -q 'Advanced Error Reporting'"

# start_load NAME [--until-error]: pcie_load.py on the device, in the background
start_load() {
  rm -f "$work/$1.json" "$work/$1.json.ready"
  $PY tests/vm/pcie_load.py "$(dev_index)" build/models/mlp.mtia "$work/stop" "$work/$1.json" "${@:2}" &
}
loaded() { local f; for f in "$@"; do [ -e "$work/$f.json.ready" ] || return 1; done; }
stopped() { local f; for f in "$@"; do [ -e "$work/$f.json" ] || return 1; done; }
field() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/$1.json" "$2"; }
errors_above() { [ "$(sysattr "$BDF" pci_error_count)" -gt "$1" ]; }

# ---- AER: a non-fatal error, then a fatal one, under load ------------------
run_aer() { # NAME ERROR expect_reset(0|1)
  local name=$1 err=$2 want_reset=$3 e0 r0
  rm -f "$work/stop"
  start_load "$name-a"
  start_load "$name-b"
  check "$name: load running" wait_for 600 loaded "$name-a" "$name-b"
  e0=$(sysattr "$BDF" pci_error_count)
  r0=$(sysattr "$BDF" reset_count)
  check "$name: injected from the monitor" $MON hmp "pcie_aer_inject_error mtia0 $err"
  check "$name: the driver saw the error" wait_for 100 errors_above "$e0"
  if [ "$want_reset" = 1 ]; then
    check "$name: the device was reset" wait_for 200 resets_above "$BDF" "$r0"
  fi
  check "$name: firmware ready again" wait_for 200 fw_ready "$BDF"
  touch "$work/stop"
  check "$name: loads finished" wait_for 600 stopped "$name-a" "$name-b"
  wait
  local x
  for x in a b; do
    echo "$name-$x: $(cat "$work/$name-$x.json")"
    check "$name-$x: jobs ran" [ "$(field "$name-$x" ok)" -gt 0 ]
    check "$name-$x: no job lost" [ "$(field "$name-$x" failed)" -eq 0 ]
    check "$name-$x: no data corrupted" [ "$(field "$name-$x" corrupted)" -eq 0 ]
  done
  if [ "$want_reset" = 0 ]; then
    check "$name: no reset" [ "$(sysattr "$BDF" reset_count)" -eq "$r0" ]
  fi
}
run_aer "AER non-fatal (poisoned TLP)" POISON_TLP 0
run_aer "AER fatal (internal error)" INTN 1

# ---- hot-unplug with files open and jobs in flight, then hot-plug ----------
rm -f "$work/stop"
start_load unplug-a --until-error
start_load unplug-b --until-error
check "unplug: load running" wait_for 600 loaded unplug-a unplug-b
gone() { [ ! -e "$(sysd "$BDF")" ]; }
check "device_del mtia0" $MON device_del id=mtia0
check "unplug: the function is gone" wait_for 300 gone
check "unplug: every load ended (no wait hangs)" wait_for 300 stopped unplug-a unplug-b
for x in a b; do
  echo "unplug-$x: $(cat "$work/unplug-$x.json" 2>/dev/null)"
  check "unplug-$x: jobs ran before" [ "$(field "unplug-$x" ok)" -gt 0 ]
  check "unplug-$x: ended with an error" [ "$(field "unplug-$x" failed)" -ge 1 ]
  check "unplug-$x: no corrupted data" [ "$(field "unplug-$x" corrupted)" -eq 0 ]
done
wait
check "device_add mtia0 back into its slot" $MON device_add driver=mtia id=mtia0 bus=mtia-rp0
back() { [ -e "$(sysd "$BDF")/accel" ] && fw_ready "$BDF"; }
check "hot-plug: driver bound, firmware ready" wait_for 300 back
rm -f "$work/stop"
start_load replug
check "hot-plug: jobs run on the new device" wait_for 600 loaded replug
touch "$work/stop"
check "hot-plug: load finished" wait_for 600 stopped replug
wait
echo "replug: $(cat "$work/replug.json" 2>/dev/null)"
check "hot-plug: no job failed" [ "$(field replug failed)" -eq 0 ]
check "hot-plug: no data corrupted" [ "$(field replug corrupted)" -eq 0 ]
finish

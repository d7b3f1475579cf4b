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

passed=0
failed=0
# MTIA_TEST_TIMES=1 prefixes each result with the guest uptime.
stamp() { [ -n "${MTIA_TEST_TIMES:-}" ] && printf '[%s] ' "$(cut -d' ' -f1 /proc/uptime)"; }
pass() { passed=$((passed + 1)); echo "$(stamp)PASS: $*"; }
fail() { failed=$((failed + 1)); echo "$(stamp)FAIL: $*"; }
check() { # description command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# A test may define on_finish() for its own clean-up.
finish() {
  if declare -F on_finish >/dev/null; then on_finish; fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# devs: the mtia PCI functions, by BDF; ndev: how many.
devs=()
for d in /sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor")" = "$VENDOR" ] && [ "$(cat "$d/device")" = "$DEVICE" ] &&
    devs+=("${d##*/}")
done
ndev=${#devs[@]}

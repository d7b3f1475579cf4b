#!/usr/bin/env bash
# In-VM test of the Kubernetes device plugin (docs/kubernetes.md) on two
# devices, against a kubelet stand-in: tests/vm/test_device_plugin.py says
# what it checks. Runs INSIDE an mtia-vm guest, cwd = repo top:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-device-plugin.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
echo "mtia PCI functions: $ndev (${devs[*]:-none})"
need_device
for b in mtia-device-plugin visible_devices_probe; do
  [ -x "build/bin/$b" ] || { fail "no build/bin/$b (ninja -C build/cmake $b)"; finish; }
done
# The firmware must be running for the heartbeat rule (and stay so: the
# plugin reads the heartbeat only while it is "ready"); runtime PM is given
# back afterwards, as the suites after this one expect it.
declare -A control0
for d in "${devs[@]}"; do control0[$d]=$(cat "$(sysd "$d")/power/control"); done
keep_awake
for d in "${devs[@]}"; do wait_for 100 fw_ready "$d" || { fail "$d: firmware not ready"; finish; }; done
"$PY" tests/vm/test_device_plugin.py
rc=$?
for d in "${devs[@]}"; do echo "${control0[$d]}" >"$(sysd "$d")/power/control"; done
exit "$rc"

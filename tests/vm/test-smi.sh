#!/usr/bin/env bash
# In-VM test of mtia-smi against the live driver: table, -L, -i, --json
# (parsed, and checked against sysfs), and the exit codes for no device,
# driver not loaded and no permission. Runs inside tools/mtia-vm with cwd =
# repo top. Last line: "N passed, N failed".
set -u
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
SMI=build/bin/mtia-smi
expect_rc() { # want description command...
  local want=$1 what=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$what (exit $rc)"; else fail "$what: exit $rc, want $want: $out"; fi
}
contains() { # haystack needle description
  if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: '$2' not in: $1"; fi
}

bus_ids=${devs[*]}

expect_rc 0 "mtia-smi lists devices" "$SMI"
table=$out
for b in $bus_ids; do contains "$table" "$b" "table shows $b"; done
contains "$table" "Driver Version: 0.1.0" "table shows the driver version"

expect_rc 0 "mtia-smi -L" "$SMI" -L
n=$(grep -c '^MTIA [0-9]*: ' <<<"$out")
[ "$n" -eq "$ndev" ] && pass "-L has $ndev lines" || fail "-L has $n lines, want $ndev"

expect_rc 0 "mtia-smi -i 0" "$SMI" -i 0 -L
[ "$(grep -c '^MTIA ' <<<"$out")" -eq 1 ] && pass "-i 0 selects one device" || fail "-i 0: $out"
expect_rc 2 "mtia-smi -i $ndev (no such device)" "$SMI" -i "$ndev"
contains "$out" "no device with index $ndev" "clear message for a bad index"
expect_rc 1 "mtia-smi --bogus (usage error)" "$SMI" --bogus

expect_rc 0 "mtia-smi -q" "$SMI" -q
for b in $bus_ids; do contains "$out" "MTIA $b" "-q has a section for $b"; done
n=$(grep -c '^    Firmware Version *: ' <<<"$out")
[ "$n" -eq "$ndev" ] && pass "-q shows a firmware version per device" || fail "-q firmware lines: $n"

expect_rc 0 "mtia-smi --json" "$SMI" --json
if /usr/bin/python3 - "$out" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
devs = {d["pci_bus_id"]: d for d in j["devices"]}
ok = True
for bus, d in devs.items():
    with open(f"/sys/bus/pci/devices/{bus}/resource") as f:
        start, end, _ = (int(x, 16) for x in f.readlines()[2].split())
    if d["device_memory_bytes"] != end - start + 1:
        print(f"{bus}: json devmem {d['device_memory_bytes']} != BAR2 {end - start + 1}"); ok = False
    if d["pci"]["vendor_id"] != "0x1d9b" or d["driver_version"] != j["driver_version"]:
        print(f"{bus}: bad pci/driver fields {d}"); ok = False
print("json devices:", sorted(devs))
sys.exit(0 if ok else 1)
PY
then pass "--json parses and agrees with sysfs BAR2 sizes"; else fail "--json disagrees with sysfs"; fi
njson=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))' <<<"$out")
[ "$njson" -eq "$ndev" ] && pass "--json lists $ndev devices" || fail "--json lists $njson, want $ndev"

# No permission: nodes are root-only under devtmpfs; an unprivileged user
# still enumerates through sysfs but cannot open.
chmod 0600 /dev/accel/accel*
expect_rc 4 "unprivileged mtia-smi" setpriv --reuid=65534 --regid=65534 --clear-groups "$SMI"
contains "$out" "Permission denied" "clear permission message"

# Driver not loaded.
rmmod mtia
expect_rc 3 "mtia-smi without the driver" "$SMI"
contains "$out" "driver is not loaded" "clear no-driver message"
insmod "$KO"
for _ in $(seq 50); do [ "$(ls /dev/accel 2>/dev/null | wc -l)" -ge "$ndev" ] && break; sleep 0.1; done
expect_rc 0 "mtia-smi after reloading the driver" "$SMI" -L

finish

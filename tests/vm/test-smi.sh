#!/usr/bin/env bash
# In-VM test of mtia-smi against the live driver: table, -L, -i (index, bus
# id, serial), -q, --json and --query (CSV and JSON, parsed, and checked
# against sysfs), --list-fields, loops, and the exit codes for no device,
# unknown field, driver not loaded and no permission (a user reads
# everything but may not reset). Runs inside tools/mtia-vm with cwd = repo
# top. Last line: "N passed, N failed". Telemetry under load:
# tests/vm/test-telemetry.sh.
set -u
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
SMI=build/bin/mtia-smi
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

bus_ids=${devs[*]}

expect_rc 0 "mtia-smi lists devices" "$SMI"
table=$out
for b in $bus_ids; do contains "$table" "$b" "table shows $b"; done
contains "$table" "Driver Version: 0.1.0" "table shows the driver version"
contains "$table" "Processes:" "table has a process section"
# Each device row shows its temperature, power / limit and clock.
n=$(grep -cE '^\| [0-9]+ +\| MTIA .*\| [0-9]+C +\| [0-9.]+W / [0-9.]+W +\| [0-9]+MiB / [0-9]+MiB +\|.*[0-9]+MHz' <<<"$table")
[ "$n" -eq "$ndev" ] && pass "table rows carry telemetry ($n)" || fail "telemetry rows: $n, want $ndev: $table"

expect_rc 0 "mtia-smi -L" "$SMI" -L
n=$(grep -c '^MTIA [0-9]*: ' <<<"$out")
[ "$n" -eq "$ndev" ] && pass "-L has $ndev lines" || fail "-L has $n lines, want $ndev"

expect_rc 0 "mtia-smi -i 0" "$SMI" -i 0 -L
[ "$(grep -c '^MTIA ' <<<"$out")" -eq 1 ] && pass "-i 0 selects one device" || fail "-i 0: $out"
expect_rc 2 "mtia-smi -i $ndev (no such device)" "$SMI" -i "$ndev"
contains "$out" "no device with index $ndev" "clear message for a bad index"
expect_rc 1 "mtia-smi --bogus (usage error)" "$SMI" --bogus
# -i by bus id (full and short) and by serial pick the same device.
last=${devs[$((ndev - 1))]}
serial=$(sysattr "$last" serial)
for id in "$last" "${last#0000:}" "$serial"; do
  expect_rc 0 "mtia-smi -i $id" "$SMI" -i "$id" --query=pci.bus_id --format=csv,noheader
  [ "$out" = "$last" ] && pass "-i $id selects $last" || fail "-i $id selected: $out"
done
expect_rc 2 "mtia-smi -i with an unknown serial" "$SMI" -i deadbeefdeadbeef
contains "$out" "no device with bus id, serial or UUID 'deadbeefdeadbeef'" "clear message for a bad id"

expect_rc 0 "mtia-smi -q" "$SMI" -q
for b in $bus_ids; do contains "$out" "MTIA $b" "-q has a section for $b"; done
n=$(grep -c '^    Firmware Version *: ' <<<"$out")
[ "$n" -eq "$ndev" ] && pass "-q shows a firmware version per device" || fail "-q firmware lines: $n"
n=$(grep -cE '^        Die +: [0-9]+\.[0-9] C$' <<<"$out")
[ "$n" -eq "$ndev" ] && pass "-q shows a temperature per device" || fail "-q temperature lines: $n"

# --json against sysfs: BAR2 size, memory, serial, hwmon temperature range.
expect_rc 0 "mtia-smi --json" "$SMI" --json
json=$out
if $PY - "$json" <<'PY'
import glob, json, sys
j = json.loads(sys.argv[1])
devs = {d["pci_bus_id"]: d for d in j["devices"]}
ok = True
def sysfs(bus, name):
    with open(f"/sys/bus/pci/devices/{bus}/mtia/{name}") as f:
        return f.read().strip()
for bus, d in devs.items():
    with open(f"/sys/bus/pci/devices/{bus}/resource") as f:
        start, end, _ = (int(x, 16) for x in f.readlines()[2].split())
    if d["device_memory_bytes"] != end - start + 1:
        print(f"{bus}: json devmem {d['device_memory_bytes']} != BAR2 {end - start + 1}"); ok = False
    if d["pci"]["vendor_id"] != "0x1d9b" or d["driver_version"] != j["driver_version"]:
        print(f"{bus}: bad pci/driver fields {d}"); ok = False
    if d["serial"] != sysfs(bus, "serial") or d["memory"]["total_bytes"] != int(sysfs(bus, "mem_total")):
        print(f"{bus}: serial/memory differ from sysfs: {d}"); ok = False
    hw = [h for h in glob.glob(f"/sys/bus/pci/devices/{bus}/hwmon/hwmon*") if open(h + "/name").read().strip() == "mtia"]
    cap = int(open(hw[0] + "/power1_cap").read()) / 1e6
    if d["power_w"]["limit"] != cap or not 20 <= d["temperature_c"]["die"] <= 90:
        print(f"{bus}: power limit {d['power_w']['limit']} vs hwmon {cap}, temperature {d['temperature_c']}"); ok = False
print("json devices:", sorted(devs))
sys.exit(0 if ok else 1)
PY
then pass "--json parses and agrees with sysfs and hwmon"; else fail "--json disagrees with sysfs"; fi
njson=$($PY -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))' <<<"$json")
[ "$njson" -eq "$ndev" ] && pass "--json lists $ndev devices" || fail "--json lists $njson, want $ndev"

# --query: CSV and JSON of the same fields agree with each other and sysfs.
F=index,pci.bus_id,serial,memory.total,power.limit,clocks.max,ecc.errors.corrected,firmware.version
expect_rc 0 "--query csv" "$SMI" --query=$F --format=csv
csv=$out
expect_rc 0 "--query-gpu json" "$SMI" --query-gpu=$F --format=json
qjson=$out
if $PY - "$csv" "$qjson" <<'PY'
import csv, io, json, sys
rows = list(csv.reader(io.StringIO(sys.argv[1]), skipinitialspace=True))
j = json.loads(sys.argv[2])
head, body = rows[0], rows[1:]
assert head == ["index", "pci.bus_id", "serial", "memory.total [MiB]", "power.limit [W]",
                "clocks.max [MHz]", "ecc.errors.corrected", "firmware.version"], head
assert len(body) == len(j), (body, j)
for r, d in zip(body, j):
    bus = d["pci.bus_id"]
    def sysfs(name):
        return open(f"/sys/bus/pci/devices/{bus}/mtia/{name}").read().strip()
    assert int(r[0]) == d["index"] and r[1] == bus and r[2] == d["serial"] == sysfs("serial"), (r, d)
    assert r[3] == f"{d['memory.total']} MiB" and d["memory.total"] == int(sysfs("mem_total")) >> 20, (r, d)
    assert r[4] == f"{d['power.limit']:.2f} W", (r, d)
    assert r[5] == f"{d['clocks.max']} MHz" and d["clocks.max"] == int(sysfs("clock_max_mhz")), (r, d)
    assert int(r[6]) == d["ecc.errors.corrected"] == int(sysfs("ecc_corrected")), (r, d)
    assert r[7] == d["firmware.version"] == sysfs("fw_version"), (r, d)
print(f"{len(body)} devices agree")
PY
then pass "--query CSV, JSON and sysfs agree"; else fail "--query CSV/JSON disagree: $csv $qjson"; fi
expect_rc 0 "--query noheader,nounits" "$SMI" --query=index,memory.total --format=csv,noheader,nounits
grep -qE '^0, [0-9]+$' <<<"$out" && [ "$(wc -l <<<"$out")" -eq "$ndev" ] &&
  pass "noheader,nounits: bare numbers, one line per device" || fail "noheader,nounits: $out"
expect_rc 2 "--query with an unknown field (nvidia-smi's exit code)" "$SMI" --query=index,temperature.bogus
contains "$out" 'Field "temperature.bogus" is not a valid field to query.' "unknown field is named as nvidia-smi does"
expect_rc 5 "--format xml" "$SMI" --query=index --format=xml
expect_rc 0 "--list-fields" "$SMI" --list-fields
contains "$out" "utilization.dma" "--list-fields lists utilization.dma"
# A loop stops after --count refreshes.
expect_rc 0 "-l 0.2 --count 3" "$SMI" --query=index --format=csv,noheader -i 0 -l 0.2 --count 3
[ "$out" = $'0\n0\n0' ] && pass "-l printed 3 samples" || fail "-l printed: $out"

# lm-sensors sees each device.
expect_rc 0 "sensors" sensors
n=$(grep -c '^mtia-pci-' <<<"$out")
[ "$n" -eq "$ndev" ] && pass "sensors lists $ndev mtia chips" || fail "sensors lists $n: $out"
contains "$out" "die:" "sensors shows the die temperature"

# A user who cannot open the nodes still reads everything (from sysfs)...
chmod 0600 /dev/accel/accel*
expect_rc 0 "unprivileged mtia-smi" "${NOBODY[@]}" "$SMI"
for b in $bus_ids; do contains "$out" "$b" "unprivileged table shows $b"; done
contains "$out" "Only your own processes are shown" "unprivileged view says processes are its own"
expect_rc 0 "unprivileged --json" "${NOBODY[@]}" "$SMI" --json
strip() { $PY -c 'import json,sys; j=json.load(sys.stdin); [d.pop(k) for d in j["devices"] for k in ("temperature_c","power_w","energy_j","utilization_percent","clocks_mhz","throttle_reasons")]; j.pop("processes"); print(json.dumps(j, sort_keys=True))'; }
[ "$(strip <<<"$out")" = "$(strip <<<"$json")" ] && pass "unprivileged --json has root's identity and memory" ||
  fail "unprivileged --json differs: $out"
# ...but may not reset.
resets=$(sysattr "${devs[0]}" reset_count)
expect_rc 4 "unprivileged --reset" "${NOBODY[@]}" "$SMI" --reset -i 0
contains "$out" "permission denied: resetting a device needs root" "clear permission message"
[ "$(sysattr "${devs[0]}" reset_count)" = "$resets" ] && pass "refused reset did not reset" || fail "reset count moved"
if [ "$ndev" -gt 1 ]; then
  expect_rc 1 "--reset without -i on $ndev devices" "$SMI" --reset
  contains "$out" "choose it with -i" "reset asks which device"
fi

# Driver not loaded.
rmmod mtia
expect_rc 3 "mtia-smi without the driver" "$SMI"
contains "$out" "driver is not loaded" "clear no-driver message"
insmod "$KO"
wait_for 50 accel_is "$ndev"
expect_rc 0 "mtia-smi after reloading the driver" "$SMI" -L

finish

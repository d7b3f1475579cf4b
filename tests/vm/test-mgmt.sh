#!/usr/bin/env bash
# In-VM test of libmtia's management API (include/mtia/mtia_mgmt.h) and of
# mtia-smi's nvidia-smi parity: every API call on the real devices as root
# and as nobody (build/bin/mgmt_vm_tests), then mtia-smi's nvidia-smi views
# and flags: --query-gpu with nvidia-smi's field names, unknown fields,
# --help-query-gpu, -q -x validated against the DTD, --query-compute-apps
# while a process holds device memory, -f, -l/-lms, -pl as root and as a
# user, dmon and pmon, -i by UUID; last, nvidia-smi one-liners with only
# the program name changed (tests/vm/nvsmi-oneliners.sh). Runs inside
# tools/mtia-vm with cwd = repo top. Last line: "N passed, N failed".
set -u
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
need_device
PATH=$PWD/build/bin:$PATH
SMI=build/bin/mtia-smi
DTD=tools/mtia-smi/mtia_smi_log.dtd
export MTIA_DIRECT_QUEUES=0  # the holder's engine time is the kernel's accounting of the jobs it ran
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
tmp=$(mktemp -d)
chmod 755 "$tmp"
holder=
on_finish() {
  touch "$tmp/stop"
  [ -n "$holder" ] && wait "$holder"
  rm -rf "$tmp"
}
dev=${devs[0]}
hw=
for h in "$(sysd "$dev")"/hwmon/hwmon*; do [ "$(cat "$h/name")" = mtia ] && hw=$h; done

# ---- the API, every call, as root and as a user ----------------------------
run_gtest build/bin/mgmt_vm_tests
printf '#!/bin/sh\nexec %s %s "$@"\n' "${NOBODY[*]}" "$PWD/build/bin/mgmt_vm_tests" >"$tmp/as-nobody"
chmod 755 "$tmp/as-nobody"
run_gtest "$tmp/as-nobody"

# ---- mtia-smi: nvidia-smi's fields ----------------------------------------
expect_rc 0 "-L" "$SMI" -L
[ "$(grep -cE '^MTIA [0-9]+: .*UUID: MTIA-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$' <<<"$out")" -eq "$ndev" ] &&
  pass "-L shows each device's UUID" || fail "-L: $out"
F=timestamp,index,name,uuid,serial,count,pci.bus_id,pci.domain,pci.bus,pci.device,pci.device_id
F=$F,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max,driver_version
F=$F,vbios_version,temperature.gpu,utilization.gpu,utilization.memory,memory.total,memory.used,memory.free
F=$F,power.draw,power.draw.average,power.limit,enforced.power.limit,power.min_limit,power.max_limit
F=$F,clocks.current.graphics,clocks.current.sm,clocks.current.memory,clocks.max.graphics,clocks.max.sm
F=$F,clocks.max.memory,clocks_throttle_reasons.active,clocks_throttle_reasons.hw_slowdown
F=$F,clocks_throttle_reasons.sw_power_cap,clocks_throttle_reasons.hw_thermal_slowdown
F=$F,ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total
F=$F,ecc.errors.corrected.aggregate.total,ecc.errors.uncorrected.aggregate.total,pstate,reset.count
expect_rc 0 "--query-gpu with nvidia-smi's names" "$SMI" -i "$dev" --query-gpu=$F --format=csv
if $PY - "$out" "$dev" "$ndev" <<'PY'
import csv, io, re, sys
rows = list(csv.reader(io.StringIO(sys.argv[1]), skipinitialspace=True))
head, vals = rows[0], dict(zip([h.split(" [")[0] for h in rows[0]], rows[1]))
bus, ndev = sys.argv[2], sys.argv[3]
sysfs = lambda n: open(f"/sys/bus/pci/devices/{bus}/mtia/{n}").read().strip()
want = {
    "pci.bus_id": bus, "count": ndev, "serial": sysfs("serial"), "vbios_version": sysfs("fw_version"),
    "pci.device_id": "0x0A011D9B", "pci.domain": "0x" + bus[:4].upper(), "name": "MTIA v1 (emulated)",
    "enforced.power.limit": vals["power.limit"], "clocks.current.sm": vals["clocks.current.graphics"],
    "clocks.max.memory": vals["clocks.max.graphics"], "reset.count": sysfs("reset_count"),
    "ecc.errors.corrected.volatile.total": sysfs("ecc_corrected"),
    "ecc.errors.uncorrected.aggregate.total": sysfs("ecc_uncorrected_aggregate"),
}
bad = {k: (vals[k], v) for k, v in want.items() if vals[k] != v}
pats = {"timestamp": r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}", "temperature.gpu": r"\d+", "utilization.gpu": r"\d+ %",
        "memory.used": r"\d+ MiB", "power.draw": r"\d+\.\d\d W", "clocks.max.sm": r"\d+ MHz", "pstate": r"P[01]",
        "clocks_throttle_reasons.active": r"0x[0-9A-F]{16}", "clocks_throttle_reasons.sw_power_cap": r"(Not )?Active",
        "uuid": r"MTIA-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "pcie.link.gen.current": r"\d"}
bad.update({k: vals[k] for k, p in pats.items() if not re.fullmatch(p, vals[k])})
na = [k for k, v in vals.items() if v == "[N/A]"]
print("header:", ", ".join(head))
if bad or na or len(rows) != 2:
    print("bad:", bad, "N/A:", na, "rows:", len(rows)); sys.exit(1)
PY
then pass "every nvidia-smi field has a value in nvidia-smi's format, agreeing with sysfs"
else fail "nvidia-smi fields: $out"; fi
expect_rc 2 "an unknown field: nvidia-smi's exit code" "$SMI" --query-gpu=index,fan.speedy --format=csv
contains "$out" 'Field "fan.speedy" is not a valid field to query.' "an unknown field: nvidia-smi's message"
expect_rc 2 "an unknown compute-apps field" "$SMI" --query-compute-apps=pid,bogus --format=csv
expect_rc 0 "--help-query-gpu" "$SMI" --help-query-gpu
contains "$out" '"clocks_throttle_reasons.active"' "--help-query-gpu lists clocks_throttle_reasons.active"
contains "$out" '"used_memory"' "--help-query-gpu lists the compute-apps fields"

# ---- XML ----------------------------------------------------------------------
# The document names its DTD as nvidia-smi's does, by file name: next to it,
# xmllint --valid finds it; --dtdvalid names it.
cp "$DTD" "$tmp/"
for args in "-q -x" "-x" "-q -x -i 0"; do
  # shellcheck disable=SC2086  # the flags split on purpose
  "$SMI" $args >"$tmp/log.xml" 2>"$tmp/err"
  rc=$?
  v=$(xmllint --noout --valid "$tmp/log.xml" 2>&1 && xmllint --noout --dtdvalid "$DTD" "$tmp/log.xml" 2>&1)
  [ "$rc" -eq 0 ] && [ -z "$v" ] && pass "mtia-smi $args: valid against $DTD" || fail "mtia-smi $args: exit $rc, $v $(cat "$tmp/err")"
done
sed 's/<product_name>/<productname>/; s#</product_name>#</productname>#' "$tmp/log.xml" >"$tmp/bad.xml"
xmllint --noout --valid "$tmp/bad.xml" 2>/dev/null && fail "the DTD accepted a renamed element" ||
  pass "the DTD refuses a renamed element"
n=$(grep -c '<gpu id=' "$tmp/log.xml")
[ "$n" -eq 1 ] && pass "-q -x -i 0: one <gpu>" || fail "-q -x -i 0: $n <gpu> elements"

# ---- -f, -l, -lms ---------------------------------------------------------
expect_rc 0 "-f FILE" "$SMI" --query-gpu=index,uuid --format=csv,noheader -f "$tmp/out.csv"
[ -z "$out" ] && [ "$(wc -l <"$tmp/out.csv")" -eq "$ndev" ] && pass "-f: the output went to the file" ||
  fail "-f: stdout '$out', file $(cat "$tmp/out.csv")"
expect_rc 0 "-l 0.2 --count 2" timeout 60 "$SMI" --query-gpu=index,power.draw --format=csv -l 0.2 --count 2
[ "$(grep -c '^index, power.draw \[W\]$' <<<"$out")" -eq 1 ] && [ "$(wc -l <<<"$out")" -eq $((1 + 2 * ndev)) ] &&
  pass "-l: the header once, a line per device per sample" || fail "-l: $out"
expect_rc 0 "-lms 100 --count 3" timeout 60 "$SMI" --query-gpu=index --format=csv,noheader -lms 100 --count 3 -i 0
[ "$out" = $'0\n0\n0' ] && pass "-lms: 3 samples" || fail "-lms: $out"

# ---- -pl -----------------------------------------------------------------------
cap=$(cat "$hw/power1_cap")
min_w=$(awk -v u="$(cat "$hw/power1_cap_min")" 'BEGIN { printf "%.2f", u / 1e6 }')
max_w=$(awk -v u="$(cat "$hw/power1_cap_max")" 'BEGIN { printf "%.2f", u / 1e6 }')
expect_rc 4 "-pl as a user: no permission" "${NOBODY[@]}" "$SMI" -i "$dev" -pl 10
contains "$out" "The current user does not have permission to change power management limit for GPU $dev." \
  "-pl as a user: nvidia-smi's message"
[ "$(cat "$hw/power1_cap")" = "$cap" ] && pass "-pl as a user changed nothing" || fail "-pl as a user changed the cap"
expect_rc 2 "-pl out of range" "$SMI" -i "$dev" -pl 1000
contains "$out" "Provided power limit 1000.00 W is not a valid power limit which should be between $min_w W and $max_w W for GPU $dev" \
  "-pl out of range: nvidia-smi's message"
expect_rc 0 "-pl 12.5 as root" "$SMI" -i "$dev" -pl 12.5
old_w=$(awk -v u="$cap" 'BEGIN { printf "%.2f", u / 1e6 }')
contains "$out" "Power limit for GPU $dev was set to 12.50 W from $old_w W." "-pl: nvidia-smi's message"
contains "$out" "All done." "-pl: All done."
[ "$(cat "$hw/power1_cap")" = 12500000 ] && pass "-pl wrote power1_cap" || fail "power1_cap: $(cat "$hw/power1_cap")"
[ "$("$SMI" -i "$dev" --query-gpu=enforced.power.limit --format=csv,noheader)" = "12.50 W" ] &&
  pass "enforced.power.limit shows the new limit" || fail "enforced.power.limit after -pl"
echo "$cap" >"$hw/power1_cap"

# ---- a process holding device memory: compute apps, pmon ---------------------
dev_idx=$("$SMI" -i "$dev" --query-gpu=index --format=csv,noheader)
# The holder: 16 MiB of device memory, copied into from the host one job at a
# time until told to stop (so it ends at once, unlike a killed benchmark with
# its queue of copies to drain).
PYTHONPATH=build/python $PY - "$dev_idx" "$tmp/stop" <<'PY' 2>"$tmp/holder.err" &
import os, sys, mtia
d = mtia.Device(int(sys.argv[1]))
src = mtia.Buffer(d, 16 << 20, mtia.Placement.HOST)
dst = mtia.Buffer(d, 16 << 20)
s = mtia.Stream(d)
while not os.path.exists(sys.argv[2]):
    s.copy(dst, 0, src, 0, 16 << 20)
    s.synchronize()
PY
holder=$!
expect_rc 0 "dmon -s pucme -c 1" timeout 60 "$SMI" dmon -s pucme -c 1
[ "$(head -n1 <<<"$out")" = "# gpu   pwr gtemp mtemp    sm   mem   enc   dec  mclk  pclk    fb  bar1 sbecc dbecc   pci" ] &&
  [ "$(grep -cvE '^#' <<<"$out")" -eq "$ndev" ] && pass "dmon -s pucme: every group's columns" || fail "dmon -s pucme: $out"
expect_rc 5 "dmon -s with an unknown group" "$SMI" dmon -s z -c 1
# The one-liners' compute-apps checks wait for the holder to have its buffers.
# shellcheck source=tests/vm/nvsmi-oneliners.sh
. tests/vm/nvsmi-oneliners.sh
expect_rc 0 "pmon -c 2 -d 1" timeout 60 "$SMI" pmon -c 2 -d 1 -i "$dev"
[ "$(head -n1 <<<"$out")" = "# gpu        pid  type    sm   mem   enc   dec   command" ] &&
  [ "$(grep -cE "^ +$dev_idx +$holder +C +[-0-9]+ +[-0-9]+ +- +- +python3$" <<<"$out")" -eq 2 ] &&
  pass "pmon: nvidia-smi's header, the holder in both samples" || fail "pmon: $out"
# The holder's busy data engine shows in the second sample's mem column.
busy=$(grep -E "^ +$dev_idx +$holder " <<<"$out" | tail -n1 | awk '{ print $5 }')
[[ $busy =~ ^[0-9]+$ ]] && [ "$busy" -gt 0 ] && pass "pmon: the holder keeps the data engine ${busy}% busy" ||
  fail "pmon mem column: '$busy' in $out"
expect_rc 0 "--query-compute-apps as nobody" "${NOBODY[@]}" "$SMI" --query-compute-apps=pid --format=csv,noheader
[ -z "$out" ] && pass "a user sees no other user's processes" || fail "nobody saw: $out"
finish

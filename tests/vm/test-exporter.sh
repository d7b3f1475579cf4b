#!/usr/bin/env bash
# In-VM tests of mtia-exporter (docs/telemetry.md "mtia-exporter"):
# - it serves /metrics on a port it picked (--listen 127.0.0.1:0), as a
#   user without access to the device nodes too;
# - promtool (Debian's prometheus) accepts the exposition with no remark;
# - one series per device, whose values agree with mtia-smi's
#   (--query-gpu uuid, memory.total, enforced.power.limit, clocks.max.sm);
# - with --processes, a process holding device memory appears with its pid;
# - SIGTERM stops it with exit 0; dmesg stays clean.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

need_device
EXP=build/bin/mtia-exporter
SMI=build/bin/mtia-smi
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up 2>/dev/null

# start_exporter NAME [ARGS...]: runs the exporter (as given: a prefix like
# setpriv may come first), sets url_NAME from the address it prints.
start_exporter() {
  local name=$1 port
  shift
  "$@" --listen 127.0.0.1:0 >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  eval "pid_$name=$!"
  wait_for 50 grep -q 'serving http://' "$tmp/$name.out"
  port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics|\1|p' "$tmp/$name.out")
  eval "url_$name=http://127.0.0.1:$port/metrics"
}

start_exporter root "$EXP"
check "it serves on the port it printed" curl -sf -o "$tmp/m1" "$url_root"
check "promtool accepts it with no remark" bash -c "promtool check metrics <'$tmp/m1' >'$tmp/lint' 2>&1 && [ ! -s '$tmp/lint' ]"
[ -s "$tmp/lint" ] && cat "$tmp/lint"
check "one temperature series per device" \
  bash -c "[ \$(grep -c '^mtia_temperature_celsius{' '$tmp/m1') -eq $ndev ]"
check "devices read, no scrape error" grep -qx "mtia_exporter_devices $ndev" "$tmp/m1"
check "content type is the text exposition's" \
  bash -c "curl -sfI '$url_root' | grep -qi '^content-type: text/plain; version=0.0.4'"

# The same values as mtia-smi's, device by device.
"$SMI" --query-gpu=index,uuid,memory.total,enforced.power.limit,clocks.max.sm --format=csv,noheader,nounits >"$tmp/smi"
check "the values agree with mtia-smi's" "$PY" - "$tmp/m1" "$tmp/smi" <<'PYEOF'
import re, sys
series = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\w+)\{([^}]*)\} (\S+)$', line.strip())
    if m:
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        series[(m.group(1), labels["device"])] = (labels, float(m.group(3)))
bad = 0
for row in open(sys.argv[2]):
    idx, uuid, mem_mib, limit_w, clk_mhz = [f.strip() for f in row.split(",")]
    labels, total = series[("mtia_memory_total_bytes", idx)]
    checks = [("uuid", labels["uuid"], uuid),
              ("memory.total MiB", round(total / 2**20), round(float(mem_mib))),
              ("power limit W", round(series[("mtia_power_limit_watts", idx)][1], 2), round(float(limit_w), 2)),
              ("max clock MHz", round(series[("mtia_clock_max_hertz", idx)][1] / 1e6), round(float(clk_mhz)))]
    for what, got, want in checks:
        if got != want:
            print(f"device {idx} {what}: exporter {got}, mtia-smi {want}")
            bad += 1
sys.exit(bad != 0)
PYEOF

# As a user with no access to /dev/accel: sysfs is enough.
start_exporter nobody setpriv --reuid=65534 --regid=65534 --clear-groups -- "$EXP"
check "as nobody it serves every device" \
  bash -c "curl -sf '$url_nobody' | grep -qx 'mtia_exporter_devices $ndev'"

# --processes: a process holding device memory shows up.
start_exporter procs "$EXP" --processes
mkfifo "$tmp/hold"
env PYTHONPATH=build/python "$PY" -c '
import mtia, sys
b = mtia.Buffer(mtia.Device(0), 8 << 20, mtia.Placement.DEVICE)
open(sys.argv[1]).read()' "$tmp/hold" >"$tmp/holder.out" 2>&1 &
holder=$!
pids+=($holder)
check "a process holding device memory appears with its pid" \
  wait_for 100 bash -c "curl -sf '$url_procs' | grep -q '^mtia_process_memory_bytes{.*pid=\"$holder\"'"

echo >"$tmp/hold"  # the holder's read returns: it exits
kill -TERM "$pid_root"
wait "$pid_root"
rc=$?
check "SIGTERM: exit 0 (got $rc)" [ "$rc" -eq 0 ]
finish

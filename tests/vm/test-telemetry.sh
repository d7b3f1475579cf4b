#!/usr/bin/env bash
# In-VM test of telemetry under a real workload (docs/telemetry.md): with
# copy jobs running, mtia-smi shows data-engine utilisation, rising
# temperature and power, the workload's processes with their memory and
# engine time (as their fdinfo has them); a low power limit throttles the
# clock and holds power under it (root only; out-of-range refused); a reset
# through mtia-smi in the middle does not fail the workload; afterwards
# utilisation, power and temperature fall back; a model's inferences load
# the PE grid (needs tests/vm/test-models.sh --prepare, as test-models.sh
# does), also when they run on direct queues, whose engine time the device
# counts into fdinfo, mtia-smi --json, --query-compute-apps and pmon; energy
# integrates power; injected ECC errors are counted, volatile and aggregate
# (lifetime), and mtia-smi -p 0|1 clears either (root only). The aggregate
# counts across power cycles are tests/vm/test-inforom.sh's. Runs inside
# tools/mtia-vm with cwd = repo top. Last line: "N passed, N failed".
set -u
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
# MTIA_SMI / MTIA_RUN: other binaries to test (default: this tree's).
SMI=${MTIA_SMI:-build/bin/mtia-smi}
RUN=${MTIA_RUN:-build/bin/mtia-run}
# The workloads use the ioctl path (so that they run as many processes as
# they like: direct queues are few), except the one that shows the device's
# accounting of direct-queue work in fdinfo.
export MTIA_DIRECT_QUEUES=0
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
dev=${devs[0]}
hw=
for h in "$(sysd "$dev")"/hwmon/hwmon*; do [ "$(cat "$h/name")" = mtia ] && hw=$h; done
[ -n "$hw" ] && pass "$dev has an mtia hwmon ($hw)" || fail "$dev has no mtia hwmon"

q() { "$SMI" -i "$dev" --query="$1" --format=csv,noheader,nounits; }
idx=$(q index)  # mtia-run's --device
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
le() { ! gt "$1" "$2"; }
util_is_zero() { [ "$(q utilization.dma)" = 0 ]; }
tmp=$(mktemp -d)
on_finish() {
  touch "$tmp/stop"
  wait
  [ -n "$hw" ] && echo 25000000 >"$hw/power1_cap"
  rm -rf "$tmp"
}

# ---- idle ------------------------------------------------------------------
wait_for 50 util_is_zero
sleep 1.5  # a whole window without work
idle_p=$(q power.draw.average)
idle_t=$(q temperature.die)
gt "$idle_p" 2.9 && le "$idle_p" 3.2 && pass "idle power ${idle_p} W" || fail "idle power ${idle_p} W (want ~3)"
[ "$(q clocks.current)" = 800 ] && [ "$(q throttle_reasons)" = none ] &&
  pass "idle clock 800 MHz, not throttled" || fail "idle clock: $(q clocks.current,throttle_reasons)"
e1=$(q energy.consumption); s1=$(cut -d' ' -f1 /proc/uptime)
sleep 3
e2=$(q energy.consumption); s2=$(cut -d' ' -f1 /proc/uptime)
# 3 W for the time between the two reads, within the reads' own latency.
awk -v e="$e1" -v f="$e2" -v a="$s1" -v b="$s2" -v p="$idle_p" \
  'BEGIN { d = f - e; w = p * (b - a); exit !(d > 0 && d > 0.7 * w && d < 1.3 * w) }' &&
  pass "energy grows by idle power x time ($e1 -> $e2 J in $(awk -v a="$s1" -v b="$s2" 'BEGIN{print b-a}') s)" ||
  fail "energy $e1 -> $e2 J over $s1..$s2 s at $idle_p W"

# ---- under load --------------------------------------------------------------
# Two processes copying 48 MiB device <-> host in a loop until told to stop
# (2 x 2 x 48 MiB of device memory fits the 256 MiB device of make test, also
# while a process restarted after the reset overlaps its predecessor). Each
# process copies for seconds, so that the device, not process start-up in a
# slow guest, fills the time, and a sample sees the same process twice.
load() {
  while [ ! -e "$tmp/stop" ]; do
    "$RUN" --bench copy --device "$idx" --size 48M --iters 400 --nop-iters 10 >/dev/null 2>"$tmp/err.$1" ||
      { echo "load $1 failed: $(cat "$tmp/err.$1")" >"$tmp/failed.$1"; return 1; }
  done
}
for i in 1 2; do load "$i" & done

# Sample once a second until every effect showed. Each sample reads the
# workload's fdinfo, runs mtia-smi --json, and reads the fdinfo again: what
# mtia-smi reports for a process must lie between the two readings.
cat >"$tmp/sample.py" <<'PY'
import json, os, subprocess, sys
smi, dev = sys.argv[1], sys.argv[2]
def fdinfo_of(pid):
    out = {}
    try:
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/dev/accel/"):
                for line in open(f"/proc/{pid}/fdinfo/{fd}"):
                    k, _, v = line.partition(":")
                    out[k] = v.strip()
    except OSError:
        return {}  # exiting or gone
    return out
def runs():
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    out = {}
    for p in pids:
        try:
            if open(f"/proc/{p}/comm").read().strip() == "mtia-run":
                out[int(p)] = fdinfo_of(p)
        except OSError:
            pass
    return out
def size(v):
    n, _, u = v.partition(" ")
    return int(n) * {"MiB": 1 << 20, "KiB": 1 << 10}.get(u, 1)
before = runs()
j = json.loads(subprocess.run([smi, "--json"], check=True, capture_output=True, text=True).stdout)
after = runs()
d = [d for d in j["devices"] if d["pci_bus_id"] == dev][0]
print(d["utilization_percent"]["dma"], d["temperature_c"]["die"], d["power_w"]["average"])
busy = False
for p in j["processes"]:
    if p["name"] != "mtia-run" or p["pci_bus_id"] != dev:
        continue
    b, a = before.get(p["pid"], {}), after.get(p["pid"], {})
    if "drm-total-device" not in b or "drm-total-device" not in a:
        continue  # started or exited meanwhile
    mem = p["device_memory_bytes"]
    assert mem in (size(b["drm-total-device"]), size(a["drm-total-device"])), (p, b, a)
    # Device BOs: the copy bench's two 48 MiB buffers, once it made them.
    assert mem in (0, 96 << 20), p
    print(f"PROC pid {p['pid']}: device {mem >> 20} MiB, dma busy {p['dma_busy_ns']} ns")
    if "drm-engine-dma" in a:
        lo, hi = (int(x["drm-engine-dma"].split()[0]) for x in (b, a))
        assert p["dma_busy_ns"] is not None and lo <= p["dma_busy_ns"] <= hi, (p, b, a)
        busy |= mem > 0 and p["dma_busy_ns"] > 0
if busy:
    print("BUSY")
PY
peak_u=0 peak_t=$idle_t peak_p=$idle_p seen_proc=0 seen_busy=0
deadline=$((SECONDS + 180))  # far beyond a slow, loaded host's need
while [ "$SECONDS" -lt "$deadline" ]; do
  sleep 1
  $PY "$tmp/sample.py" "$SMI" "$dev" >"$tmp/sample.out" 2>&1
  if grep -q Error "$tmp/sample.out"; then
    cp "$tmp/sample.out" "$tmp/proc.out"
    seen_proc=0
    break
  fi
  read -r u t p <"$tmp/sample.out"
  gt "$u" "$peak_u" && peak_u=$u
  gt "$t" "$peak_t" && peak_t=$t
  gt "$p" "$peak_p" && peak_p=$p
  grep -q '^PROC' "$tmp/sample.out" && seen_proc=1 && cp "$tmp/sample.out" "$tmp/proc.out"
  grep -q '^BUSY' "$tmp/sample.out" && seen_busy=1
  if [ "$seen_busy" = 1 ] && gt "$peak_u" 30 && gt "$peak_t" "$(awk -v t="$idle_t" 'BEGIN{print t+2}')" &&
     gt "$peak_p" "$(awk -v p="$idle_p" 'BEGIN{print p+1.5}')"; then
    break
  fi
done
touch "$tmp/proc.out"
cat "$tmp/proc.out"
gt "$peak_u" 30 && pass "data engine busy under load (peak ${peak_u} %)" || fail "data engine peak ${peak_u} %"
gt "$peak_t" "$(awk -v t="$idle_t" 'BEGIN{print t+2}')" && pass "temperature rose ${idle_t} -> ${peak_t} C" ||
  fail "temperature ${idle_t} -> ${peak_t} C"
gt "$peak_p" "$(awk -v p="$idle_p" 'BEGIN{print p+1.5}')" && pass "power rose ${idle_p} -> ${peak_p} W" ||
  fail "power ${idle_p} -> ${peak_p} W"
[ "$seen_proc" = 1 ] && pass "mtia-smi lists the workload with its fdinfo memory" || fail "process list: $(cat "$tmp/proc.out")"
[ "$seen_busy" = 1 ] && pass "a workload process with device memory shows DMA engine time (drm-engine-dma)" ||
  fail "no workload process with DMA engine time: $(cat "$tmp/proc.out")"
table_has_run() { out=$("$SMI" -i "$dev"); grep -qE "^\| $idx +\| [0-9]+ +\| mtia-run +\| 96 MiB" <<<"$out"; }
wait_for 100 table_has_run && pass "the process table shows mtia-run with 96 MiB" || fail "process table: $out"
# sensors names the chip after bus and devfn: mtia-pci-0018 for 00:03.0.
IFS=':.' read -r _ bus slot fn <<<"$dev"
chip=$(printf 'mtia-pci-%02x%02x' $((16#$bus)) $((16#$slot * 8 + fn)))
sensors_busy() {
  out=$(sensors "$chip")
  board=$(sed -n 's/^board: .*avg = *\([0-9.]*\) W.*/\1/p' <<<"$out")
  gt "${board:-0}" "$(awk -v p="$idle_p" 'BEGIN{print p+0.5}')"
}
wait_for 30 sensors_busy && pass "sensors shows $chip averaging ${board} W" || fail "sensors $chip: $out"

# ---- power limit ---------------------------------------------------------------
cap=$(cat "$hw/power1_cap")
"${NOBODY[@]}" sh -c "echo 10000000 > $hw/power1_cap" 2>/dev/null
[ $? -ne 0 ] && [ "$(cat "$hw/power1_cap")" = "$cap" ] && pass "a user cannot set power1_cap" ||
  fail "user changed power1_cap to $(cat "$hw/power1_cap")"
(echo 1000000 >"$hw/power1_cap") 2>/dev/null
[ $? -ne 0 ] && [ "$(cat "$hw/power1_cap")" = "$cap" ] && pass "power1_cap below power1_cap_min is refused" ||
  fail "power1_cap took 1 W: $(cat "$hw/power1_cap")"
echo "$(cat "$hw/power1_cap_min")" >"$hw/power1_cap"
[ "$(q power.limit)" = 6.00 ] && pass "power limit set to 6 W" || fail "power limit: $(q power.limit)"
throttled=0 over=0
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
  IFS=', ' read -r p c r <<<"$(q power.draw,clocks.current,throttle_reasons)"
  gt "$p" 6.0 && over=$((over + 1))
  if [ "$r" = power ] && [ "$c" -lt 800 ]; then throttled=1; break; fi
  sleep 0.3
done
[ "$throttled" = 1 ] && pass "under load at 6 W the clock throttles for power (${c} MHz, ${p} W)" ||
  fail "no power throttling at 6 W: $p W, $c MHz, reasons $r"
[ "$over" = 0 ] && pass "power stayed within the 6 W limit" || fail "power above the limit in $over samples"
echo 25000000 >"$hw/power1_cap"
full_clock() { [ "$(q clocks.current)" = 800 ]; }
wait_for 100 full_clock && pass "limit back at 25 W: full clock" || fail "clock at 25 W: $(q clocks.current)"

# ---- reset in the middle of the workload ---------------------------------------
resets=$(sysattr "$dev" reset_count)
out=$("$SMI" --reset -i "$dev" 2>&1)
[ $? -eq 0 ] && pass "mtia-smi --reset: $out" || fail "mtia-smi --reset: $out"
[ "$(sysattr "$dev" reset_count)" -eq $((resets + 1)) ] && [ "$(sysattr "$dev" fw_status)" = ready ] &&
  pass "reset counted, firmware ready" || fail "after reset: count $(sysattr "$dev" reset_count), fw $(sysattr "$dev" fw_status)"
sleep 3  # the workload keeps going

# ---- after the load --------------------------------------------------------------
touch "$tmp/stop"
wait
if ls "$tmp"/failed.* >/dev/null 2>&1; then fail "workload failed: $(cat "$tmp"/failed.*)"; else
  pass "the workload survived the reset (every copy job succeeded)"; fi
wait_for 30 util_is_zero && pass "utilisation back to 0 after the load" || fail "utilisation $(q utilization.dma)"
cool() { le "$(q temperature.die)" "$(awk -v t="$idle_t" 'BEGIN{print t+0.5}')"; }
wait_for 250 cool && pass "temperature back to idle ($(q temperature.die) C, peak $peak_t)" ||
  fail "temperature $(q temperature.die) C, idle $idle_t"
p=$(q power.draw.average)
le "$p" "$(awk -v p="$idle_p" 'BEGIN{print p+0.1}')" && pass "power back to idle ($p W)" || fail "power $p W"
"$RUN" --bench copy --device "$idx" --size 1M --iters 2 --nop-iters 10 >/dev/null &&
  pass "a copy job succeeds after the reset" || fail "copy after reset failed"

# ---- the PE grid: a model's inferences (COMPUTE jobs) ---------------------------
MODEL=${MTIA_MODEL_DIR:-build/models}/resnet18.mtia
if [ ! -f "$MODEL" ]; then
  fail "no $MODEL (make it on the host: tests/vm/test-models.sh --prepare)"
else
  # Inferences until the sampler has seen the grid loaded (or a deadline
  # far beyond a slow host's need): a fixed count may end within one 1 s
  # utilisation window on a fast host. Two processes, so that one's
  # host-side work between its inferences (TCG guest) leaves the grid to
  # the other rather than idle. SIGINT ends mtia-run's benchmark with its
  # summary and status 0.
  "$RUN" "$MODEL" --bench 1000000 -i "$idx" >"$tmp/model.out" 2>&1 &
  model=$!
  "$RUN" "$MODEL" --bench 1000000 -i "$idx" >"$tmp/model2.out" 2>&1 &
  model2=$!
  pe_u=0 pe_p=0 pe_t=0 pe_ns=
  deadline=$((SECONDS + 180))
  while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$model" 2>/dev/null; do
    sleep 1
    "$SMI" --json >"$tmp/smi.json" || continue
    $PY - "$tmp/smi.json" "$dev" "$model" >"$tmp/pe.out" <<'PY' || continue
import json, sys
j = json.load(open(sys.argv[1]))
d = [d for d in j["devices"] if d["pci_bus_id"] == sys.argv[2]][0]
ns = [p["compute_busy_ns"] for p in j["processes"] if p["pid"] == int(sys.argv[3])]
print(d["utilization_percent"]["pe"], d["power_w"]["average"], d["temperature_c"]["die"], (ns or [None])[0])
PY
    read -r u p t ns <"$tmp/pe.out"
    gt "$u" "$pe_u" && pe_u=$u
    gt "$p" "$pe_p" && pe_p=$p
    gt "$t" "$pe_t" && pe_t=$t
    [ "$ns" != None ] && gt "$ns" 0 && pe_ns=$ns
    gt "$pe_u" 50 && gt "$pe_p" 12 && [ -n "$pe_ns" ] && break
  done
  kill -INT "$model" "$model2" 2>/dev/null
  wait "$model2" || fail "second model run: $(cat "$tmp/model2.out")"
  wait "$model" && grep -q 'inferences: latency' "$tmp/model.out" &&
    pass "resnet18 ran on the PE grid until observed ($(grep -o 'interrupted after [0-9]* of [0-9]*' "$tmp/model.out" || echo 'not interrupted'))" ||
    fail "model run: $(cat "$tmp/model.out")"
  gt "$pe_u" 50 && pass "PE grid busy under inference (peak ${pe_u} %)" || fail "PE peak ${pe_u} %"
  gt "$pe_p" 12 && pass "compute draws more than copies (peak ${pe_p} W, ${pe_t} C)" ||
    fail "power under inference ${pe_p} W"
  [ -n "$pe_ns" ] && pass "the model's process shows PE engine time (drm-engine-compute: $pe_ns ns)" ||
    fail "no drm-engine-compute time for the model's process"
  pe_idle() { [ "$(q utilization.pe)" = 0 ]; }
  wait_for 30 pe_idle && pass "PE grid idle after the model" || fail "PE utilisation $(q utilization.pe)"
fi

# ---- direct queues: the device counts their work ---------------------------------
# libmtia submits through direct queues on a device with the MMU (its
# default): the kernel runs none of those jobs, the device counts each
# hardware queue's engine time (MTIA_Q_BUSY_*) and the driver adds the
# file's queues' share to its fdinfo (drm-engine-*, and that part alone in
# mtia-direct-engine-*), which mtia-smi reads.
pe_ns_of() {  # pid: "drm-engine-compute mtia-direct-engine-compute" (ns) of one read of its accel fdinfo
  local fd
  for fd in /proc/"$1"/fd/*; do
    case $(readlink "$fd" 2>/dev/null) in /dev/accel/*) ;; *) continue ;; esac
    awk '$1 == "drm-engine-compute:" { a = $2 } $1 == "mtia-direct-engine-compute:" { d = $2 }
      END { if (a == "") exit 1; print a, (d == "" ? 0 : d) }' "/proc/$1/fdinfo/${fd##*/}" && return
  done
  echo 0 0
}
if [ "$(sysattr "$dev" mmu)" != on ]; then
  fail "$dev has no device MMU: no direct queues to account"
elif [ ! -f "$MODEL" ]; then
  fail "no $MODEL (make it on the host: tests/vm/test-models.sh --prepare)"
else
  MTIA_DIRECT_QUEUES=1 "$RUN" "$MODEL" --bench 1000000 -i "$idx" >"$tmp/direct.out" 2>&1 &
  drun=$!
  direct_pe() { read -r a1 d1 <<<"$(pe_ns_of "$drun")"; [ "$d1" -gt 0 ]; }
  wait_for 600 direct_pe && pass "a libmtia process on direct queues has PE time in its fdinfo ($d1 ns)" ||
    fail "no mtia-direct-engine-compute for the direct-queue process: $(cat /proc/"$drun"/fdinfo/* 2>&1 | head -20)"
  grows() { read -r a2 d2 <<<"$(pe_ns_of "$drun")"; [ "$d2" -gt "$d1" ]; }
  wait_for 300 grows
  # One read each: all = the kernel's jobs + the direct queues', and the
  # kernel's part never shrinks.
  [ "$d2" -gt "$d1" ] && [ "$a1" -ge "$d1" ] && [ "$a2" -ge "$d2" ] && [ $((a2 - a1)) -ge $((d2 - d1)) ] &&
    pass "drm-engine-compute grows with the direct queues' work ($a1 -> $a2 ns, direct $d1 -> $d2 ns)" ||
    fail "drm-engine-compute $a1 -> $a2 ns, direct $d1 -> $d2 ns"
  smi_ns=$("$SMI" --json | $PY -c 'import json, sys
print(([p["compute_busy_ns"] for p in json.load(sys.stdin)["processes"] if p["pid"] == int(sys.argv[1])] or [None])[0])' "$drun")
  [ "$smi_ns" != None ] && [ "$smi_ns" -ge "$a2" ] &&
    pass "mtia-smi --json: the process's PE time ($smi_ns ns) includes its direct queues'" ||
    fail "mtia-smi --json PE time $smi_ns ns, fdinfo had $a2 ns"
  apps=$("$SMI" -i "$dev" --query-compute-apps=pid,process_name,used_memory --format=csv,noheader)
  grep -q "^$drun, mtia-run, " <<<"$apps" && pass "--query-compute-apps lists the direct-queue process" ||
    fail "--query-compute-apps: $apps"
  pmon_busy() {
    pm=$("$SMI" pmon -c 2 -d 1 -i "$dev")
    awk -v p="$drun" '$2 == p && $4 ~ /^[0-9]+$/ && $4 > 0 { ok = 1 } END { exit !ok }' <<<"$pm"
  }
  wait_for 100 pmon_busy && pass "pmon shows the direct-queue process busy on the PE grid: $(grep " $drun " <<<"$pm" | tail -1)" ||
    fail "pmon: $pm"
  kill -INT "$drun" 2>/dev/null
  wait "$drun" || fail "direct-queue model run: $(cat "$tmp/direct.out")"
fi

# ---- ECC counters (test injection through debugfs) -------------------------------
inj=/sys/kernel/debug/accel/$dev/ecc_inject
VOL=ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total
AGG=ecc.errors.corrected.aggregate.total,ecc.errors.uncorrected.aggregate.total
c0=$(q ecc.errors.corrected) u0=$(q ecc.errors.uncorrected)
IFS=', ' read -r ac0 au0 <<<"$(q $AGG)"
echo "corrected 5" >"$inj" && echo "uncorrected 2" >"$inj"
[ "$(q ecc.errors.corrected)" -eq $((c0 + 5)) ] && [ "$(q ecc.errors.uncorrected)" -eq $((u0 + 2)) ] &&
  [ "$(sysattr "$dev" ecc_corrected)" -eq $((c0 + 5)) ] &&
  pass "injected ECC errors counted ($c0 -> $(q ecc.errors.corrected), $u0 -> $(q ecc.errors.uncorrected))" ||
  fail "ECC after injection: $(q ecc.errors.corrected,ecc.errors.uncorrected)"
[ "$(q $AGG)" = "$((ac0 + 5)), $((au0 + 2))" ] && [ "$(sysattr "$dev" ecc_corrected_aggregate)" -eq $((ac0 + 5)) ] &&
  pass "and in the aggregate counts ($ac0, $au0 -> $(q $AGG))" || fail "aggregate after injection: $(q $AGG)"
# Clearing (nvidia-smi -p): root only; volatile leaves the lifetime counts.
expect_rc 4 "-p 0 as a user: nvidia-smi's permission code" "${NOBODY[@]}" "$SMI" -i "$dev" -p 0
contains "$out" "does not have permission to reset ECC error counts" "-p 0 as a user: nvidia-smi's message"
(echo volatile | "${NOBODY[@]}" tee "$(sysd "$dev")/mtia/ecc_clear" >/dev/null) 2>/dev/null &&
  fail "a user wrote ecc_clear" || pass "a user cannot write ecc_clear"
[ "$(q ecc.errors.corrected)" -eq $((c0 + 5)) ] && pass "refused clears cleared nothing" ||
  fail "volatile after refused clears: $(q $VOL)"
expect_rc 2 "-p 2: not a counter type" "$SMI" -i "$dev" -p 2
expect_rc 0 "-p 0 as root" "$SMI" -i "$dev" -p 0
contains "$out" "Reset volatile ECC errors to zero for GPU $dev." "-p 0: nvidia-smi's message"
[ "$(q $VOL)" = "0, 0" ] && [ "$(q $AGG)" = "$((ac0 + 5)), $((au0 + 2))" ] &&
  pass "-p 0 zeroes the volatile counts, keeps the aggregate ($(q $AGG))" || fail "after -p 0: $(q $VOL), $(q $AGG)"
echo "corrected 1" >"$inj"
[ "$(q $VOL)" = "1, 0" ] && [ "$(q $AGG)" = "$((ac0 + 6)), $((au0 + 2))" ] &&
  pass "both count on after a volatile clear" || fail "after -p 0 and one more: $(q $VOL), $(q $AGG)"
qtext=$("$SMI" -i "$dev" -q)
grep -A6 '^    ECC Errors' <<<"$qtext" | tr -s ' ' | tr '\n' '|' |
  grep -qF "ECC Errors| Volatile| Corrected : 1| Uncorrected : 0| Aggregate| Corrected : $((ac0 + 6))|" &&
  pass "-q shows the volatile and aggregate counts" || fail "-q: $(grep -A6 'ECC Errors' <<<"$qtext")"
expect_rc 0 "--reset-ecc-errors=1 as root" "$SMI" -i "$dev" --reset-ecc-errors=1
contains "$out" "Reset aggregate ECC errors to zero for GPU $dev." "--reset-ecc-errors=1: nvidia-smi's message"
[ "$(q $AGG)" = "0, 0" ] && [ "$(q $VOL)" = "1, 0" ] &&
  pass "--reset-ecc-errors=1 zeroes the aggregate counts only" || fail "after -p 1: $(q $VOL), $(q $AGG)"
(echo sideways >"$(sysd "$dev")/mtia/ecc_clear") 2>/dev/null && fail "ecc_clear took 'sideways'" ||
  pass "ecc_clear refuses 'sideways'"
(echo "corrected 0" >"$inj") 2>/dev/null && fail "ecc_inject took a count of 0" || pass "ecc_inject refuses a count of 0"
(echo "bogus 1" >"$inj") 2>/dev/null && fail "ecc_inject took 'bogus 1'" || pass "ecc_inject refuses 'bogus 1'"

finish

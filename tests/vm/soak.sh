#!/usr/bin/env bash
# Soak: the stack under steady load for a bounded time while the device is
# faulted, unbound and reloaded around it (make soak; make test runs a
# short one). Load: build/bin/soak_worker (P processes x M streams of
# checksummed COPY jobs, random queue priorities, syncobj chains across
# processes whose order is checked) and a model run over and over (its
# output must equal its first). Every PERIOD seconds, in turn:
#   - a fault injected from QEMU's monitor (dma-error, translation, hang,
#     fw-trap, lost-irq, ecc-ce) on one of the devices;
#   - unbind and rebind of the last device (its workers see -ENODEV and
#     open it again, as clients would);
#   - rmmod under load (must be refused: the module is in use).
# At the end the load stops, the driver is unloaded and loaded again, and
# each device must run the model to the same output as before.
#
# One report line:
#   soak: S s, P processes x M streams, J jobs completed, F faults injected,
#   R recoveries, U unbinds, innocent jobs lost L, checksum mismatches B,
#   chain order violations C (of K checked), kernel warnings W
# and checks that L, B, C and W are 0, that chains were checked and that
# every fault had its effect.
#
# INSIDE an mtia-vm guest with two devices:
#   tools/mtia-vm run --devices 2 -- tests/vm/soak.sh [SECONDS]
# SECONDS: default $MTIA_SOAK_S or 30. (tests/vm/test-models.sh --prepare on
# the host first, for the model.) Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
# shellcheck source=tests/vm/monitor_lib.sh
. tests/vm/monitor_lib.sh

WORKER=build/bin/soak_worker
RUN=build/bin/mtia-run
MODEL=${MTIA_MODEL_DIR:-build/models}/mlp
MON=tools/mtia-monitor
DURATION=${1:-${MTIA_SOAK_S:-30}}
PROCS=${MTIA_SOAK_PROCS:-4} STREAMS=${MTIA_SOAK_STREAMS:-2}
PERIOD=${MTIA_SOAK_PERIOD:-6}

warnings() { dmesg | grep -cE 'WARNING:|BUG:|Oops|general protection|UBSAN|KASAN|hung_task'; }
warn0=$(warnings)
fault_test_start
monitor_devices 2 || { fail "the QEMU monitor or the devices' QOM paths"; finish; }
for i in 0 1; do
  wait_for 100 fw_ready "${bdf[$i]}" || { fail "mtia$i (${bdf[$i]}) not ready"; finish; }
done
index0=$(accel_of "${bdf[0]}") index0=${index0#accel}  # the model's device, by libmtia index
# Recoveries counted by their uevents: a device's reset_count starts again
# at 0 when it is bound again.
listen_reset_uevents "$tmp/uevents"
resets() { local n; n=$(wc -l <"$tmp/uevents"); echo "$n"; }
r0=$(resets)

"$WORKER" --procs "$PROCS" --streams "$STREAMS" --dir "$tmp" --seed "${MTIA_SOAK_SEED:-$RANDOM}" "${bdf[@]}" \
  2>"$tmp/worker.err" &
worker_pid=$!
pids+=("$worker_pid")
model_loop "$tmp/model.state" "$tmp/ref.npy" "$tmp/out.npy" "$index0" "$MODEL" &
model_pid=$!
pids+=("$model_pid")
states() { echo "$tmp"/p*.state "$tmp"/model.state; }
total() { # NAME: the sum over the processes and the model runner
  local -a f
  read -r -a f <<<"$(states)"
  sum_field "$1" "${f[@]}"
}
jobs0=0
progressed() { [ "$(total jobs)" -ge $((jobs0 + $1)) ]; }
wait_for 300 progressed "$PROCS" || { fail "the load does not run: $(cat "$tmp/worker.err")"; finish; }

# ---- events -----------------------------------------------------------------
faults=0 guilty=0 unbinds=0 effects_missing=0
above() { [ "$($1)" -gt "$2" ]; }
# inject DEV NAME VALUE GUILTY [reset] [OFF]: a fault, seen to take effect
# on the device (its fault-NAME-injected count rises) and, with "reset", a
# recovery; GUILTY: jobs it fails; OFF: the property's value afterwards.
injected() { qom_get "${qom[$1]}" "fault-$2-injected"; }
inject() {
  local dev=$1 name=$2 val=$3 want=$4 reset=${5:-} off=${6:-} n0 r0 ok=1
  n0=$(injected "$dev" "$name") r0=$(resets)
  qom_set "${qom[$dev]}" "fault-$name" "$val" || { fail "qom-set mtia$dev fault-$name $val"; return; }
  wait_for 300 above "injected $dev $name" "$n0" || ok=0
  [ "$reset" = reset ] && { wait_for 300 above resets "$r0" || ok=0; }
  [ -n "$off" ] && qom_set "${qom[$dev]}" "fault-$name" "$off"
  faults=$((faults + 1)) guilty=$((guilty + want))
  echo "soak: $(date +%T) fault $name on mtia$dev$([ "$ok" = 1 ] || echo ': NO EFFECT SEEN')"
  [ "$ok" = 1 ] || effects_missing=$((effects_missing + 1))
}
rebind() { # the last device: unbind under load, bind again
  local d=${bdf[1]}
  echo "$d" >/sys/bus/pci/drivers/mtia/unbind || { fail "unbind $d"; return; }
  echo "$d" >/sys/bus/pci/drivers/mtia/bind || { fail "bind $d"; return; }
  keep_awake
  unbinds=$((unbinds + 1))
  wait_for 100 fw_ready "$d" || fail "$d not ready after rebind"
  # Its node may differ: the old one lives until its last file closes.
  echo "soak: $(date +%T) unbind/bind $d (now $(accel_of "$d"))"
}
rmmod_refused() {
  if rmmod mtia 2>/dev/null; then
    fail "rmmod mtia under load succeeded"
    insmod "$MTIA_VM_DRIVER" job_timeout_ms=1500 && keep_awake
  else
    echo "soak: $(date +%T) rmmod under load refused (in use)"
  fi
}

# A fault's effect is the device's own count of it: a job-level sign
# (a WAIT's -EIO, lost_irq_count) can be hidden by the load (the guilty
# file banned before its WAIT; the next interrupt draining a lost one's CQ).
events=(
  "inject 0 dma-error 1 1"
  "rebind"
  "inject 0 hang true 1 reset false"
  "rmmod_refused"
  "inject 1 translation 1 1"
  "inject 1 fw-trap true 0 reset false"
  "inject 1 lost-irq 2 0"
  "inject 0 ecc-ce 3 0"
)
# Between events the load must have gone on (jobs completed on every
# process); and events are at least PERIOD seconds apart, a schedule (not a
# wait for a state) that keeps recoveries under the driver's
# max_resets_per_min however fast the host is.
# Each event's failures (those seen before the next event) against the
# jobs it should fail: a difference is printed, to match with the
# failures the workers log (worker.err), which are printed at the end.
failed() { echo $(($(total eio) + $(total canceled) + $(total banned))); }
event_check() {
  local d=$(($(failed) - failed0))
  [ "$d" -eq "$event_want" ] || echo "soak: $(date +%T) after '$event': $d jobs failed, $event_want expected"
}
start=$SECONDS n=0 event=
while [ $((SECONDS - start)) -lt "$DURATION" ]; do
  jobs0=$(total jobs) t0=$SECONDS
  wait_for 300 progressed "$PROCS" || { fail "the load stopped running"; break; }
  [ $((SECONDS - t0)) -lt "$PERIOD" ] && sleep $((PERIOD - (SECONDS - t0)))
  [ $((SECONDS - start)) -lt "$DURATION" ] || break
  [ -n "$event" ] && event_check
  event=${events[n % ${#events[@]}]} failed0=$(failed) g0=$guilty
  $event
  event_want=$((guilty - g0)) n=$((n + 1))
  kill -0 "$worker_pid" 2>/dev/null || break
done
jobs0=$(total jobs)
wait_for 300 progressed "$PROCS" || fail "the load stopped running"
[ -n "$event" ] && event_check
touch "$tmp/stop"
wait "$worker_pid"
rc=$?
wait "$model_pid"
check "soak_worker processes ended cleanly (exit $rc)" test "$rc" -eq 0
[ -s "$tmp/worker.err" ] && cat "$tmp/worker.err"

# ---- report -------------------------------------------------------------------
# Failed: a WAIT's -EIO/-EFAULT or -ECANCELED status, or a WAIT refused
# because its file was banned by a job whose status it hides (not the
# ban's collateral: soak_worker.cc).
jobs=$(total jobs) failed_jobs=$(failed)
innocent=$((failed_jobs - guilty))
[ "$innocent" -lt 0 ] && innocent=0
badsum=$(total badsum) chain=$(total chain) chainbad=$(total chainbad)
recoveries=$(($(resets) - r0))
# Driver reload with the load stopped: rmmod and insmod, then each device
# runs the model as before.
if rmmod mtia && insmod "$MTIA_VM_DRIVER"; then
  keep_awake
  for i in 0 1; do
    wait_for 100 fw_ready "${bdf[$i]}" || fail "mtia$i not ready after reload"
  done
  "$RUN" "$MODEL.mtia" -i "$index0" --input "$MODEL.input0.npy" --output "$tmp/final.npy" >/dev/null 2>&1 &&
    cmp -s "$tmp/ref.npy" "$tmp/final.npy"
  check "after the soak and a driver reload the model gives its first output" test $? -eq 0
else
  fail "rmmod/insmod after the soak"
fi
warn=$(($(warnings) - warn0))
printf 'soak: %d s, %d processes x %d streams, %d jobs completed, %d faults injected, %d recoveries, %d unbinds, innocent jobs lost %d, checksum mismatches %d, chain order violations %d (of %d checked), kernel warnings %d\n' \
  $((SECONDS - start)) "$PROCS" "$STREAMS" "$jobs" "$faults" "$recoveries" "$unbinds" "$innocent" "$badsum" "$chainbad" \
  "$chain" "$warn"
echo "soak: reopened files $(total reopen), jobs cut by unbind $(total cut), jobs of banned files after their guilty one $(total collateral), failed jobs $failed_jobs (guilty expected $guilty)"
check "every injected fault had its effect ($effects_missing without)" test "$effects_missing" -eq 0
check "no innocent job lost ($innocent)" test "$innocent" -eq 0
check "no checksum mismatch ($badsum)" test "$badsum" -eq 0
check "chained jobs checked ($chain) and none ran early ($chainbad)" test "$chain" -gt 0 -a "$chainbad" -eq 0
check "no kernel warning ($warn)" test "$warn" -eq 0
finish

#!/usr/bin/env bash
# The fault matrix (docs/fault-injection.md): while several processes run
# checksummed COPY jobs (build/bin/fault_worker) and a small model
# (mtia-run, output compared with its first run), each fault the device can
# inject is injected from QEMU's monitor (through the mtia-vm guest channel,
# the port tools/mtia-monitor uses), and one line per fault says what
# recovery did:
# recoveries, innocent jobs lost (must be 0), bad checksums (must be 0),
# the guilty job's error, whether a devcoredump and a reset uevent
# appeared. Then bans (one file made guilty 3 times), the reset-rate cap
# (max_resets_per_min) on the second device, and link down (the device is
# given up, every ioctl -ENODEV, nothing hangs) on the first.
#
# INSIDE an mtia-vm guest with two devices:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-faults.sh
# (tests/vm/test-models.sh --prepare on the host first, for the model.)
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
# shellcheck source=tests/vm/monitor_lib.sh
. tests/vm/monitor_lib.sh

WORKER=build/bin/fault_worker
RUN=build/bin/mtia-run
MODEL=${MTIA_MODEL_DIR:-build/models}/mlp
MON=tools/mtia-monitor
NWORKERS=3

fault_test_start
monitor_devices 2 || { fail "the QEMU monitor or the devices' QOM paths"; finish; }
for i in 0 1; do
  wait_for 100 fw_ready "${bdf[$i]}" || { fail "mtia$i (${bdf[$i]}) not ready"; finish; }
done
node0=/dev/accel/$(accel_of "${bdf[0]}") node1=/dev/accel/$(accel_of "${bdf[1]}")
index0=${node0##*accel}   # libmtia's device index (its nodes in order)

listen_reset_uevents "$tmp/uevents"

# ---- workers --------------------------------------------------------------
# Over the workers (those replaced too: replace_banned) and the model.
total() { sum_field "$1" "$tmp"/w*.state "$tmp"/retired-*.state "$tmp"/model.state; }
start_worker() { # NAME NODE
  rm -f "$tmp/$1.stop"
  "$WORKER" "$2" "$tmp/$1.state" "$tmp/$1.stop" 2>"$tmp/$1.err" &
  pids+=($!)
  eval "pid_$1=$!"
}
for w in $(seq 1 $NWORKERS); do start_worker "w$w" "$node0"; done
model_loop "$tmp/model.state" "$tmp/ref.npy" "$tmp/out.npy" "$index0" "$MODEL" &
pids+=($!)

snap() {
  local f n
  for f in "$tmp"/w*.state "$tmp"/model.state; do
    n=${f##*/} n=${n%.state}
    getf "$f" jobs
    printf -v "base_$n" %s "$REPLY"
    getf "$f" eio
    printf -v "eio_$n" %s "$REPLY"
  done
}
# The CQE status of the jobs that failed with -EIO since snap (workers').
new_cqes() {
  local f n b
  for f in "$tmp"/w*.state; do
    n=${f##*/} b=eio_${n%.state}
    getf "$f" eio
    [ "$REPLY" -gt "${!b:-0}" ] && field "$f" cqe
  done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# The guilty job of a row is any worker's, by chance: when one worker's
# file has been guilty ban_threshold (3) times the driver bans it, rightly
# (the ban rows below test that), and its loop ends. A new process (a new
# file) takes its place, counted from 0; its old counts stay in the totals.
replace_banned() {
  local f n
  for f in "$tmp"/w*.state; do
    getf "$f" banned
    [ "$REPLY" = 1 ] || continue
    n=${f##*/} n=${n%.state}
    mv "$f" "$tmp/retired-$n-$SECONDS.state"
    start_worker "$n" "$node0"
    printf -v "base_$n" 0
    printf -v "eio_$n" 0
    echo "  ($n's file was banned after 3 guilty jobs: a new process replaces it)"
  done
}
# progressed N: every worker did N more jobs than in $base_*, the model one
# more run (a run is a process start, slow under TCG).
progressed() {
  replace_banned
  local f n b want
  for f in "$tmp"/w*.state "$tmp"/model.state; do
    b=${f##*/} b=base_${b%.state} want=$1
    case $f in */model.state) want=1 ;; esac
    getf "$f" jobs
    [ "$REPLY" -ge $((${!b:-0} + want)) ] || return 1
  done
}
# Which of them did not go on, and what they last said (a failed row).
show_stalled() {
  local f n b
  for f in "$tmp"/w*.state "$tmp"/model.state; do
    n=${f##*/} n=${n%.state} b=base_$n
    echo "  $n: $(cat "$f") (had ${!b:-0} jobs)"
    [ -s "$tmp/$n.err" ] && tail -n 3 "$tmp/$n.err" | sed 's/^/    /'
  done
  tail -n 5 "$tmp/out.npy.log" 2>/dev/null | sed 's/^/  model: /'
  dmesg | grep -i mtia | tail -n 15 | sed 's/^/  dmesg: /'
}
snap
wait_for 300 progressed 2 || { fail "workers and the model do not run"; cat "$tmp"/*.err; finish; }

dumps() { find /sys/class/devcoredump/ -name 'devcd*' 2>/dev/null | wc -l; }
clear_dumps() { local d; for d in /sys/class/devcoredump/devcd*/data; do [ -e "$d" ] && echo 1 >"$d"; done; }
sys0() { local v=""; read -r v <"$(sysd "${bdf[0]}")/mtia/$1" 2>/dev/null; echo "$v"; }
above() { [ "$($1)" -gt "$2" ]; }
resets0() { sys0 reset_count; }
lostirqs0() { sys0 lost_irq_count; }
eio_total() { total eio; }
at_least() { [ "$(sys0 "$1")" -ge "$2" ]; }

# fault NAME VALUE WAIT_WHAT EXPECT_RESETS EXPECT_GUILTY [RESET_VALUE [LABEL]]:
# one row of the matrix. WAIT_WHAT: "eio", "reset", "lostirq", "ecc-ce",
# "ecc-ue" or "" (just progress); EXPECT_GUILTY: how many jobs are to fail.
fault() {
  local name=$1 val=$2 what=$3 want_resets=$4 want_guilty=$5 reset=${6:-} label=${7:-$1}
  local t0=$SECONDS r0 l0 e0 c0 b0 u0 ecc0=0 r1 l1 e1 c1 b1 u1 failed_now innocent dump guilty ok=1
  clear_dumps
  snap
  local cqes=""
  r0=$(resets0) l0=$(lostirqs0) e0=$(total eio) c0=$(total canceled) b0=$(total badsum)
  u0=$(wc -l <"$tmp/uevents")
  case $what in
    ecc-ce) ecc0=$(sys0 ecc_corrected) ;;
    ecc-ue) ecc0=$(sys0 ecc_uncorrected) ;;
  esac
  qom_set "${qom[0]}" "fault-$name" "$val" || { fail "qom-set fault-$name $val"; return; }
  case $what in
    eio) wait_for 200 above eio_total "$e0" ;;
    reset) wait_for 300 above resets0 "$r0" ;;
    lostirq) wait_for 300 above lostirqs0 "$l0" ;;
    ecc-ce) wait_for 100 at_least ecc_corrected $((ecc0 + val)) ;;
    ecc-ue) wait_for 100 at_least ecc_uncorrected $((ecc0 + val)) ;;
  esac || { fail "fault-$label: no effect seen ($what)"; ok=0; }
  [ -n "$reset" ] && qom_set "${qom[0]}" "fault-$name" "$reset"
  cqes=$(new_cqes)
  snap
  wait_for 300 progressed 3 || { fail "fault-$label: the jobs did not go on afterwards"; show_stalled; ok=0; }
  r1=$(resets0) l1=$(lostirqs0) e1=$(total eio) c1=$(total canceled) b1=$(total badsum)
  u1=$(wc -l <"$tmp/uevents")
  failed_now=$(((e1 - e0) + (c1 - c0)))
  innocent=$((failed_now - want_guilty))
  [ "$innocent" -lt 0 ] && innocent=0
  guilty=none
  [ $((e1 - e0)) -gt 0 ] && guilty="-EIO/-EFAULT (CQE status ${cqes:-? (the model)})"
  [ $((c1 - c0)) -gt 0 ] && guilty="-ECANCELED"
  dump=no
  [ "$(dumps)" -gt 0 ] && dump=yes
  printf 'fault %-12s recoveries %d  lost-irq %d  innocent lost %d  bad checksums %d  guilty %s  devcoredump %s  uevents %d  (%d s)\n' \
    "$label" $((r1 - r0)) $((l1 - l0)) "$innocent" $((b1 - b0)) "$guilty" "$dump" $((u1 - u0)) $((SECONDS - t0))
  [ $((r1 - r0)) -eq "$want_resets" ] || { fail "fault-$label: $((r1 - r0)) recoveries, want $want_resets"; ok=0; }
  [ "$failed_now" -eq "$want_guilty" ] || { fail "fault-$label: $failed_now failed jobs, want $want_guilty"; ok=0; }
  [ $((b1 - b0)) -eq 0 ] || { fail "fault-$label: corrupted data"; ok=0; }
  if [ "$want_resets" -gt 0 ]; then
    [ "$dump" = yes ] || { fail "fault-$label: no devcoredump"; ok=0; }
    [ $((u1 - u0)) -ge "$want_resets" ] || { fail "fault-$label: no reset uevent"; ok=0; }
  fi
  [ "$ok" = 1 ] && pass "fault-$label: recovered as expected"
}

fault dma-error 2 eio 0 1
fault translation 8 eio 0 1
fault lost-irq 6 lostirq 0 0
fault ecc-ce 5 ecc-ce 0 0
fault ecc-ue 2 ecc-ue 0 0
fault latency-us 3000 "" 0 0 0
fault hang true reset 1 1
fault fw-trap true reset 1 0

# The devcoredump of the last reset (fw-trap) is readable and complete.
d=$(find /sys/class/devcoredump/ -name 'devcd*' 2>/dev/null | head -n1)
if [ -n "$d" ] && head -n1 "$d/data" | grep -q '^mtia devcoredump 1$' &&
  grep -q '^reason: watchdog$' "$d/data" && grep -q '^FW_TRAP_CAUSE 0x00000001$' "$d/data" &&
  grep -q '^\[guilty job\]$' "$d/data" && grep -q '^\[firmware log\]$' "$d/data" &&
  grep -q '^MMU_CTRL 0x00000001$' "$d/data"; then
  pass "devcoredump of the fw-trap reset: reason, trap cause, queues, MMU, firmware log"
else
  fail "devcoredump of the fw-trap reset"
  [ -n "$d" ] && head -n 40 "$d/data"
fi
grep -q "MTIA_RESET_REASON=timeout" "$tmp/uevents" && grep -q "MTIA_RESET_REASON=watchdog" "$tmp/uevents" &&
  pass "reset uevents carry the reason (timeout, watchdog)" || { fail "reset uevents"; cat "$tmp/uevents"; }

# The firmware traps with the watchdog off: jobs time out instead, and the
# timeout handler, finding the firmware halted, blames none of them: they
# run again after the reset (no job fails).
echo 0 >/sys/module/mtia/parameters/watchdog_ms
fault fw-trap true reset 1 0 "" trap-no-wdog
echo 1000 >/sys/module/mtia/parameters/watchdog_ms
dmesg | grep -q "timed out with the firmware down" && pass "the timeout handler says the firmware was down" ||
  fail "no 'timed out with the firmware down' in dmesg"
clear_dumps

# ---- bans (second device): one file guilty ban_threshold (3) times --------
start_worker ban "$node1"
stalled() { [ "$(field "$tmp/ban.state" "$1")" -ge "$2" ]; }
# The third guilty job bans the file: its WAIT may already be refused
# (-ECANCELED) instead of reporting the job's -EIO, depending on whether
# the job finished before the WAIT began.
guilty_seen() { stalled eio "$1" || stalled banned 1; }
for n in 1 2 3; do
  qom_set "${qom[1]}" fault-dma-error 1
  wait_for 100 guilty_seen "$n" || break
done
wait_for 100 stalled banned 1
if stalled eio 2 && stalled banned 1; then
  pass "a file guilty 3 times is banned (SUBMIT/WAIT -ECANCELED)"
else
  fail "ban: $(cat "$tmp/ban.state")"
fi
start_worker fresh "$node1"
fresh_ok() { [ "$(field "$tmp/fresh.state" ok)" -ge 3 ]; }
check "another file on that device is not banned" wait_for 100 fresh_ok
touch "$tmp/fresh.stop"

# ---- the reset-rate cap (second device) ------------------------------------
echo 2 >/sys/module/mtia/parameters/max_resets_per_min
start_worker cap "$node1"
cap_runs() { getf "$tmp/cap.state" jobs; [ "$REPLY" -ge 3 ]; }
wait_for 100 cap_runs || fail "the worker on the second device does not run"
for n in 1 2 3; do echo 1 >"$(sysd "${bdf[1]}")/mtia/reset" 2>/dev/null; done
capped() { [ "$(sysattr "${bdf[1]}" gone)" = 1 ] && [ "$(field "$tmp/cap.state" gone)" = 1 ]; }
check "more than max_resets_per_min recoveries: device given up, ioctls -ENODEV" wait_for 100 capped
echo 10 >/sys/module/mtia/parameters/max_resets_per_min
grep -q "MTIA_STATE=gone" "$tmp/uevents" && pass "the last reset's uevent says MTIA_STATE=gone" ||
  fail "no MTIA_STATE=gone uevent"

# ---- link down (first device, last: it stays given up) ---------------------
clear_dumps
qom_set "${qom[0]}" fault-link-down true
gone0() { [ "$(sys0 gone)" = 1 ]; }
workers_gone() { local w; for w in $(seq 1 $NWORKERS); do [ "$(field "$tmp/w$w.state" gone)" = 1 ] || return 1; done; }
if wait_for 200 gone0 && wait_for 200 workers_gone; then
  pass "link down: the device is given up (no reset loop), every worker got -ENODEV"
else
  fail "link down: gone=$(sys0 gone), workers: $(cat "$tmp"/w*.state)"
fi
printf 'fault %-12s recoveries %d  gone %s  devcoredump %s\n' link-down 0 "$(sys0 gone)" \
  "$([ "$(dumps)" -gt 0 ] && echo yes || echo no)"
qom_set "${qom[0]}" fault-link-down false
touch "$tmp/stop"
for w in $(seq -f 'w%g' 1 $NWORKERS) ban cap; do
  p=pid_$w
  wait "${!p}" || fail "worker $w exited with an error: $(cat "$tmp/$w.err")"
done
finish

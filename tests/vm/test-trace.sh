#!/usr/bin/env bash
# In-VM test of the driver's tracepoints (driver/mtia_trace.h, tracefs
# events/mtia/, docs/debugging.md). Runs INSIDE an mtia-vm guest:
#   tools/mtia-vm run -- tests/vm/test-trace.sh
# With every mtia event enabled it runs a copy benchmark and a model on the
# first device and checks that EVERY job has its whole path in the trace, in
# order: mtia_submit -> mtia_run -> one mtia_cqe per command ->
# mtia_job_hw_done -> mtia_fence_signal, nothing lost. Then a reset through
# mtia-smi (mtia_reset_begin -> mtia_fw_boot -> mtia_reset_end, reason
# sysfs) and a hung job (mtia_timeout, a reset with reason timeout, the job's
# fence signalled with -ECANCELED).
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
T=/sys/kernel/tracing
DBG=/sys/kernel/debug
RUN=build/bin/mtia-run
# The kernel's job path is what is traced: libmtia's streams use it
# (MTIA_DIRECT_QUEUES=0), not direct queues, whose jobs the kernel never sees.
export MTIA_DIRECT_QUEUES=0
SMI=build/bin/mtia-smi
EVENTS=(mtia_submit mtia_run mtia_cqe mtia_job_hw_done mtia_fence_signal
        mtia_timeout mtia_reset_begin mtia_reset_end mtia_fw_boot)
tmp=$(mktemp -d)

on_finish() {
  [ -w "$T/events/mtia/enable" ] && echo 0 > "$T/events/mtia/enable"
  [ -w "$T/tracing_on" ] && echo 1 > "$T/tracing_on"
  [ -n "${FAULT:-}" ] && [ -w "$FAULT" ] && echo none > "$FAULT"
  rm -rf "$tmp"
}

if [ "$ndev" -eq 0 ]; then
  fail "no PCI device $VENDOR:$DEVICE in the VM"
  finish
fi
dev=${devs[0]}
node=/dev/accel/$(accel_of "$dev")
echo "device $dev ($node)"

[ -d "$T/events" ] || mount -t tracefs tracefs "$T" 2>/dev/null
[ -d "$DBG/accel" ] || mount -t debugfs none "$DBG" 2>/dev/null
check "tracefs mounted" [ -d "$T/events" ]
for e in "${EVENTS[@]}"; do
  check "tracepoint mtia/$e exists" [ -f "$T/events/mtia/$e/format" ]
done

# trace_start: empty buffer, every mtia event on, global clock (the events of
# one job may be on different CPUs). trace_stop FILE: off, buffer to FILE.
trace_start() {
  echo 0 > "$T/tracing_on"
  echo global > "$T/trace_clock"
  echo 16384 > "$T/buffer_size_kb"
  echo > "$T/trace"
  echo 1 > "$T/events/mtia/enable"
  echo 1 > "$T/tracing_on"
}
trace_stop() {
  echo 0 > "$T/tracing_on"
  echo 0 > "$T/events/mtia/enable"
  cat "$T/trace" > "$1"
}

# check_jobs FILE DEV MIN: every job of DEV has its path, in order, and there
# are at least MIN of them; prints what is wrong (exit 1) or a summary.
check_jobs() {
  "$PY" - "$@" <<'PYEOF'
import re, sys
path, dev, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
line_re = re.compile(r'\s(\d+\.\d+): (mtia_\w+): (.*)$')
errors, jobs, cur = [], [], {}
text = open(path).read()
m = re.search(r'entries-in-buffer/entries-written: (\d+)/(\d+)', text)
if not m or m.group(1) != m.group(2):
    errors.append('events were lost: ' + (m.group(0) if m else 'no header'))
for ln in text.splitlines():
    m = line_re.search(ln)
    if not m:
        continue
    ev, f = m.group(2), dict(kv.split('=', 1) for kv in m.group(3).split())
    if f.get('dev') != dev or ev not in ('mtia_submit', 'mtia_run', 'mtia_cqe',
                                         'mtia_job_hw_done', 'mtia_fence_signal'):
        continue
    key = (f['ctx'], f['queue'], f['seqno'])
    if ev == 'mtia_submit':
        if key in cur and cur[key]['state'] != 'signalled':
            errors.append(f'{key}: submitted again before its fence signalled')
        cur[key] = {'state': 'submitted', 'cmds': int(f['cmds']), 'cqes': 0}
        jobs.append(cur[key])
        continue
    j = cur.get(key)
    if j is None:
        errors.append(f'{ev} {key} without mtia_submit')
        continue
    order = {'mtia_run': ('submitted', 'run'), 'mtia_cqe': ('run', 'run'),
             'mtia_job_hw_done': ('run', 'done'),
             'mtia_fence_signal': ('done', 'signalled')}
    need, new = order[ev]
    if j['state'] != need:
        errors.append(f'{ev} {key} in state {j["state"]} (expected {need})')
    if ev == 'mtia_cqe':
        j['cqes'] += 1
        if f['status'] != '0':
            errors.append(f'{key}: CQE status {f["status"]}')
    elif ev == 'mtia_job_hw_done' and j['cqes'] != j['cmds']:
        errors.append(f'{key}: {j["cqes"]} CQEs for {j["cmds"]} commands')
    if ev != 'mtia_cqe' and f.get('err', '0') != '0':
        errors.append(f'{ev} {key}: err={f["err"]}')
    j['state'] = new
for k, j in cur.items():
    if j['state'] != 'signalled':
        errors.append(f'{k}: ended in state {j["state"]}')
if len(jobs) < want:
    errors.append(f'only {len(jobs)} jobs traced (expected at least {want})')
for e in errors[:20]:
    print(e)
if errors:
    sys.exit(1)
print(f'{len(jobs)} jobs, {sum(j["cqes"] for j in jobs)} CQEs: all submitted, run, '
      'completed and signalled in order')
PYEOF
}

# ---- every job of a copy benchmark and a model -------------------------------
# The model: resnet18 when tests/vm/test-models.sh --prepare (run-all.sh) made
# it, else the smallest compiled test model.
model=build/models/resnet18.mtia
[ -f "$model" ] || model=$(ls -S build/models/*.mtia 2>/dev/null | tail -n1)

trace_start
out=$("$RUN" -d "$node" --bench copy --size 1M --iters 2 --nop-iters 2 2>&1)
rc_copy=$?
rc_model=1
if [ -n "$model" ]; then
  out_model=$("$RUN" -d "$node" "$model" --bench 2 --warmup 1 2>&1)
  rc_model=$?
fi
trace_stop "$tmp/jobs.trace"
[ "$rc_copy" -eq 0 ] && pass "copy benchmark ran" || fail "copy benchmark (rc $rc_copy): $out"
if [ -z "$model" ]; then
  fail "no compiled model in build/models (tests/vm/test-models.sh --prepare)"
else
  [ "$rc_model" -eq 0 ] && pass "model ${model##*/} ran" || fail "model ${model##*/} (rc $rc_model): $out_model"
fi
# Copies: 2 per direction x 3 directions, then NOPs: at least 9 jobs; each
# inference is a job too (weights and warm-up add more).
res=$(check_jobs "$tmp/jobs.trace" "$dev" 12)
[ $? -eq 0 ] && pass "job lifecycles: $res" || { fail "job lifecycles:"; echo "$res"; }
grep -c ': mtia_' "$tmp/jobs.trace" | sed 's/^/  trace lines: /'

# ---- a reset through mtia-smi ------------------------------------------------
# seq FILE DEV PATTERN...: the events matching the patterns appear in FILE, in
# that order, on DEV's lines.
seq_in() {
  local file=$1 d=$2 pos=0 p n; shift 2
  for p in "$@"; do
    n=$(grep -n "dev=$d" "$file" | grep -E "$p" | awk -F: -v pos="$pos" '$1 > pos { print $1; exit }')
    [ -n "$n" ] || { echo "missing after line $pos: $p"; return 1; }
    pos=$n
  done
}
trace_start
before=$(sysattr "$dev" reset_count)
out=$("$SMI" --reset -i "$dev" 2>&1)
rc=$?
trace_stop "$tmp/reset.trace"
[ "$rc" -eq 0 ] && pass "mtia-smi --reset -i $dev: $out" || fail "mtia-smi --reset (rc $rc): $out"
fwv=$(sysattr "$dev" fw_version)
res=$(seq_in "$tmp/reset.trace" "$dev" \
  "mtia_reset_begin: .* reason=sysfs resets=$before" \
  "mtia_fw_boot: .* err=0 version=$fwv " \
  "mtia_reset_end: .* reason=sysfs err=0 fw_state=ready")
[ $? -eq 0 ] && pass "reset traced: begin (sysfs) -> firmware boot $fwv -> end (ready)" \
  || fail "reset trace: $res"

# ---- a hung job: timeout, reset, the job cancelled ---------------------------
FAULT=$DBG/accel/$dev/fault_inject
if [ ! -w "$FAULT" ]; then
  fail "no $FAULT"
else
  trace_start
  echo hang > "$FAULT"
  out=$("$RUN" -d "$node" --bench copy --size 4K --iters 1 --nop-iters 1 2>&1)
  rc=$?
  wait_for 100 fw_ready "$dev"
  trace_stop "$tmp/hang.trace"
  echo none > "$FAULT"
  [ "$rc" -ne 0 ] && pass "the hung job failed (rc $rc)" || fail "the hung job succeeded: $out"
  tl=$(grep -m1 "mtia_timeout: dev=$dev " "$tmp/hang.trace")
  if [ -z "$tl" ]; then
    fail "no mtia_timeout for $dev"
  else
    key=$(sed -E 's/.* (ctx=[0-9]+ queue=[0-9]+ seqno=[0-9]+) .*/\1/' <<<"$tl")
    res=$(seq_in "$tmp/hang.trace" "$dev" \
      "mtia_submit: .* $key " \
      "mtia_run: .* $key .*err=0" \
      "mtia_timeout: .* $key " \
      "mtia_reset_begin: .* reason=timeout" \
      "mtia_job_hw_done: .* $key .*err=-125" \
      "mtia_fence_signal: .* $key err=-125" \
      "mtia_reset_end: .* reason=timeout err=0 fw_state=ready")
    [ $? -eq 0 ] && pass "hung job traced ($key): submit -> run -> timeout -> reset -> cancelled (-ECANCELED)" \
      || fail "hung job trace: $res"
  fi
  check "device ready after the timeout reset" fw_ready "$dev"
fi

finish

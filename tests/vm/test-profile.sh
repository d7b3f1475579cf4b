#!/usr/bin/env bash
# The profiler (docs/models.md "Profiling"): mtia-run --profile on resnet18
# writes Chrome trace-event JSON that a JSON parser loads (Python's json
# module, as Perfetto's importer would): one device span per program op,
# each named, whose device durations add up to the run's device span
# (within 5 %), the MTIA v1 model's spans, bytes per op; --bench --profile
# one host span per timed run; the C API's profile through libmtia
# (build/bin/model_vm_tests covers it, ModelProfile*).
#
# Models are prepared on the host by tests/vm/test-models.sh --prepare; run
# INSIDE an mtia-vm guest:
#   tools/mtia-vm run --device-opts devmem-size=512M -- tests/vm/test-profile.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
DIR=${MTIA_MODEL_DIR:-build/models}
PY=/usr/bin/python3
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
RUN=build/bin/mtia-run
dev=${MTIA_TEST_DEVICE:-0}
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }

if [ ! -f "$DIR/resnet18.mtia" ]; then
  fail "no $DIR/resnet18.mtia: run tests/vm/test-models.sh --prepare on the host first"
  finish
fi

# check_trace FILE RUNS: the trace's checks, one PASS/FAIL line each.
check_trace() {
  local ok what
  while IFS='|' read -r ok what; do
    if [ "$ok" = ok ]; then pass "$what"; else fail "$what"; fi
  done <<<"$($PY - "$1" "$2" "$DIR/resnet18.mtia" <<'PYEOF'
import json, sys
path, runs = sys.argv[1], int(sys.argv[2])
def say(ok, what): print("%s|%s" % ("ok" if ok else "bad", what))
try:
    doc = json.load(open(path))
except Exception as e:
    say(False, "%s is JSON: %s" % (path, e)); sys.exit(0)
ev = doc.get("traceEvents", [])
say(isinstance(ev, list) and len(ev) > 0, "trace has traceEvents (%d)" % len(ev))
spans = [e for e in ev if e.get("ph") == "X"]
numeric = all(isinstance(e.get("ts"), (int, float)) and isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0
              for e in spans)
say(numeric, "every complete event has numeric ts and dur >= 0")
names = {(e["pid"], e.get("tid")): e["args"]["name"] for e in ev if e.get("ph") == "M" and "name" in e.get("args", {})}
pids = {e["pid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "process_name"}
say(sorted(pids.values()) == sorted(["host (libmtia)", "MTIA device", "MTIA v1 model"]),
    "process names: %s" % sorted(pids.values()))
by = lambda cat, proc: [e for e in spans if e.get("cat") == cat and pids.get(e["pid"]) == proc]
host_runs = by("run", "host (libmtia)")
dev_runs = by("program", "MTIA device")
model_runs = by("program", "MTIA v1 model")
say(len(host_runs) == runs and len(dev_runs) == runs and len(model_runs) == runs,
    "one host, device and model span per run: %d, %d, %d (want %d)" % (len(host_runs), len(dev_runs), len(model_runs), runs))
for r, (h, d) in enumerate(zip(host_runs, dev_runs)):
    if r > 0 and r < runs - 1:
        continue  # the first and the last run in detail
    n = d["args"]["ops"]
    ops = sorted((e for e in by("op", "MTIA device") if e["args"]["run"] == r), key=lambda e: e["args"]["index"])
    mops = [e for e in by("op", "MTIA v1 model") if e["args"]["run"] == r]
    say(n > 0 and len(ops) == n and [e["args"]["index"] for e in ops] == list(range(n)),
        "run %d: one device span per program op (%d ops, %d spans)" % (r, n, len(ops)))
    say(all(e["name"] and e["args"]["op"] and e["args"]["type"] for e in ops),
        "run %d: every op span is named (e.g. %s: %s)" % (r, ops[0]["args"]["type"] if ops else "-",
                                                          ops[0]["name"] if ops else "-"))
    dsum = sum(e["args"]["device_ns"] for e in ops)
    span = d["args"]["device_ns"]
    say(span > 0 and abs(dsum - span) <= 0.05 * span,
        "run %d: op device times add up to the run's device span: %.3f of %.3f ms (%.2f %%)"
        % (r, dsum / 1e6, span / 1e6, 100.0 * dsum / span if span else 0))
    inside = all(d["ts"] - 1e-3 <= e["ts"] and e["ts"] + e["dur"] <= d["ts"] + d["dur"] + 1e-3 for e in ops)
    say(inside, "run %d: op spans lie inside the device span" % r)
    msum = sum(e["args"]["model_ns"] for e in mops)
    say(len(mops) == n and all(e["args"]["model_ns"] > 0 for e in mops) and msum == d["args"]["model_ns"],
        "run %d: MTIA v1 model spans, one per op, adding up to the estimate %.3f ms" % (r, msum / 1e6))
    say(all(e["args"]["bytes"] > 0 for e in ops),
        "run %d: bytes moved per op > 0 (total %.1f MiB)" % (r, sum(e["args"]["bytes"] for e in ops) / 2**20))
    say(h["dur"] > 0 and h["ts"] == d["ts"],
        "run %d: host span %.3f ms, the device span starting with it" % (r, h["args"]["host_ns"] / 1e6))
PYEOF
)"
}

# One run, with its outputs: the trace, and the outputs as without --profile.
if "$RUN" "$DIR/resnet18.mtia" -i "$dev" --input "$DIR/resnet18.input0.npy" --output "$tmp/prof.out0.npy" \
  --profile "$tmp/one.json" >"$tmp/one.log" 2>&1 &&
  "$RUN" "$DIR/resnet18.mtia" -i "$dev" --input "$DIR/resnet18.input0.npy" --output "$tmp/plain.out0.npy" \
    >"$tmp/plain.log" 2>&1; then
  grep 'profile:' "$tmp/one.log"
  check "mtia-run --profile says where the trace went" grep -q "profile: 1 run(s) -> $tmp/one.json" "$tmp/one.log"
  check_trace "$tmp/one.json" 1
  check "the outputs are those of a run without --profile" cmp "$tmp/prof.out0.npy" "$tmp/plain.out0.npy"
else
  cat "$tmp/one.log" "$tmp/plain.log"
  fail "mtia-run --profile failed"
fi

# The benchmark: one host span per timed run() (warmups and the pipelined
# runs are not profiled).
if "$RUN" "$DIR/resnet18.mtia" -i "$dev" --bench 4 --warmup 1 --profile "$tmp/bench.json" >"$tmp/bench.log" 2>&1; then
  check_trace "$tmp/bench.json" 4
else
  cat "$tmp/bench.log"
  fail "mtia-run --bench --profile failed"
fi

"$RUN" --bench copy --profile "$tmp/x.json" >"$tmp/copy.log" 2>&1
rc=$?
check "--bench copy --profile is refused: $(head -n1 "$tmp/copy.log")" [ "$rc" -eq 1 ]
"$RUN" "$DIR/resnet18.mtia" -i "$dev" --input "$DIR/resnet18.input0.npy" --profile /nonexistent/dir/p.json \
  >"$tmp/bad.log" 2>&1
rc=$?
grep -q "cannot write profile" "$tmp/bad.log" || rc=x
check "an unwritable --profile path fails clearly: $(grep mtia-run: "$tmp/bad.log" | head -n1 | cut -c1-120)" \
  [ "$rc" = 1 ]
finish

#!/usr/bin/env bash
# Runs the libFuzzer targets (docs/reliability.md):
#   tests/fuzz/run-fuzz.sh [--seconds S] [--runs N] [--regress-only] [--no-build] [name...]
# Configures and builds build/fuzz (clang, -DMTIA_FUZZ=ON) if needed (not
# with --no-build: for a second runner beside one that built), then
# per target (all of build/fuzz/fuzzers.txt, or the names given):
#   1. runs every input of tests/fuzz/regress/<name>/ once (the reproducers
#      of bugs fuzzing found: a regression test);
#   2. fuzzes for S seconds (default 5) or N executions from a fresh work
#      corpus build/fuzz/work/<name>: the committed seeds
#      tests/fuzz/corpus/<name>/ plus seeds derived from build outputs
#      (compiled test models, the firmware image, the command corpus);
#      libFuzzer flags from tests/fuzz/<name>.options (one line, optional);
# and prints "fuzz <name>: <execs> execs, <features> features, <edges>
# edges, <crashes> crashes" (libFuzzer's final stats and last status line).
# A crash, leak, timeout or out-of-memory input is saved under
# build/fuzz/crashes/<name>/ and fails the target. Ends with
# "N passed, N failed" over the targets. Logs: build/fuzz/logs/<name>.log.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
fuzz=build/fuzz
seconds=5 runs="" regress_only=0 build=1 names=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --regress-only) regress_only=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run-fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done

# ---- build -------------------------------------------------------------------
mkdir -p $fuzz/logs
if [ "$build" = 1 ] && [ ! -f $fuzz/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B $fuzz -G Ninja -DMTIA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >$fuzz/logs/configure.log 2>&1 || { cat $fuzz/logs/configure.log; echo "0 passed, 1 failed"; exit 1; }
fi
if [ "$build" = 1 ] && ! ninja -C $fuzz -j"${JOBS:-2}" fuzz >$fuzz/logs/build.log 2>&1; then
  tail -n 40 $fuzz/logs/build.log
  echo "fuzz build failed (log: $fuzz/logs/build.log)"
  echo "0 passed, 1 failed"
  exit 1
fi
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(grep -v '^$' $fuzz/fuzzers.txt)

# ---- seeds -------------------------------------------------------------------
# small MAX_BYTES FILES...: those of the files of at most MAX_BYTES.
small() {
  local max=$1 f
  shift
  for f in "$@"; do
    if [ -f "$f" ] && [ "$(stat -c %s "$f")" -le "$max" ]; then echo "$f"; fi
  done
}
# copy_small MAX_BYTES DIR FILES...
copy_small() {
  local max=$1 dir=$2 f
  shift 2
  small "$max" "$@" | while read -r f; do cp "$f" "$dir/"; done
}

# Seeds that come from build outputs (not committed): what exists is used.
derived_seeds() {
  local name=$1 dir=$2 models
  shopt -s nullglob
  case $name in
    model_loader) copy_small 65536 "$dir" build/models/*.mtia build/models/bad/*.mtia ;;
    onnx_import) copy_small 32768 "$dir" build/models/*.onnx ;;
    compute_validate)
      mapfile -t models < <(small 1048576 build/models/*.mtia)
      $fuzz/bin/fuzz-seeds programs "$dir" "${models[@]}" 2>/dev/null ;;
    bootrom) copy_small 1048576 "$dir" build/firmware/mtia/*.bin ;;
    npy) copy_small 65536 "$dir" build/models/*.npy build/models/bad/*.npy ;;
    driver_cmd) $fuzz/bin/fuzz-seeds commands "$dir" ;;
  esac
  shopt -u nullglob
}

# ---- one target ---------------------------------------------------------------
# stat KEY LOG: libFuzzer's "stat::KEY: N".
stat_of() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n1; }
# status FIELD LOG: FIELD ("cov:" or "ft:") of the last status line.
status_of() { grep -E '^#[0-9]+' "$2" | grep -o "$1 [0-9]*" | tail -n1 | awk '{print $2}'; }

run_target() {
  local name=$1
  local bin=$fuzz/bin/fuzz_$name log=$fuzz/logs/$name.log work=$fuzz/work/$name
  local crashes=$fuzz/crashes/$name opts=() regress=() f rc execs ft cov ncrash stamp
  [ -x "$bin" ] || { echo "fuzz $name: no $bin"; return 1; }
  [ -f "tests/fuzz/$name.options" ] && read -r -a opts <"tests/fuzz/$name.options"
  mkdir -p "$crashes"
  : >"$log"

  shopt -s nullglob
  regress=(tests/fuzz/regress/"$name"/*)
  shopt -u nullglob
  if [ ${#regress[@]} -gt 0 ]; then
    if ! "$bin" "${opts[@]}" "${regress[@]}" >>"$log" 2>&1; then
      grep -E 'ERROR|Running:|property violated|SUMMARY' "$log" | tail -n 8
      echo "fuzz $name: regression inputs fail (tests/fuzz/regress/$name, log: $log)"
      return 1
    fi
    echo "fuzz $name: ${#regress[@]} regression inputs pass"
  fi
  [ "$regress_only" = 1 ] && return 0

  rm -rf "$work" && mkdir -p "$work"
  [ -d "tests/fuzz/corpus/$name" ] && cp "tests/fuzz/corpus/$name"/* "$work/" 2>/dev/null
  derived_seeds "$name" "$work"
  stamp=$fuzz/logs/$name.start
  touch "$stamp"
  local limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  "$bin" "${opts[@]}" "${limit[@]}" -print_final_stats=1 -artifact_prefix="$crashes/" "$work" >>"$log" 2>&1
  rc=$?
  execs=$(stat_of number_of_executed_units "$log")
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#')
  ft=$(status_of ft: "$log") cov=$(status_of cov: "$log")
  ncrash=$(find "$crashes" -type f -newer "$stamp" | wc -l)
  # A run stopped by SIGINT (libFuzzer prints its stats and exits 72) is no crash.
  if [ "$rc" -ne 0 ] && [ "$ncrash" -eq 0 ] && ! grep -q 'libFuzzer: run interrupted' "$log"; then ncrash=1; fi
  echo "fuzz $name: ${execs:-0} execs, ${ft:-0} features, ${cov:-0} edges, $ncrash crashes"
  if [ "$ncrash" -ne 0 ]; then
    grep -E 'ERROR: |property violated|SUMMARY|Test unit written' "$log" | head -n 6
    echo "  reproduce: $bin $(find "$crashes" -type f -newer "$stamp" | head -n1)   (log: $log)"
    return 1
  fi
}

pass=0 fail=0
for n in "${names[@]}"; do
  if run_target "$n"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

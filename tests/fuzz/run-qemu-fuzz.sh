#!/usr/bin/env bash
# QEMU's generic-fuzz over the mtia device (docs/reliability.md, "QEMU's
# generic-fuzz over the device"): the libFuzzer binary qemu-fuzz-x86_64 from
# qemu-device/build-qemu-fuzz.sh (built here if needed) drives a q35 machine
# with two mtia devices (MMU on and off) through MMIO on their BARs (registers,
# doorbells, device memory, MSI-X table and PBA), PCI config space and DMA
# patterns, with ASan and UBSan watching the device glue and core.
#
#   tests/fuzz/run-qemu-fuzz.sh [--seconds S] [--regress-only]
#
# 1. replays every input in tests/fuzz/regress/qemu-generic-mtia/ (each a bug
#    found and fixed) REGRESS_RUNS times (default 50: some were races); any
#    crash or sanitizer report fails the run;
# 2. reach check: replays the firmware seeds once with the device's trace
#    events on (tests/fuzz/qemu-generic-mtia-reach.py) and prints
#      reach qemu-generic-mtia: firmware booted in B of N seeds, commands completed in C of M queue seeds (...)
#    failing the run unless every one booted the firmware on the device it
#    meant (MMU on and off) and every command it queued posted its CQE;
# 3. fuzzes for S seconds (default 60) from the seeds in
#    tests/fuzz/corpus/qemu-generic-mtia/ and those that boot the firmware
#    (written at run time: tests/fuzz/qemu-generic-mtia-seeds.py), keeping
#    what it finds in the work corpus build/qemu-fuzz/work/qemu-generic-mtia
#    (kept between runs), and prints
#      fuzz qemu-generic-mtia: <execs> execs, <ft> features, <cov> edges, <crashes> crashes
#    from libFuzzer's final stats; a crash, sanitizer report or hang (a
#    command that takes more than 20 s) saves its input under
#    build/qemu-fuzz/crashes/qemu-generic-mtia/ and fails the run;
# 4. replays up to REACH_SAMPLE (default 200) inputs of the work corpus the
#    same traced way and prints
#      reach qemu-generic-mtia: N of M corpus inputs ran commands (...)
#    (firmware fetched an SQE: the input booted it and reached the queues).
# Ends with "N passed, N failed" (one target). Builds QEMU's fuzzer and the
# firmware first if needed. Belongs to `make fuzz`, not `make test`: the
# clang build of QEMU takes a while. Environment: JOBS for the build
# (default 2), QEMU_FUZZ_EXTRA (more libFuzzer arguments), REGRESS_RUNS,
# REACH_SAMPLE.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
name=qemu-generic-mtia
seconds=60
regress_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
        --seconds=*) seconds=${1#--seconds=}; shift ;;
        --regress-only) regress_only=1; shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
        *) echo "run-qemu-fuzz: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$seconds" in ''|*[!0-9]*) echo "run-qemu-fuzz: --seconds wants a whole number" >&2; exit 2 ;; esac

bin="$top/build/qemu-fuzz/qemu-fuzz-x86_64"
seeds="$top/tests/fuzz/corpus/$name"
regress="$top/tests/fuzz/regress/$name"
work="$top/build/qemu-fuzz/work/$name"
crashes="$top/build/qemu-fuzz/crashes/$name"
logdir="$top/build/qemu-fuzz/logs"

fw="$top/build/firmware/mtia/mtia-fw.bin"
fwseeds="$top/build/qemu-fuzz/seeds-fw"
buildlog="$top/build/qemu-fuzz-build.log"
{ JOBS=${JOBS:-2} "$top/qemu-device/build-qemu-fuzz.sh" && make -C "$top" firmware; } >"$buildlog" 2>&1 ||
    { tail -n 30 "$buildlog" >&2
      echo "run-qemu-fuzz: build failed (log: build/qemu-fuzz-build.log)" >&2
      echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$work" "$crashes" "$logdir"
# Seeds that boot the project's firmware (x-fw-image below) need its size.
rm -rf "$fwseeds"
python3 "$top/tests/fuzz/qemu-generic-mtia-seeds.py" --fw-size "$(stat -c %s "$fw")" "$fwseeds" >/dev/null

# The machine: q35 as the VMs have it (tools/mtia-vm), the devices with a
# small device memory. Both sit on the root bus: generic-fuzz reaches PCI
# config space through 0xcf8/0xcfc on bus 0 only and maps the BARs only of
# the devices it finds there, so behind a pcie-root-port their BARs would stay
# unmapped. The x- properties (qemu-device/qemu/mtia.c) make the device
# fuzzable: x-fork-safe, since the fuzzer runs each input in a child forked
# after the device was created; x-settle-us, so that each BAR0 write's effects
# (firmware, engine, their DMA) are over before the fuzzer's next step;
# x-fw-image, the firmware in device memory, so FW_STAGE_SIZE and FW_BOOT
# boot it and the queues have firmware to fetch and dispatch their commands.
# The fuzzer adds -machine accel=qtest -m 512M.
dev="devmem-size=16M,x-fork-safe=on,x-settle-us=500000,x-fw-image=$fw"
export QEMU_FUZZ_ARGS="-machine q35 -nodefaults \
 -device mtia,id=mtia0,addr=04.0,$dev -device mtia,id=mtia1,addr=05.0,mmu=off,$dev"
# Every MemoryRegion of the devices: BAR0 (registers and doorbell pages),
# BAR2 (device memory: stores trap to the device), BAR4 (MSI-X table, PBA).
export QEMU_FUZZ_OBJECTS="mtia"
# No per-command timeout of generic-fuzz's own (it would end a hung child
# silently): libFuzzer's -timeout reports a hang as a failure instead.
export QEMU_FUZZ_TIMEOUT=0
# QEMU leaks at exit by design; UBSan's reports become failures.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

{ echo "QEMU_FUZZ_ARGS=\"$QEMU_FUZZ_ARGS\""; echo "QEMU_FUZZ_OBJECTS=$QEMU_FUZZ_OBJECTS"; } >"$logdir/env"
fuzz=("$bin" --fuzz-target=generic-fuzz)
# -detect_leaks=0: else libFuzzer runs an input again whenever its mallocs
# and frees did not match (QEMU's first input sets the machine up), so the
# replays below would see some inputs twice.
common=(-timeout=20 -rss_limit_mb=4096 -detect_leaks=0 "-artifact_prefix=$crashes/")

# generic-fuzz runs each input in a forked child and ignores how the child
# ended: a sanitizer report there leaves libFuzzer's exit status 0 when
# inputs are replayed. So a replay fails on its log too. Usage: clean LOG
clean() {
    ! grep -qE '^==[0-9]+==ERROR: |^SUMMARY: [A-Za-z]+Sanitizer|runtime error: |^==[0-9]+== ERROR: libFuzzer' "$1"
}

# Replays inputs once with the device's trace events that show how far each
# got (qemu-generic-mtia-reach.py reads them): its register reads, the SQEs
# firmware fetched, the CQEs posted. Usage: replay LOG FILE...
replay() {
    local log=$1
    shift
    QEMU_FUZZ_ARGS="$QEMU_FUZZ_ARGS -trace mtia_mmio_read -trace mtia_sqe_fetch -trace mtia_cqe_posted" \
        "${fuzz[@]}" "${common[@]}" -runs=1 "$@" >"$log" 2>&1 && clean "$log"
}

failed=0
# ---- 1. regression inputs --------------------------------------------------
# Each REGRESS_RUNS times: some were races, which one replay may miss.
shopt -s nullglob
inputs=("$regress"/*)
shopt -u nullglob
runs=${REGRESS_RUNS:-50}
if [ "${#inputs[@]}" -gt 0 ]; then
    log="$logdir/regress.log"
    if "${fuzz[@]}" "${common[@]}" -runs="$runs" "${inputs[@]}" >"$log" 2>&1 && clean "$log"; then
        echo "regress $name: ${#inputs[@]} inputs replayed $runs times each, 0 crashes"
    else
        grep -E 'ERROR: |runtime error|SUMMARY' "$log" | head -n 10 >&2 || tail -n 40 "$log" >&2
        echo "regress $name: FAILED (log: ${log#"$top"/})"
        failed=1
    fi
fi

# ---- 2. reach check ------------------------------------------------------------
if [ "$regress_only" = 0 ] && [ "$failed" = 0 ]; then
    log="$logdir/reach-seeds.log"
    if ! replay "$log" "$fwseeds"/*; then
        grep -E 'ERROR: |runtime error|SUMMARY' "$log" | head -n 10 >&2 || tail -n 40 "$log" >&2
        echo "reach $name: FAILED, the seeds' replay crashed (log: ${log#"$top"/})"
        failed=1
    elif ! python3 "$top/tests/fuzz/qemu-generic-mtia-reach.py" seeds "$log"; then
        echo "run-qemu-fuzz: a seed missed what it is for (log: ${log#"$top"/})" >&2
        failed=1
    fi
fi

# ---- 3. fuzzing --------------------------------------------------------------
if [ "$regress_only" = 0 ] && [ "$failed" = 0 ]; then
    # Failures: every artifact but libFuzzer's slow-unit-* (an input over
    # 10 s, reported, not a failure: -timeout=20 is the hang bound).
    artifacts() { find "$crashes" -type f ! -name 'slow-unit-*' | wc -l; }
    before=$(artifacts)
    slow_before=$(find "$crashes" -type f -name 'slow-unit-*' | wc -l)
    log="$logdir/fuzz.log"
    rc=0
    # shellcheck disable=SC2086 # QEMU_FUZZ_EXTRA is a list of arguments
    "${fuzz[@]}" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        ${QEMU_FUZZ_EXTRA:-} "$work" "$seeds" "$fwseeds" >"$log" 2>&1 || rc=$?
    ncrash=$(($(artifacts) - before))
    nslow=$(($(find "$crashes" -type f -name 'slow-unit-*' | wc -l) - slow_before))
    # Died, or a child reported, without an artifact:
    { [ "$rc" = 0 ] && clean "$log"; } || [ "$ncrash" -gt 0 ] || ncrash=1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # The last status line: "#N  <event>  cov: E ft: F corp: ..."
    status=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    echo "fuzz $name: ${execs:-0} execs, ${ft:-0} features, ${cov:-0} edges, $ncrash crashes"
    [ "$nslow" = 0 ] || echo "slow $name: $nslow inputs took over 10 s (${crashes#"$top"/}/slow-unit-*)"
    if [ "$ncrash" -gt 0 ]; then
        grep -E 'ERROR: |runtime error|SUMMARY|Test unit written' "$log" | head -n 10 >&2 || true
        echo "run-qemu-fuzz: see ${log#"$top"/}; inputs in ${crashes#"$top"/}/" >&2
        failed=1
    fi

    # ---- 4. how much of the work corpus reaches the queues ------------------
    # An even sample across the corpus (sorted by name, i.e. by content hash).
    mapfile -t corpus < <(find "$work" -maxdepth 1 -type f | sort)
    sample=${REACH_SAMPLE:-200}
    step=$(( (${#corpus[@]} + sample - 1) / (sample > 0 ? sample : 1) ))
    picked=()
    for ((i = 0; i < ${#corpus[@]} && sample > 0; i += step)); do picked+=("${corpus[i]}"); done
    if [ "${#picked[@]}" -gt 0 ]; then
        log="$logdir/reach-corpus.log"
        if ! replay "$log" "${picked[@]}"; then
            grep -E 'ERROR: |runtime error|SUMMARY' "$log" | head -n 10 >&2 || tail -n 40 "$log" >&2
            echo "reach $name: FAILED, a corpus input crashed on replay (log: ${log#"$top"/})"
            failed=1
        fi
        python3 "$top/tests/fuzz/qemu-generic-mtia-reach.py" corpus "$log" || failed=1
    fi
fi

echo "$((1 - failed)) passed, $failed failed"
[ "$failed" = 0 ]

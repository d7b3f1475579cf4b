#!/usr/bin/env bash
# Runs every test suite and ends with the combined "N passed, N failed".
# Called by `make test` after setup and build. Logs go to build/test-logs/.
#   host:  test models (PyTorch -> ONNX -> .mtia), unit + ABI tests
#          (ctest), driver checkpatch, kernel-doc and function length,
#          C++ format (clang-format), QEMU qtests, libFuzzer targets (5 s
#          each, their regression inputs; tests/fuzz/run-fuzz.sh), SDK install into a
#          DESTDIR + examples built out of tree, Debian packages (lintian,
#          apt install in a clean root, DKMS build), VM-harness self-test
#   guest: libmtia/ioctl gtests, mtia-smi, models, serving... (the "use"
#          group of tests/vm/run-vm-tests.sh, one VM, 2 devices); the SDK
#          examples, driver reload, firmware, PM, PCIe (its "lifecycle"
#          group, another VM); the infoROM's ECC counts across two boots;
#          the fault matrix (tests/vm/test-faults.sh); the ioctl fuzzer
#          and the soak, short; ONNX's backend conformance
#          tests, every 2nd case within the claimed set (tests/conformance/
#          run.sh --every 2: fails on a wrong answer, a compiler or run
#          error, or < 90%); each in a VM of its own with 2 devices
# Two lanes run side by side: a guest runs on one TCG thread, so the VM
# lane (the "use" group, then the fault matrix, fuzzer and soak) leaves the
# second core to the host suites, which the other lane runs, then its VMs.
# The VM lane's output is printed after the other's; each suite's log is in
# build/test-logs/ either way.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logs=build/test-logs
mkdir -p "$logs"

# One line per suite, "PASSED FAILED NAME", from either lane.
results=$logs/results started=$logs/started
: >"$results"
: >"$started"
# A suite that replaces /dev/null (say, a tool renaming its output over it)
# breaks everything after it that reads or writes it: name the culprit.
devnull_ok=0
if [ -c /dev/null ]; then devnull_ok=1; else echo "warning: /dev/null is not a character device on this host"; fi
# suite NAME CMD...: runs CMD, adds its last "N passed, N failed" line (or
# ctest's summary) to $results; a suite that fails without one counts 1.
suite() {
  local name=$1; shift
  local file=${name// /-}
  local log="$logs/${file//\//-}.log" start=$SECONDS rc p f line
  echo "$name" >>"$started"
  echo "=================== $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '([0-9]+ passed, [0-9]+ failed|tests passed, [0-9]+ tests failed out of)' "$log" | tail -n1)
  if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
  elif [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
    f=${BASH_REMATCH[1]} p=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
  else
    p=0 f=0
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$devnull_ok" = 1 ] && [ ! -c /dev/null ]; then
    echo "FAIL: /dev/null is no longer a character device after this suite"
    f=$((f + 1)) devnull_ok=0
  fi
  echo "$p $f $name" >>"$results"
  echo "=================== $name: $p passed, $f failed ($((SECONDS - start)) s)"
}

checkpatch() {
  local cp=build/deps/checkpatch/scripts/checkpatch.pl
  if "$cp" --strict --no-tree --terse -f driver/*.c driver/*.h; then
    echo "1 passed, 0 failed"
  else
    echo "0 passed, 1 failed"; return 1
  fi
}

# The driver's kernel-doc comments through the kernel's own scripts/kernel-doc
# (6.12, from the guest kernel's kbuild package that driver/build.sh builds
# against): any warning fails.
kerneldoc() {
  local kd out
  kd=build/deps/guest/root/usr/src/linux-headers-$(cat build/deps/guest/kver 2>/dev/null)/scripts/kernel-doc
  if [ ! -x "$kd" ]; then
    echo "no scripts/kernel-doc at $kd (scripts/fetch-guest-kernel.sh)"
    echo "0 passed, 1 failed"; return 1
  fi
  out=$("$kd" -none driver/*.c driver/*.h 2>&1)
  if [ -z "$out" ] && "$kd" -none driver/*.c driver/*.h >/dev/null 2>&1; then
    echo "1 passed, 0 failed"
  else
    printf '%s\n' "$out"
    echo "0 passed, 1 failed"; return 1
  fi
}

# No driver function over 80 lines (tests/driver-func-length.py prints
# those that are, and the longest one).
funclength() {
  /usr/bin/python3 tests/driver-func-length.py
}

# The in-VM suites (GROUP: use or lifecycle) boot two devices with different
# properties, each behind its own root port (the second after the first in
# PCI order); iomem=relaxed lets test-driver.sh poke BAR0 through sysfs to
# provoke a device error.
vm_suite() {
  # --timeout: only a hang guard, sized for a slowed or loaded host.
  tools/mtia-vm run --timeout 2700 --devices 1 --device-opts devmem-size=256M --append iomem=relaxed \
    --qemu-arg=-device --qemu-arg=pcie-root-port,id=rp-b,chassis=31,slot=31 \
    --qemu-arg=-device --qemu-arg=mtia,id=mtia-b,bus=rp-b,devmem-size=512M,pe-rows=4,pe-cols=16,mmu=off \
    --env MTIA_EXPECT_DEVICES=268435456:8x8,536870912:4x16 \
    -- tests/vm/run-vm-tests.sh "$1"
}

# The fault matrix (docs/fault-injection.md) in a VM of its own: it gives
# both of its devices up on purpose (reset-rate cap, link down).
fault_suite() {
  tools/mtia-vm run --timeout 900 --devices 2 -- tests/vm/test-faults.sh
}

# Hostile input and long runs, short (make fuzz and make soak run them
# long; docs/reliability.md): the ioctl fuzzer, then the soak, each in a VM
# of its own with two devices.
ioctl_fuzz_suite() {
  tools/mtia-vm run --timeout 600 --devices 2 -- tests/vm/test-ioctl-fuzz.sh "${MTIA_IOCTL_FUZZ_S:-15}"
}
soak_suite() {
  tools/mtia-vm run --timeout 900 --devices 2 --env MTIA_SOAK_PERIOD=3 -- tests/vm/soak.sh "${MTIA_SOAK_S:-40}"
}

# Test models: PyTorch -> ONNX with reference outputs, then mtia-compile
# (only what is stale). The compiler's unit tests and the in-VM model suite
# use them; the batch-bucket models (tests/vm/test-buckets.sh), the
# reduced-precision ones (tests/vm/test-precision.sh) and the accuracy
# test's CNN, trained here on its synthetic set (tests/vm/test-accuracy.sh).
prepare_models() {
  tests/vm/test-models.sh --prepare && tests/vm/test-buckets.sh --prepare && tests/vm/test-precision.sh --prepare &&
    tests/vm/test-accuracy.sh --prepare && echo "1 passed, 0 failed"
}

suite "test models (PyTorch export, mtia-compile)" prepare_models
suite "mtia-serve's models (mtia-compile, batch buckets)" bash -c 'tests/vm/test-serve.sh --prepare && echo "1 passed, 0 failed"'

vm_lane() {
  suite "in-vm (use)" vm_suite use
  suite "fault matrix (faults injected from the QEMU monitor)" fault_suite
  suite "ioctl fuzzer (short)" ioctl_fuzz_suite
  suite "soak (short: load, faults, unbind and rebind, reload)" soak_suite
}
vm_lane >"$logs/vm-lane.out" 2>&1 &
vm_lane_pid=$!
echo "=================== the VM lane runs in the background (log: $logs/vm-lane.out)"

suite "unit tests" ctest --test-dir build/cmake --output-on-failure
suite "driver checkpatch" checkpatch
suite "driver kernel-doc" kerneldoc
suite "driver function length" funclength
suite "C++ format (clang-format-14, .clang-format)" tests/format-check.sh
suite "qemu qtests" qemu-device/run-qtests.sh
suite "fuzzing (libFuzzer, short)" tests/fuzz/run-fuzz.sh --seconds 5
suite "SDK install (make install, examples out of tree)" tests/sdk-install.sh
suite "Debian packages (build, lintian, apt install in a clean root, DKMS)" tests/deb-install.sh
suite "vm harness" tests/vm/test-harness.sh
suite "infoROM across power cycles (two boots)" tests/vm/test-inforom.sh
# After the SDK and the packages: it builds against the one, loads the other.
suite "in-vm (lifecycle)" vm_suite lifecycle
# Every 2nd case halves its time; `make conformance` runs them all.
suite "ONNX conformance (libonnx-testdata, every 2nd claimed case)" tests/conformance/run.sh --every 2

lane_start=$SECONDS
wait "$vm_lane_pid"
lane_rc=$?
echo "=================== the VM lane (its end waited for: $((SECONDS - lane_start)) s)"
cat "$logs/vm-lane.out"

total_pass=0 total_fail=0 suites_failed=()
while read -r p f name; do
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
  [ "$f" -eq 0 ] || suites_failed+=("$name")
done <"$results"
# A lane killed in a suite leaves a suite started with no result.
if [ "$lane_rc" -ne 0 ] || [ "$(wc -l <"$results")" -ne "$(wc -l <"$started")" ]; then
  echo "FAIL: the VM lane ended early (exit $lane_rc): $(wc -l <"$results") of $(wc -l <"$started") suites ended"
  total_fail=$((total_fail + 1))
fi

echo
[ ${#suites_failed[@]} -eq 0 ] || echo "failed suites: ${suites_failed[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

#!/usr/bin/env bash
# The board's infoROM across power cycles (docs/telemetry.md "Aggregate ECC
# counts"), from the host: boots a VM whose device has inforom=FILE (a new
# file), injects ECC errors (debugfs ecc_inject) and clears the volatile
# counts, powers off; boots a second VM on the same file: the aggregate
# counts are back, the volatile ones 0 (a new power-on). QEMU refusing a bad
# file at realize is qemu-device/run-qtests.sh's; the counting and clearing
# within one boot, test-telemetry.sh's. Last line: "N passed, N failed".
#   tests/vm/test-inforom.sh            (host: runs both boots)
#   tests/vm/test-inforom.sh --guest inject|check  (what each boot runs)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

if [ "${1:-}" = --guest ]; then
  # shellcheck source=tests/vm/lib.sh
  . tests/vm/lib.sh
  need_device
  dev=${devs[0]}
  agg() { echo "$(sysattr "$dev" ecc_corrected_aggregate) $(sysattr "$dev" ecc_uncorrected_aggregate)"; }
  vol() { echo "$(sysattr "$dev" ecc_corrected) $(sysattr "$dev" ecc_uncorrected)"; }
  case $2 in
    inject)
      [ "$(agg)" = "0 0" ] && pass "a new infoROM: aggregate counts 0" || fail "a new infoROM: aggregate $(agg)"
      inj=/sys/kernel/debug/accel/$dev/ecc_inject
      echo "corrected 7" >"$inj" && echo "uncorrected 3" >"$inj"
      echo volatile >"$(sysd "$dev")/mtia/ecc_clear"
      [ "$(agg)" = "7 3" ] && [ "$(vol)" = "0 0" ] && pass "injected 7 and 3, volatile cleared" ||
        fail "after injecting and clearing: aggregate $(agg), volatile $(vol)"
      ;;
    check)
      [ "$(agg)" = "7 3" ] && pass "after a power cycle the aggregate counts are back ($(agg))" ||
        fail "after a power cycle: aggregate $(agg), want 7 3"
      [ "$(vol)" = "0 0" ] && pass "and the volatile ones start at 0" || fail "after a power cycle: volatile $(vol)"
      out=$(build/bin/mtia-smi -i "$dev" --query-gpu=ecc.errors.corrected.aggregate.total --format=csv,noheader)
      [ "$out" = 7 ] && pass "mtia-smi reads the lifetime count (7)" || fail "mtia-smi aggregate: $out"
      ;;
  esac
  finish
fi

# shellcheck source=tests/checks.sh
. tests/checks.sh
# In build/: the guest sees the repo, not the host's /tmp.
rom=$top/build/test-inforom/board.irom
rm -rf "${rom%/*}"
mkdir -p "${rom%/*}"
on_finish() { rm -rf "${rom%/*}"; }
boot() { # STEP
  local out rc
  out=$(tools/mtia-vm run --timeout 300 --devices 1 --device-opts "inforom=$rom" -- \
    tests/vm/test-inforom.sh --guest "$1" 2>&1)
  rc=$?
  echo "$out" | grep -E '^(PASS|FAIL):'
  passed=$((passed + $(grep -c '^PASS:' <<<"$out")))
  failed=$((failed + $(grep -c '^FAIL:' <<<"$out")))
  [ "$rc" -eq 0 ] && pass "boot '$1' ended cleanly" || fail "boot '$1': exit $rc: $(tail -n 20 <<<"$out")"
}
boot inject
[ "$(stat -c %s "$rom" 2>/dev/null)" = 24 ] && pass "the infoROM file is on the host (24 bytes)" ||
  fail "no infoROM file at $rom after the first boot"
boot check
finish

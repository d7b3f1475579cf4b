#!/usr/bin/env bash
# mtia-open: QEMU-level tests of the mtia device.
#   1. the libqtest suite tests/qtest/mtia-test (one check per test case)
#   2. bad -device properties: QEMU must exit non-zero with a message naming
#      the property, never crash; the same through QMP device_add
#   3. good configurations start, and the device shows up in query-pci
#   4. SeaBIOS boots a q35 machine with the firmware dirs of qemu-env.sh
# Prints one line per check and ends with "N passed, N failed".
# Needs: qemu-device/build-qemu.sh (make qemu) first.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=qemu-env.sh
source "$here/qemu-env.sh"
bld="$top/build/qemu"
qtest_bin="$bld/tests/qtest/mtia-test"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }

if [ ! -x "$QEMU_BIN" ] || [ ! -x "$qtest_bin" ]; then
    fail "build: $QEMU_BIN or $qtest_bin missing (run make qemu)"
    echo "$passed passed, $failed failed"
    exit 1
fi

describe_rc() { # exit status -> words
    if [ "$1" -eq 124 ]; then echo "timed out"
    elif [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"
    else echo "exit status $1"; fi
}

# ---- 1. libqtest suite -------------------------------------------------------
echo "== qtest: tests/qtest/mtia-test"
# The real firmware (make firmware), for /mtia/queue/real-fw; skipped without it.
fw_image="$top/build/firmware/mtia/mtia-fw.bin"
[ -f "$fw_image" ] && export MTIA_FW_IMAGE="$fw_image"
(cd "$bld" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
    timeout 300 ./tests/qtest/mtia-test --tap -k) > "$tmp/qtest.log" 2>&1
rc=$?
n_ok=0; n_notok=0
while IFS= read -r line; do
    case "$line" in
        "ok "*"# SKIP"*) pass "qtest ${line#ok } (skipped)" ;;
        "ok "*)     n_ok=$((n_ok + 1)); pass "qtest ${line#ok }" ;;
        "not ok "*) n_notok=$((n_notok + 1)); fail "qtest ${line#not ok }" ;;
    esac
done < "$tmp/qtest.log"
if [ "$rc" -ne 0 ] || [ "$n_ok" -eq 0 ]; then
    [ "$n_notok" -gt 0 ] || fail "qtest binary: $(describe_rc "$rc") after $n_ok passing cases"
    echo "---- qtest output (tail) ----"
    tail -n 25 "$tmp/qtest.log"
    echo "-----------------------------"
fi

# ---- 2. bad properties -------------------------------------------------------
echo "== bad -device properties"
base=(-machine q35 -display none -nodefaults -S -monitor none -serial none)
bad_prop() { # property=value
    local prop=$1 name=${1%%=*} dev="mtia,$1" rc msg
    timeout 20 "$QEMU_BIN" "${QEMU_L_ARGV[@]}" "${base[@]}" -device "$dev" \
        </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    # QEMU echoes the option ("-device mtia,x=y: "); judge what follows it.
    msg=$(tr '\n' ' ' < "$tmp/err")
    msg=${msg#*"-device $dev: "}
    if [ "$rc" -eq 1 ] && grep -qF -- "$name" <<<"$msg"; then
        pass "$prop rejected: $msg"
    elif [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
        fail "$prop accepted ($(describe_rc "$rc"))"
    else
        fail "$prop: $(describe_rc "$rc"), message: $(tr '\n' ' ' < "$tmp/err")"
    fi
}
for p in devmem-size=3M devmem-size=512K devmem-size=128G sram-size=3M \
         pe-rows=0 pe-rows=65 pe-cols=0 msix-vectors=0 msix-vectors=1000 \
         revision=256 mmu=maybe; do
    bad_prop "$p"
done
# fw-pubkey: 64 hex digits that are an Ed25519 key (zeros: a small-order point)
zeros=$(printf '0%.0s' $(seq 64))
for p in fw-pubkey= fw-pubkey=abcd "fw-pubkey=${zeros}0" "fw-pubkey=g${zeros:1}" \
         "fw-pubkey=$zeros" "fw-pubkey=01${zeros:2}"; do
    bad_prop "$p"
done
# inforom: a truncated file, one that is not an infoROM, a directory that
# does not exist (docs/telemetry.md "Aggregate ECC counts")
printf 'MTIAI' >"$tmp/short.irom"
printf 'not an mtia infoROM, no.' >"$tmp/junk.irom"
for p in "inforom=$tmp/short.irom" "inforom=$tmp/junk.irom" "inforom=$tmp/no/such/dir.irom"; do
    bad_prop "$p"
done

# ---- 3. good configurations start ---------------------------------------------
echo "== good configurations"
qmp_run() { # device-args... ; QMP session on stdin/stdout, quits at the end
    {
        echo '{"execute":"qmp_capabilities"}'
        echo '{"execute":"query-pci"}'
        sleep 0.3
        echo '{"execute":"quit"}'
    } | timeout 30 "$QEMU_BIN" "${QEMU_L_ARGV[@]}" -machine q35 -display none \
        -nodefaults -S -monitor none -serial none -qmp stdio "$@" \
        >"$tmp/out" 2>"$tmp/err"
}
good_cfg() { # description device-args...
    local what=$1 rc; shift
    qmp_run "$@"
    rc=$?
    # vendor 0x1d9b = 7579, device 0x0a01 = 2561, class 0x1200 = 4608
    if [ "$rc" -eq 0 ] && grep -q '"vendor": 7579' "$tmp/out" &&
       grep -q '"device": 2561' "$tmp/out" && grep -q '"class": 4608' "$tmp/out"; then
        pass "$what starts, device in query-pci"
    else
        fail "$what: $(describe_rc "$rc"): $(tr '\n' ' ' < "$tmp/err" | head -c 400)"
    fi
}
good_cfg "-device mtia (defaults)" -device mtia
good_cfg "-device mtia, all properties" \
    -device mtia,devmem-size=64M,sram-size=256M,pe-rows=4,pe-cols=16,msix-vectors=32,revision=2,mmu=off
good_cfg "two devices" -device mtia,devmem-size=16M -device mtia,devmem-size=32M,id=acc1
devkey=$(grep -v '^#' "$top/firmware/keys/mtia-fw-dev.pub")
good_cfg "-device mtia,fw-pubkey=<the development key>" -device "mtia,fw-pubkey=$devkey"
good_cfg "-device mtia,inforom=<a new file>" -device "mtia,inforom=$tmp/new.irom"
[ "$(stat -c %s "$tmp/new.irom" 2>/dev/null)" = 24 ] && pass "a new infoROM file is created at realize" ||
    fail "inforom=$tmp/new.irom: no 24-byte file after realize"
# Behind a root port the bus is unnumbered until firmware runs, so query-pci
# cannot see the device yet: ask QOM instead.
{
    echo '{"execute":"qmp_capabilities"}'
    echo '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/acc0","property":"devmem-size"}}'
    echo '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/acc0","property":"realized"}}'
    sleep 0.3
    echo '{"execute":"quit"}'
} | timeout 30 "$QEMU_BIN" "${QEMU_L_ARGV[@]}" -machine q35 -display none \
    -nodefaults -S -monitor none -serial none -qmp stdio \
    -device pcie-root-port,id=rp0,chassis=1 -device mtia,bus=rp0,id=acc0,devmem-size=64M \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"return": 67108864' "$tmp/out" && grep -q '"return": true' "$tmp/out"; then
    pass "behind a pcie-root-port starts, device realized"
else
    fail "behind a pcie-root-port: $(describe_rc "$rc"): $(tr '\n' ' ' < "$tmp/err" "$tmp/out" | head -c 400)"
fi

# Hot-plug: device_add with a bad property fails cleanly and QEMU keeps
# running; a good one then plugs into the same (hot-pluggable) root port.
{
    echo '{"execute":"qmp_capabilities"}'
    echo '{"execute":"device_add","arguments":{"driver":"mtia","bus":"rp0","id":"x","pe-cols":0}}'
    echo '{"execute":"query-status"}'
    echo '{"execute":"device_add","arguments":{"driver":"mtia","bus":"rp0","id":"y","devmem-size":"16M"}}'
    echo '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/y","property":"realized"}}'
    sleep 0.3
    echo '{"execute":"quit"}'
} | timeout 30 "$QEMU_BIN" "${QEMU_L_ARGV[@]}" -machine q35 -display none \
    -nodefaults -S -monitor none -serial none -qmp stdio \
    -device pcie-root-port,id=rp0,chassis=1 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"error".*pe-cols' "$tmp/out" &&
   grep -q '"status": "prelaunch"' "$tmp/out" && grep -q '"return": true' "$tmp/out"; then
    pass "QMP device_add: pe-cols=0 refused, QEMU still running, good device plugged"
else
    fail "QMP device_add: $(describe_rc "$rc"): $(tr '\n' ' ' < "$tmp/out" | head -c 600)"
fi

if "$QEMU_BIN" -device mtia,help 2>&1 | grep -q 'devmem-size'; then
    pass "-device mtia,help lists the properties"
else
    fail "-device mtia,help does not list devmem-size"
fi

# ---- 4. firmware: SeaBIOS runs a q35 machine with an mtia in it ---------------
echo "== firmware"
accel=(-accel tcg)
[ -w /dev/kvm ] && accel=(-accel kvm -accel tcg)
timeout 8 "$QEMU_BIN" "${QEMU_L_ARGV[@]}" "${accel[@]}" -machine q35 -m 256 \
    -display none -nodefaults -monitor none -serial none -device mtia \
    -chardev file,id=dbg,path="$tmp/bios.log" -device isa-debugcon,iobase=0x402,chardev=dbg \
    </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 124 ] && grep -q SeaBIOS "$tmp/bios.log" 2>/dev/null; then
    pass "q35 boots SeaBIOS ($(grep -m1 -o 'SeaBIOS (version [^)]*)' "$tmp/bios.log"))"
else
    fail "q35 firmware boot: $(describe_rc "$rc"): $(tr '\n' ' ' < "$tmp/err" | head -c 400)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

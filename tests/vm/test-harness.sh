#!/usr/bin/env bash
# Self-test of tools/mtia-vm: exit codes, output, kernel-log checking,
# timeout, repo sharing, guest environment. Ends with "N passed, N failed".
# Checks that need build/driver/mtia.ko are skipped (not failed) without it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
vm="$top/tools/mtia-vm"
pass=0 fail=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# run NAME EXPECTED_RC [GREP_STDOUT] -- mtia-vm args...
check() {
    local name=$1 want=$2 pat=$3; shift 3
    [ "$1" = "--" ] && shift
    local t0=$SECONDS rc=0
    "$vm" run "$@" >"$out" 2>"$err" || rc=$?
    local ok=1 why=""
    if [ "$want" = "nonzero" ]; then
        [ "$rc" -ne 0 ] || { ok=0; why="exit 0, want non-zero"; }
    elif [ "$rc" -ne "$want" ]; then
        ok=0; why="exit $rc, want $want"
    fi
    if [ "$ok" = 1 ] && [ -n "$pat" ] && ! grep -qE -- "$pat" "$out" "$err"; then
        ok=0; why="output lacks /$pat/"
    fi
    if [ "$ok" = 1 ]; then
        pass=$((pass + 1)); echo "PASS  $name ($((SECONDS - t0)) s)"
    else
        fail=$((fail + 1)); echo "FAIL  $name: $why"
        sed 's/^/      out| /' "$out" | tail -n 15
        sed 's/^/      err| /' "$err" | tail -n 25
    fi
}
skip() { echo "SKIP  $1"; }
verdict() { # NAME SHELL-CONDITION
    if eval "$2"; then pass=$((pass + 1)); echo "PASS  $1"
    else fail=$((fail + 1)); echo "FAIL  $1"; fi
}

nd=--no-driver
check "devices=0 true"            0 ""                 -- --devices 0 $nd -- true
check "false exits 1"             1 ""                 -- --devices 0 $nd -- false
check "echo hi; exit 3"           3 "^hi$"             -- --devices 0 $nd -- 'echo hi; exit 3'
check "argv quoting"              0 "^<a  b> <c'd>$"   -- --devices 0 $nd -- printf '<%s> <%s>\n' 'a  b' "c'd"
check "fake WARN fails the run"   123 "WARNING: CPU: 0 PID: 1 at test" \
      -- --devices 0 $nd -- 'echo "WARNING: CPU: 0 PID: 1 at test" > /dev/kmsg'
check "fake BUG fails even if CMD fails" nonzero "BUG: mtia-vm-selftest" \
      -- --devices 0 $nd -- 'echo "BUG: mtia-vm-selftest" > /dev/kmsg; exit 0'
check "--allow-dmesg excuses a line" 0 "" \
      -- --devices 0 $nd --allow-dmesg 'WARNING: allowed-selftest' -- 'echo "WARNING: allowed-selftest" > /dev/kmsg'
# (During boot or after it, the timeout must end the run the same way.)
check "timeout kills QEMU"        124 "TIMEOUT"        -- --devices 0 $nd --timeout 5 -- 'sleep 600'
check "guest environment and modprobe" 0 "^env-ok drm$" -- --devices 0 $nd -- \
      '[ "$MTIA_IN_VM" = 1 ] && [ "$(pwd)" = "'"$top"'" ] &&
       [ -d "$MTIA_GUEST_ROOT/lib/modules/$(uname -r)" ] && [ -w /tmp ] &&
       modprobe -d "$MTIA_GUEST_ROOT" drm && echo "env-ok $(lsmod | awk "\$1 == \"drm\" { print \$1 }")"'
check "seq 1 10000 runs"          0 "^10000$"          -- --devices 0 $nd -- 'seq 1 10000'
verdict "10000 lines arrive intact, in order" \
        '[ "$(grep -cE "^[0-9]+$" "$out")" = 10000 ] && [ "$(seq 1 10000 | cmp - "$out" >/dev/null && echo same)" = same ]'

# Repo coherence: host -> guest and guest -> host through the 9p repo share.
tag="selftest-$$-$RANDOM"
mkdir -p "$top/build/vm"
echo "$tag" > "$top/build/vm/host-to-guest.$$"
check "repo shared both ways" 0 "^$tag$" -- --devices 0 $nd -- \
      "cat build/vm/host-to-guest.$$ && echo $tag-back > build/vm/guest-to-host.$$"
verdict "guest write visible on the host" \
        '[ "$(cat "$top/build/vm/guest-to-host.$$" 2>/dev/null)" = "$tag-back" ]'
rm -f "$top/build/vm/host-to-guest.$$" "$top/build/vm/guest-to-host.$$"

if [ -x "$top/build/qemu/qemu-system-x86_64" ]; then
    check "--devices 2 shows 2 PCI functions" 0 "^mtia-pci=2$" -- --devices 2 $nd -- \
          'echo mtia-pci=$(grep -l 0x1d9b /sys/bus/pci/devices/*/vendor | wc -l)'
fi
if [ -x "$top/build/qemu/qemu-system-x86_64" ]; then
    # The guest's monitor channel: QMP and HMP round trips, QOM paths by id.
    check "guest monitor round trip" 0 "^monitor-ok$" -- --devices 2 $nd -- \
          'set -e; mon=tools/mtia-monitor
           $mon query-status | grep -q "\"status\": \"running\""
           [ "$($mon qom-get /machine/peripheral/mtia1 pe-rows)" = 8 ]
           $mon "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral\"}}" | grep -q "\"mtia0\""
           $mon hmp "info qtree" | grep -q "id \"mtia0\""
           ! $mon qom-get /machine/peripheral/mtia9 pe-rows 2>/dev/null
           echo monitor-ok'
    # The host's QMP socket (--qmp-socket): the guest waits for the host's
    # query (a flag file the host writes after it) instead of a sleep.
    sock=$(mktemp -u /tmp/mtia-vm-qmp.XXXXXX) flag="build/vm/qmp-flag.$$"
    rm -f "$top/$flag"
    "$vm" run --devices 1 $nd --qmp-socket "$sock" --timeout 120 -- \
          "for i in \$(seq 600); do [ -e $flag ] && break; sleep 0.1; done; cat $flag" >"$out" 2>"$err" &
    vmpid=$!
    qmp_reply=""
    for _ in $(seq 300); do
        [ -S "$sock" ] && qmp_reply=$("$top/tools/mtia-monitor" --socket "$sock" \
            qom-get /machine/peripheral/mtia0 pe-cols 2>/dev/null) && break
        sleep 0.1
    done
    echo "host-$qmp_reply" > "$top/$flag"
    wait "$vmpid"
    verdict "--qmp-socket answers the host (qom-get pe-cols = 8)" \
            '[ "$qmp_reply" = 8 ] && grep -q "^host-8$" "$out" && [ ! -e "$sock" ]'
    rm -f "$top/$flag"
fi
if [ -f "$top/build/driver/mtia.ko" ]; then
    check "driver loads, /dev/accel/accel0" 0 "^accel-ok$" -- --devices 1 -- \
          'lsmod | grep -q "^mtia " && [ -c /dev/accel/accel0 ] && [ -e /sys/class/accel/accel0 ] && echo accel-ok'
    check "driver loads with 0 devices" 0 "" -- --devices 0 -- 'lsmod | grep -q "^mtia "'
else
    skip "driver checks (no build/driver/mtia.ko)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

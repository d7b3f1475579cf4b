#!/usr/bin/env bash
# In-VM test of the driver's control-core firmware support. Runs INSIDE an
# mtia-vm guest (the harness loads the driver first), with cwd = repo top:
#   tools/mtia-vm run --devices 2 \
#     --append firmware_class.path=$PWD/build/firmware -- tests/vm/test-firmware.sh
# Checks, for every mtia PCI function: firmware booted (dmesg, sysfs
# fw_status/fw_version, GET_INFO fw_version), debugfs fw_ping / fw_param /
# fw_log; then boot faults (bad images, missing image, hanging and trapping
# firmware; unsigned, tampered and other-key images, at probe and at a
# recovery, where sysfs fw_boot_status says which), each followed by a
# reload with the good image; then runtime
# faults (fw_debug hang / trap) that the heartbeat watchdog must recover from.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
FWDIR=$PWD/build/firmware
DBG=/sys/kernel/debug

bad_files=()
on_finish() { rm -f "${bad_files[@]}"; }
echo "mtia PCI functions: $ndev (${devs[*]:-none})"
need_device
keep_awake

fwpath=$(cat /sys/module/firmware_class/parameters/path 2>/dev/null)
echo "firmware_class.path: '${fwpath}'"
if [ "$fwpath" != "$FWDIR" ]; then
  echo "setting firmware_class.path to $FWDIR (boot with --append firmware_class.path=$FWDIR)"
  printf %s "$FWDIR" > /sys/module/firmware_class/parameters/path
fi
[ -f "$FWDIR/mtia/mtia-fw.bin" ] || { fail "no $FWDIR/mtia/mtia-fw.bin (make firmware)"; finish; }

[ -d "$DBG/accel" ] || mount -t debugfs none "$DBG" 2>/dev/null
check "debugfs mounted with an accel directory" [ -d "$DBG/accel" ]

# debugfs directory of a bound function (named after its PCI address).
dbgdir() { echo "$DBG/accel/$1"; }


# dmesg lines after a mark: mark=$(dmesg_mark); ...; dmesg_since "$mark"
dmesg_mark() { dmesg | wc -l; }
dmesg_since() { dmesg | tail -n +$(($1 + 1)); }

# Conditions for wait_for (re-evaluated on every try).


# GET_INFO fw_version of a node, as "maj.min.patch" (or "error <errno>").
getinfo_fw() {
  "$PY" - "$1" <<'PYEOF'
import ctypes, fcntl, os, struct, sys
GET_INFO = (3 << 30) | (32 << 16) | (ord('d') << 8) | 0x40
buf = ctypes.create_string_buffer(64)
arg = bytearray(struct.pack("<IIQ2Q", 64, 0, ctypes.addressof(buf), 0, 0))
try:
    fd = os.open(sys.argv[1], os.O_RDWR)
    fcntl.ioctl(fd, GET_INFO, arg)
except OSError as e:
    print("error", e.errno)
    sys.exit(0)
v = struct.unpack_from("<6I2Q6I", buf.raw)[11]
print("%d.%d.%d" % (v >> 16, (v >> 8) & 0xff, v & 0xff))
PYEOF
}

# Everything expected of a function whose firmware is running.
check_fw_up() { # bdf context
  local bdf=$1 ctx=$2 a v gi
  check "$ctx $bdf: sysfs fw_status is ready ($(sysattr "$bdf" fw_status))" \
    [ "$(sysattr "$bdf" fw_status)" = ready ]
  v=$(sysattr "$bdf" fw_version)
  check "$ctx $bdf: sysfs fw_version is 0.1.0 ($v)" [ "$v" = 0.1.0 ]
  a=$(accel_of "$bdf")
  gi=$(getinfo_fw "/dev/accel/${a:-none}")
  check "$ctx $bdf: GET_INFO fw_version ($gi) matches sysfs ($v)" [ "$gi" = "$v" ]
  local out
  out=$(cat "$(dbgdir "$bdf")/fw_ping" 2>&1)
  check "$ctx $bdf: fw_ping round-trips ($out)" \
    bash -c "[[ '$out' =~ ^pong\ seq=[0-9]+\ rtt_ns=[0-9]+$ ]]"
}

# ---- after the harness loaded the driver -----------------------------------
check "/dev/accel holds $ndev node(s)" [ "$(accel_count)" -eq "$ndev" ]
for bdf in "${devs[@]}"; do
  check "dmesg: $bdf firmware 0.1.0 ready" \
    bash -c "dmesg | grep -q 'mtia $bdf: firmware 0.1.0 ready'"
  check_fw_up "$bdf" initial
  d=$(dbgdir "$bdf")
  check "$bdf: debugfs directory $d has the fw_* files" \
    bash -c "cd $d && [ -f fw_log ] && [ -f fw_ping ] && [ -f fw_param ] && [ -f fw_debug ] && [ -f fw_regs ]"
  check "$bdf: sysfs reset_count is 0" [ "$(sysattr "$bdf" reset_count)" = 0 ]

  # fw_ping: sequence numbers increase.
  s1=$(sed -n 's/^pong seq=\([0-9]*\) .*/\1/p' "$d/fw_ping")
  s2=$(sed -n 's/^pong seq=\([0-9]*\) .*/\1/p' "$d/fw_ping")
  check "$bdf: fw_ping seq increases ($s1 -> $s2)" [ "${s2:-0}" -gt "${s1:-0}" ]

  # fw_param get / set / bad values.
  p=$(cat "$d/fw_param" 2>&1)
  echo "$p" | sed 's/^/  fw_param: /'
  check "$bdf: fw_param reads heartbeat_ms=100, log_level=2" \
    [ "$p" = "$(printf 'heartbeat_ms=100\nlog_level=2')" ]
  echo heartbeat_ms=200 > "$d/fw_param"
  echo log_level=3 > "$d/fw_param"
  p=$(cat "$d/fw_param" 2>&1)
  check "$bdf: fw_param set heartbeat_ms=200 log_level=3 ($(echo $p))" \
    [ "$p" = "$(printf 'heartbeat_ms=200\nlog_level=3')" ]
  check "$bdf: fw_param heartbeat_ms=5 refused (out of range)" \
    bash -c "! echo heartbeat_ms=5 > $d/fw_param 2>/dev/null"
  check "$bdf: fw_param bogus=1 refused" \
    bash -c "! echo bogus=1 > $d/fw_param 2>/dev/null"
  check "$bdf: fw_param without a value refused" \
    bash -c "! echo log_level > $d/fw_param 2>/dev/null"
  echo heartbeat_ms=100 > "$d/fw_param"
  echo log_level=2 > "$d/fw_param"
  check "$bdf: fw_param restored" \
    [ "$(cat "$d/fw_param")" = "$(printf 'heartbeat_ms=100\nlog_level=2')" ]
  check "$bdf: fw_debug refuses an unknown word" \
    bash -c "! echo explode > $d/fw_debug 2>/dev/null"

  # fw_log: the firmware's boot lines.
  log=$(cat "$d/fw_log" 2>&1)
  check "$bdf: fw_log has 'mtia-fw 0.1.0 booting'" grep -q 'mtia-fw 0.1.0 booting' <<<"$log"
  check "$bdf: fw_log has the hardware line (chip, PE grid)" \
    grep -q 'chip 0x0001 rev .*PE grid [0-9]*x[0-9]*' <<<"$log"
  check "$bdf: fw_log has 'ready'" grep -q 'ready' <<<"$log"
  check "$bdf: fw_log shows the heartbeat change" grep -q 'heartbeat period set to 200 ms' <<<"$log"
done
# mtia-smi --json reports the same version (if it is built).
if [ -x build/bin/mtia-smi ]; then
  out=$(build/bin/mtia-smi --json 2>&1)
  n=$(grep -o '"firmware_version": *"0\.1\.0"' <<<"$out" | wc -l)
  check "mtia-smi --json: firmware_version 0.1.0 on $ndev device(s) ($n)" [ "$n" -eq "$ndev" ]
else
  echo "SKIP: mtia-smi --json check (build/bin/mtia-smi not built)"
fi

echo "fw_log of ${devs[0]}:"
sed 's/^/  | /' "$(dbgdir "${devs[0]}")/fw_log" | head -20

# ---- boot faults ------------------------------------------------------------
# reload [insmod args...]: rmmod, then insmod with the given parameters.
reload() {
  rmmod mtia 2>/dev/null
  wait_for 50 accel_is 0 || echo "  accel nodes left after rmmod: $(accel_count)"
  insmod "$KO" "$@" && keep_awake
}

# bad_boot name expect_regex [insmod args...]: loading with fw_name=$name must
# fail probe on every device with a dmesg line matching expect_regex, leave no
# accel node, then the good image must work again.
bad_boot() {
  local name=$1 re=$2 mark n bdf; shift 2
  mark=$(dmesg_mark)
  if ! reload fw_name="$name" "$@"; then
    fail "$name: insmod failed"
    return
  fi
  check "$name: no accel node ($(accel_count))" [ "$(accel_count)" -eq 0 ]
  for bdf in "${devs[@]}"; do
    check "$name: $bdf not bound" [ ! -e "$(sysd "$bdf")/driver" ]
    check "$name: $bdf dmesg: $re" \
      bash -c "dmesg | tail -n +$((mark + 1)) | grep -Eq 'mtia $bdf: $re'"
  done
  dmesg_since "$mark" | grep 'mtia ' | sed 's/^/  /'
  mark=$(dmesg_mark)
  if ! reload; then
    fail "$name: insmod with the good image failed"
    return
  fi
  n=$(dmesg_since "$mark" | grep -c 'firmware 0.1.0 ready')
  check "$name: good image boots again on $ndev device(s) ($n)" [ "$n" -eq "$ndev" ]
  check "$name: $ndev accel node(s) back" [ "$(accel_count)" -eq "$ndev" ]
  for bdf in "${devs[@]}"; do
    check "$name: $bdf fw_status ready again" [ "$(sysattr "$bdf" fw_status)" = ready ]
  done
}

# Corrupted copies of the good image, next to it.
good=$FWDIR/mtia/mtia-fw.bin
size=$(stat -c %s "$good")
mkbad() { # name python-expression-on-bytearray-b
  local out=$FWDIR/mtia/test-bad-$1.bin
  "$PY" -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); $2; open(sys.argv[2], 'wb').write(b)" \
    "$good" "$out"
  bad_files+=("$out")
}
mkbad payload 'b[80 + int.from_bytes(b[16:20], "little") - 1] ^= 0x01'  # last payload byte
mkbad header 'b[20] ^= 0x01'                     # fw_version field (covered by sha256)
mkbad digest 'b[48] ^= 0x80'                     # first sha256 byte
mkbad truncated 'del b[-100:]'
mkbad magic 'b[0:4] = b"XXXX"'
mkbad tiny 'del b[40:]'                          # shorter than the header
echo "good image: $size bytes"

bad_boot mtia/test-bad-payload.bin \
  'firmware image mtia/test-bad-payload.bin refused by boot ROM: SHA-256 digest mismatch \(0x17\)'
bad_boot mtia/test-bad-header.bin \
  'firmware image mtia/test-bad-header.bin refused by boot ROM: SHA-256 digest mismatch \(0x17\)'
bad_boot mtia/test-bad-digest.bin \
  'firmware image mtia/test-bad-digest.bin refused by boot ROM: SHA-256 digest mismatch \(0x17\)'
bad_boot mtia/test-bad-truncated.bin \
  'firmware image mtia/test-bad-truncated.bin refused by boot ROM: image truncated .*\(0x11\)'
bad_boot mtia/test-bad-magic.bin \
  'firmware image mtia/test-bad-magic.bin refused by boot ROM: bad image magic \(0x12\)'
bad_boot mtia/test-bad-tiny.bin \
  'firmware mtia/test-bad-tiny.bin is 40 bytes, smaller than its 80-byte header'
bad_boot mtia/nope.bin \
  'cannot load firmware mtia/nope.bin: file not found in the firmware search path'
bad_boot mtia/mtia-fw-test-hang.bin \
  'firmware boot timed out after 2000 ms: boot ROM running, firmware status init' \
  fw_boot_timeout_ms=2000
bad_boot mtia/mtia-fw-test-trap.bin \
  'firmware halted during boot: fatal trap, cause 2 \(illegal instruction\), pc 0x[0-9a-f]{8}, tval 0x[0-9a-f]{8}'

# ---- signed firmware: the boot ROM's signature check (docs/firmware.md) ------
# The build's negative images: each refused with its own status, in words.
words_unsigned='image not signed (0x19)'
words_otherkey='signed with another key (not the one the device trusts) (0x1a)'
words_tampered='bad signature (image modified after signing) (0x1b)'
ere() { sed 's/[][()\\.*^$+?{}|]/\\&/g' <<<"$1"; }  # a literal for grep -E
for img in unsigned tampered otherkey; do
  words=words_$img
  [ -f "$FWDIR/mtia/mtia-fw-test-$img.bin" ] || { fail "no mtia-fw-test-$img.bin (make firmware)"; continue; }
  bad_boot "mtia/mtia-fw-test-$img.bin" \
    "firmware image mtia/mtia-fw-test-$img.bin refused by boot ROM: $(ere "${!words}")"
done

# The same at a recovery (the file changed under a loaded driver), where the
# device stays bound: sysfs fw_boot_status says which refusal it was.
sigimg=$FWDIR/mtia/test-sig.bin
bad_files+=("$sigimg")
for img in tampered otherkey; do
  words=words_$img
  cp "$good" "$sigimg"
  reload fw_name=mtia/test-sig.bin
  check "sig $img: loaded from test-sig.bin on $ndev device(s)" wait_for 50 accel_is "$ndev"
  bdf=${devs[0]}
  check "sig $img: $bdf fw_boot_status 'running (0x01)' ($(sysattr "$bdf" fw_boot_status))" \
    [ "$(sysattr "$bdf" fw_boot_status)" = 'running (0x01)' ]
  cp "$FWDIR/mtia/mtia-fw-test-$img.bin" "$sigimg"
  mark=$(dmesg_mark)
  check "sig $img: sysfs reset fails (the new image is refused)" \
    bash -c "! echo 1 > $(sysd "$bdf")/mtia/reset 2>/dev/null"
  check "sig $img: fw_status dead ($(sysattr "$bdf" fw_status))" [ "$(sysattr "$bdf" fw_status)" = dead ]
  check "sig $img: fw_boot_status '${!words}' ($(sysattr "$bdf" fw_boot_status))" \
    [ "$(sysattr "$bdf" fw_boot_status)" = "${!words}" ]
  check "sig $img: dmesg: refused by boot ROM: ${!words}" \
    bash -c "dmesg | tail -n +$((mark + 1)) | grep -qF 'mtia $bdf: firmware image mtia/test-sig.bin refused by boot ROM: ${!words}'"
  dmesg_since "$mark" | grep 'mtia ' | sed 's/^/  /'
  for o in "${devs[@]:1}"; do check_fw_up "$o" "sig $img neighbour"; done
done
# And the good image boots again.
mark=$(dmesg_mark)
reload
n=$(dmesg_since "$mark" | grep -c 'firmware 0.1.0 ready')
check "sig: good image boots again on $ndev device(s) ($n)" [ "$n" -eq "$ndev" ]
for bdf in "${devs[@]}"; do
  check_fw_up "$bdf" "after the signature refusals"
  check "$bdf: fw_boot_status 'running (0x01)' again" [ "$(sysattr "$bdf" fw_boot_status)" = 'running (0x01)' ]
done

# ---- runtime faults: the watchdog must recover ------------------------------
# runtime_fault word expect_regex: on the first device, fw_debug <word>; the
# watchdog must log expect_regex, reset the device, reboot the firmware and
# count it; the other devices must be untouched.
runtime_fault() {
  local word=$1 re=$2 bdf=${devs[0]} d mark before after others=() o
  d=$(dbgdir "$bdf")
  before=$(sysattr "$bdf" reset_count)
  for o in "${devs[@]:1}"; do others+=("$o=$(sysattr "$o" reset_count)"); done
  mark=$(dmesg_mark)
  check "fw_debug $word: write accepted" bash -c "echo $word > $d/fw_debug"
  wait_for 150 resets_above "$bdf" "$before"
  after=$(sysattr "$bdf" reset_count)
  check "fw_debug $word: reset_count $before -> $after" [ "$after" -eq $((before + 1)) ]
  wait_for 100 fw_ready "$bdf"
  check "fw_debug $word: dmesg: $re" \
    bash -c "dmesg | tail -n +$((mark + 1)) | grep -Eq 'mtia $bdf: $re'"
  check "fw_debug $word: dmesg: firmware 0.1.0 ready again" \
    bash -c "dmesg | tail -n +$((mark + 1)) | grep -q 'mtia $bdf: firmware 0.1.0 ready'"
  dmesg_since "$mark" | grep 'mtia ' | sed 's/^/  /'
  check_fw_up "$bdf" "after $word"
  check "fw_debug $word: fw_log is the new firmware's" \
    bash -c "grep -q 'mtia-fw 0.1.0 booting' $d/fw_log && ! grep -q 'DEBUG_' $d/fw_log"
  for o in "${others[@]}"; do
    check "fw_debug $word: ${o%%=*} untouched (reset_count ${o##*=})" \
      [ "$(sysattr "${o%%=*}" reset_count)" = "${o##*=}" ]
  done
}

runtime_fault hang \
  'firmware stalled: heartbeat stuck at [0-9]+ for [0-9]+ ms \(period 100 ms\)'
runtime_fault trap \
  'firmware halted: fatal trap, cause 2 \(illegal instruction\), pc 0x[0-9a-f]{8}, tval 0x[0-9a-f]{8}'

# Admin commands while a recovery is running fail fast (or wait), never hang.
bdf=${devs[0]}
d=$(dbgdir "$bdf")
echo hang > "$d/fw_debug"
start=$(date +%s%N)
for _ in $(seq 20); do cat "$d/fw_ping" >/dev/null 2>&1; sleep 0.1; done
ms=$((($(date +%s%N) - start) / 1000000))
# A hang guard, not a speed: each ping waits at most the mailbox timeout.
check "pings during a hang and its recovery all returned (20 in ${ms} ms)" [ "$ms" -lt 120000 ]
wait_for 150 resets_above "$bdf" 2
wait_for 100 fw_ready "$bdf"
check "third recovery done (reset_count $(sysattr "$bdf" reset_count))" \
  [ "$(sysattr "$bdf" reset_count)" -eq 3 ]
check_fw_up "$bdf" "after third recovery"

# Recovery that fails: load from a private copy of the good image, delete it,
# hang the firmware. The device must end up "dead" (no hang, no warning):
# fw_status dead, GET_INFO EIO, admin commands EIO; reload recovers it.
copy=$FWDIR/mtia/test-copy.bin
cp "$good" "$copy"
bad_files+=("$copy")
reload fw_name=mtia/test-copy.bin
check "dead: loaded from test-copy.bin on $ndev device(s)" wait_for 50 accel_is "$ndev"
rm -f "$copy"
bdf=${devs[0]}
d=$(dbgdir "$bdf")
mark=$(dmesg_mark)
echo hang > "$d/fw_debug"
wait_for 150 resets_above "$bdf" 0
wait_for 100 bash -c "[ \"\$(cat $(sysd "$bdf")/mtia/fw_status)\" = dead ]"
check "dead: fw_status is dead ($(sysattr "$bdf" fw_status))" [ "$(sysattr "$bdf" fw_status)" = dead ]
check "dead: dmesg: firmware recovery failed ... device is dead" \
  bash -c "dmesg | tail -n +$((mark + 1)) | grep -q 'mtia $bdf: firmware recovery failed (-2): device is dead'"
dmesg_since "$mark" | grep 'mtia ' | sed 's/^/  /'
a=$(accel_of "$bdf")
gi=$(getinfo_fw "/dev/accel/$a")
check "dead: GET_INFO fails with EIO ($gi)" [ "$gi" = "error 5" ]
check "dead: fw_ping fails" bash -c "! cat $d/fw_ping >/dev/null 2>&1"
check "dead: fw_param fails" bash -c "! cat $d/fw_param >/dev/null 2>&1"
check "dead: fw_version none ($(sysattr "$bdf" fw_version))" [ "$(sysattr "$bdf" fw_version)" = none ]
for o in "${devs[@]:1}"; do check_fw_up "$o" "dead neighbour"; done
sleep 2
check "dead: stays dead, no further recovery (reset_count $(sysattr "$bdf" reset_count))" \
  [ "$(sysattr "$bdf" reset_count)" = 1 ]

# Unload with everything running (watchdog, firmware), then load again.
check "final rmmod" rmmod mtia
check "final insmod" insmod "$KO"
for bdf in "${devs[@]}"; do check_fw_up "$bdf" final; done

bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t|list_(add|del) corruption|INFO: task' || true)
check "dmesg has no warning, oops or hung task" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

#!/usr/bin/env bash
# In-VM test of GEM buffer objects. Runs INSIDE an mtia-vm guest (the harness
# loads the driver first), with cwd = repo top:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-bo.sh
# - build/bin/bo_tests (GoogleTest: create/info/mmap, exhaustion, fdinfo,
#   argument checks...), its result folded into the counts;
# - sysfs mem_total / mem_used of every device;
# - a device BO survives a watchdog recovery (fw_debug hang);
# - unplug with a device BO mmapped in another process: rmmod is refused
#   while the mapping exists, unbind zaps it (the process gets SIGBUS, its
#   BO_INFO gets ENODEV), the process exits, rmmod/insmod work, no warning.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
DBG=/sys/kernel/debug
BIN=${MTIA_BO_TESTS:-build/bin/bo_tests}
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }

echo "mtia PCI functions: $ndev (${devs[*]:-none})"
need_device

dmesg_mark=$(dmesg | wc -l)

# ---- sysfs ------------------------------------------------------------------
for bdf in "${devs[@]}"; do
  t=$(sysattr "$bdf" mem_total)
  u=$(sysattr "$bdf" mem_used)
  check "$bdf: mem_total is a positive number ($t)" bash -c "[[ '$t' =~ ^[0-9]+$ ]] && [ '$t' -gt 0 ]"
  check "$bdf: mem_total is a multiple of 4 KiB" [ $((${t:-1} % 4096)) -eq 0 ]
  check "$bdf: mem_used is 0 before any BO ($u)" [ "$u" = 0 ]
  check "$bdf: mem_used is read-only" bash -c "! echo 0 2>/dev/null > $(sysd "$bdf")/mtia/mem_used"
done

# ---- the GoogleTest suite ---------------------------------------------------
run_gtest "$BIN"
for bdf in "${devs[@]}"; do
  check "$bdf: mem_used back to 0 after bo_tests ($(sysattr "$bdf" mem_used))" \
    [ "$(sysattr "$bdf" mem_used)" = 0 ]
done

# ---- helper: a process holding a mapped device BO ---------------------------
# bo_holder.py node dir: creates a 1 MiB device BO, maps it, writes a
# pattern, touches dir/ready and waits for a command file in dir:
#   check   BO_INFO + read the pattern back, write a new one (after recovery)
#   touch   BO_INFO (expect ENODEV), then read the mapping (expect SIGBUS)
#   exit    close everything and exit 0
cat > "$tmp/bo_holder.py" <<'PYEOF'
import ctypes, errno, fcntl, mmap, os, struct, sys, time
node, d = sys.argv[1], sys.argv[2]
def iowr(nr, size): return (3 << 30) | (size << 16) | (ord('d') << 8) | (0x40 + nr)
BO_CREATE, BO_INFO = iowr(1, 40), iowr(2, 56)
SIZE = 1 << 20
fd = os.open(node, os.O_RDWR)
arg = bytearray(struct.pack("<QIIII2Q", SIZE, 1, 0, 0, 0, 0, 0))
fcntl.ioctl(fd, BO_CREATE, arg)
handle = struct.unpack_from("<QIII", arg)[3]
def info():
    a = bytearray(struct.pack("<IIQQIIQ2Q", handle, 0, 0, 0, 0, 0, 0, 0, 0))
    fcntl.ioctl(fd, BO_INFO, a)
    return struct.unpack_from("<IIQQIIQ", a)
size, off = info()[2], info()[3]
m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=off)
pat = bytes(range(256)) * (SIZE // 256)
m[:] = pat
open(d + "/ready", "w").close()
while True:
    cmds = [c for c in ("check", "touch", "exit") if os.path.exists(d + "/" + c)]
    if cmds:
        break
    time.sleep(0.05)
cmd = cmds[0]
os.unlink(d + "/" + cmd)
if cmd == "check":
    i = info()
    same = m[:] == pat
    m[:] = pat[::-1]
    ok = m[:] == pat[::-1] and i[2] == SIZE and i[4] == 1
    print("holder: BO_INFO after recovery ok, devmem_offset %#x, contents %s" %
          (i[6], "kept" if same else "lost (allowed)"))
    sys.exit(0 if ok else 1)
if cmd == "touch":
    try:
        info()
        print("holder: BO_INFO after unplug succeeded")
        sys.exit(1)
    except OSError as e:
        print("holder: BO_INFO after unplug: %s" % errno.errorcode[e.errno])
        if e.errno != errno.ENODEV:
            sys.exit(1)
    sys.stdout.flush()
    x = m[4096]   # SIGBUS expected
    print("holder: read the mapping after unplug: %d" % x)
    sys.exit(1)
m.close()
os.close(fd)
PYEOF

start_holder() { # bdf dir -> pid in $holder
  mkdir -p "$2"
  rm -f "$2"/ready "$2"/check "$2"/touch "$2"/exit
  "$PY" "$tmp/bo_holder.py" "/dev/accel/$(accel_of "$1")" "$2" &
  holder=$!
  wait_for 100 test -e "$2/ready"
}

# ---- a device BO survives a watchdog recovery -------------------------------
bdf=${devs[0]}
d=$DBG/accel/$bdf
[ -d "$DBG/accel" ] || mount -t debugfs none "$DBG" 2>/dev/null
if [ -w "$d/fw_debug" ]; then
  start_holder "$bdf" "$tmp/rec"
  check "recovery: holder has its BO mapped" test -e "$tmp/rec/ready"
  check "recovery: mem_used is 1 MiB" [ "$(sysattr "$bdf" mem_used)" = 1048576 ]
  before=$(sysattr "$bdf" reset_count)
  echo hang > "$d/fw_debug"
  wait_for 150 resets_above "$bdf" "$before"
  wait_for 100 fw_ready "$bdf"
  check "recovery: reset_count $before -> $(sysattr "$bdf" reset_count), firmware ready" \
    bash -c "[ $(sysattr "$bdf" reset_count) -gt $before ] && [ $(sysattr "$bdf" fw_status) = ready ]"
  check "recovery: mem_used still 1 MiB" [ "$(sysattr "$bdf" mem_used)" = 1048576 ]
  touch "$tmp/rec/check"
  wait "$holder"
  rc=$?
  check "recovery: the BO is still valid and mapped (holder exit $rc)" [ "$rc" -eq 0 ]
  check "recovery: mem_used 0 after the holder exited" [ "$(sysattr "$bdf" mem_used)" = 0 ]
else
  echo "SKIP: recovery check (no $d/fw_debug)"
fi

# ---- unplug with a mapped device BO in another process ----------------------
bdf=${devs[-1]}
start_holder "$bdf" "$tmp/unplug"
check "unplug: holder has its BO mapped" test -e "$tmp/unplug/ready"
check "unplug: rmmod is refused while the mapping exists" bash -c '! rmmod mtia 2>/dev/null'
check "unplug: module still loaded" [ -d /sys/module/mtia ]
echo "$bdf" > /sys/bus/pci/drivers/mtia/unbind
check "unplug: $bdf unbound with the BO mapped" [ ! -e "$(sysd "$bdf")/driver" ]
touch "$tmp/unplug/touch"
wait "$holder"
rc=$?
check "unplug: access to the zapped mapping killed the holder with SIGBUS (exit $rc)" \
  [ "$rc" -eq $((128 + 7)) ]
check "unplug: rmmod works once the holder is gone" rmmod mtia
check "unplug: insmod brings the devices back" insmod "$KO"
check "unplug: $ndev accel node(s) again" wait_for 100 accel_is "$ndev"
for b in "${devs[@]}"; do
  wait_for 100 fw_ready "$b"
  check "unplug: $b firmware ready ($(sysattr "$b" fw_status)), mem_used 0 ($(sysattr "$b" mem_used))" \
    [ "$(sysattr "$b" fw_status)/$(sysattr "$b" mem_used)" = ready/0 ]
done

# A process that exits (instead of touching) with the mapping after unbind.
start_holder "$bdf" "$tmp/exit"
echo "$bdf" > /sys/bus/pci/drivers/mtia/unbind
touch "$tmp/exit/exit"
wait "$holder"
rc=$?
check "unplug: holder that just exits after unbind: exit $rc" [ "$rc" -eq 0 ]
echo "$bdf" > /sys/bus/pci/drivers/mtia/bind
check "unplug: rebind: $ndev accel node(s)" wait_for 100 accel_is "$ndev"

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t|list_(add|del) corruption|still allocated|mtia .*(failed|refusing)' || true)
check "dmesg has no warning, oops or leak report" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

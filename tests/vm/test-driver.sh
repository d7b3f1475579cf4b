#!/usr/bin/env bash
# In-VM test of the mtia.ko driver. Runs INSIDE an mtia-vm guest (the harness
# loads the driver first), with cwd = repo top:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-driver.sh
# Checks, for every mtia PCI function: driver bound, /dev/accel/accelN, the
# probe identity line in dmesg, the interrupt self-test in /proc/interrupts and
# sysfs, GET_INFO argument checking, unbind with an open file, then
# rmmod/insmod cycles with the nodes, IRQs and MSI-X going away and coming
# back each time. Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
CYCLES=${MTIA_RELOAD_CYCLES:-10}
# Earlier suites in the same VM may have reloaded the driver: count identity
# lines from here on.
ident_base=$(dmesg | grep -c 'mtia .*: MTIA chip')
echo "mtia PCI functions: $ndev (${devs[*]:-none})"
need_device
keep_awake
if command -v lspci >/dev/null; then
  n=$(lspci -n -d "${VENDOR#0x}:" | wc -l)
  check "lspci -d ${VENDOR#0x}: lists $ndev device(s) (got $n)" [ "$n" -eq "$ndev" ]
fi

# Waits up to 5 s for /dev/accel to hold $1 nodes.
wait_accel_count() { wait_for 50 accel_is "$1"; }

# Sum of the per-CPU counts of every /proc/interrupts line of the function's
# mtia handler (-1 if there is none).
irq_total() {
  awk -v bdf="$1" '
    / mtia$/ && index($0, bdf) { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; found = 1 }
    END { print found ? s : -1 }' /proc/interrupts
}

# Everything expected of a freshly probed function.
check_bound() { # bdf context
  local bdf=$1 ctx=$2 a
  check "$ctx $bdf: bound to mtia" \
    [ "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver" 2>/dev/null)")" = mtia ]
  a=$(accel_of "$bdf")
  check "$ctx $bdf: /dev/accel/${a:-?} is a character device" test -c "/dev/accel/${a:-none}"
  check "$ctx $bdf: self-test interrupt counted in /proc/interrupts ($(irq_total "$bdf"))" \
    [ "$(irq_total "$bdf")" -gt 0 ]
  check "$ctx $bdf: sysfs irq_test_count >= 1" \
    [ "$(cat "/sys/bus/pci/devices/$bdf/mtia/irq_test_count" 2>/dev/null || echo 0)" -ge 1 ]
}

# ---- after the harness loaded the driver -----------------------------------
check "/sys/module/mtia exists (driver loaded)" [ -d /sys/module/mtia ]
check "/dev/accel holds $ndev node(s) (got $(accel_count))" [ "$(accel_count)" -eq "$ndev" ]
for bdf in "${devs[@]}"; do
  check_bound "$bdf" initial
  check "dmesg has the identity line for $bdf" \
    bash -c "dmesg | grep -q 'mtia $bdf: MTIA chip 0x[0-9a-f]* rev [0-9]* (interface [0-9]*\.[0-9]*): PE grid [0-9]*x[0-9]*, SRAM .*, device memory .*, [0-9]* MSI-X vector.*, accel[0-9]*$'"
  check "sysfs $bdf mtia/chip_id is 0x0001" \
    [ "$(cat "/sys/bus/pci/devices/$bdf/mtia/chip_id" 2>/dev/null)" = 0x0001 ]
  check "sysfs $bdf mtia/if_version is 1.x" \
    bash -c "grep -qx '1\.[0-9]*' /sys/bus/pci/devices/$bdf/mtia/if_version"
done
dmesg | grep 'mtia .*: MTIA chip' | tail -n "$ndev"
n=$(for bdf in "${devs[@]}"; do accel_of "$bdf"; done | sort -u | wc -l)
check "each device has its own accel node ($n distinct)" [ "$n" -eq "$ndev" ]

# ---- GET_INFO argument checking and unbind with an open file ---------------
if [ -x "$PY" ]; then
  bdf=${devs[0]}
  node=/dev/accel/$(accel_of "$bdf")
  out=$("$PY" - "$node" "/sys/bus/pci/devices/$bdf" <<'PYEOF' 2>&1
import errno, fcntl, os, struct, sys, ctypes

node, sysdev = sys.argv[1], sys.argv[2]
# DRM_IOWR(DRM_COMMAND_BASE + 0, struct drm_mtia_get_info /* 32 bytes */)
GET_INFO = (3 << 30) | (32 << 16) | (ord('d') << 8) | 0x40
INFO = struct.Struct("<6I2Q6I")   # struct drm_mtia_info, 64 bytes
ok = True

def res(name, good):
    global ok
    ok &= good
    print(("PASS: " if good else "FAIL: ") + "ioctl " + name)

def call(size, flags=0, ptr=None, reserved=(0, 0), buflen=128):
    buf = ctypes.create_string_buffer(b"\xa5" * buflen, buflen)
    addr = ctypes.addressof(buf) if ptr is None else ptr
    arg = bytearray(struct.pack("<IIQ2Q", size, flags, addr, *reserved))
    try:
        fcntl.ioctl(fd, GET_INFO, arg)
    except OSError as e:
        return e.errno, None, None
    return 0, struct.unpack_from("<I", arg)[0], buf.raw

fd = os.open(node, os.O_RDWR)

# DRM_IOCTL_VERSION: struct drm_version is 64 bytes on x86-64.
VERSION = (3 << 30) | (64 << 16) | (ord('d') << 8) | 0x00
bufs = [ctypes.create_string_buffer(64) for _ in range(3)]
arg = bytearray(struct.pack("<3i4x" + "QQ" * 3, 0, 0, 0,
                            *[v for b in bufs for v in (64, ctypes.addressof(b))]))
fcntl.ioctl(fd, VERSION, arg)
v = struct.unpack("<3i4x" + "QQ" * 3, arg)
name, date, desc = (b.value.decode() for b in bufs)
print("DRM version: %d.%d.%d name %r date %r desc %r" % (v[0], v[1], v[2], name, date, desc))
res("DRM_IOCTL_VERSION: mtia 0.1.0 with date and desc",
    v[:3] == (0, 1, 0) and name == "mtia" and date != "" and desc != "")

err, size, raw = call(64)
res("GET_INFO size 64: ok, size 64 written (err %s size %s)" % (err, size), err == 0 and size == 64)
if err == 0:
    f = INFO.unpack_from(raw)
    print("info:", f)
    res("GET_INFO chip_id 1, if major 1, PE grid > 0, drv 0.1.0, vectors >= 1, pad 0",
        f[0] == 1 and f[2] == 1 and f[4] > 0 and f[5] > 0 and f[8:11] == (0, 1, 0)
        and f[12] >= 1 and f[13] == 0)
    res("sysfs revision matches", int(open(sysdev + "/mtia/revision").read()) == f[1])
    res("bytes beyond 64 untouched", raw[64:] == b"\xa5" * 64)
err, size, raw = call(128)
res("GET_INFO size 128: ok, size 64 written (err %s size %s)" % (err, size), err == 0 and size == 64)
res("GET_INFO size 63: EINVAL", call(63)[0] == errno.EINVAL)
res("GET_INFO size 0: EINVAL", call(0)[0] == errno.EINVAL)
res("GET_INFO flags 1: EINVAL", call(64, flags=1)[0] == errno.EINVAL)
res("GET_INFO reserved[0] 1: EINVAL", call(64, reserved=(1, 0))[0] == errno.EINVAL)
res("GET_INFO reserved[1] 1: EINVAL", call(64, reserved=(0, 1))[0] == errno.EINVAL)
res("GET_INFO bad pointer: EFAULT", call(64, ptr=8)[0] == errno.EFAULT)

# Unbind while the file is open: the ioctl must fail cleanly, close must work.
bdf = os.path.basename(sysdev)
with open("/sys/bus/pci/drivers/mtia/unbind", "w") as u:
    u.write(bdf)
res("GET_INFO after unbind with the file open: ENODEV", call(64)[0] == errno.ENODEV)
os.close(fd)
with open("/sys/bus/pci/drivers/mtia/bind", "w") as b:
    b.write(bdf)
sys.exit(0 if ok else 1)
PYEOF
)
  rc=$?
  echo "$out" | grep -v '^\(PASS\|FAIL\):'
  passed=$((passed + $(echo "$out" | grep -c '^PASS:')))
  failed=$((failed + $(echo "$out" | grep -c '^FAIL:')))
  echo "$out" | grep '^\(PASS\|FAIL\):'
  check "GET_INFO / unbind script exited 0 (rc $rc)" [ "$rc" -eq 0 ]
  check "after rebind: /dev/accel holds $ndev node(s)" wait_accel_count "$ndev"
  keep_awake
  check_bound "$bdf" rebound
else
  echo "SKIP: GET_INFO and unbind checks ($PY not found)"
fi

# ---- error interrupt: a write to a read-only register ----------------------
# Needs BAR0 mmap through sysfs while the driver owns the region, which the
# kernel refuses (EINVAL) unless booted with iomem=relaxed:
#   tools/mtia-vm run --devices 2 --append iomem=relaxed -- tests/vm/test-driver.sh
bdf=${devs[-1]}
sysd=/sys/bus/pci/devices/$bdf
before=$(cat "$sysd/mtia/irq_error_count" 2>/dev/null || echo 0)
# 32-bit store of 0 to MTIA_REG_MAGIC (offset 0): the device latches
# MTIA_ERR_BAD_WRITE and raises MTIA_IRQ_ERROR.
if [ ! -x "$PY" ]; then
  rc=3
else
  "$PY" -c '
import ctypes, errno, mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_SYNC)
try:
    m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
except OSError as e:
    sys.exit(3 if e.errno == errno.EINVAL else 1)
ctypes.c_uint32.from_buffer(m, 0).value = 0
' "$sysd/resource0"
  rc=$?
fi
if [ "$rc" -eq 3 ]; then
  echo "SKIP: error interrupt test (no $PY, or BAR0 mmap refused: boot with iomem=relaxed)"
else
  err_irq_counted() { after=$(cat "$sysd/mtia/irq_error_count"); [ "$after" -gt "$before" ]; }
  after=$before
  wait_for 300 err_irq_counted
  check "$bdf: bad write raised an error interrupt (irq_error_count $before -> $after)" \
    [ "$after" -eq $((before + 1)) ]
  check "$bdf: dmesg reports the device error at offset 0" \
    bash -c "dmesg | grep -q 'mtia $bdf: device error 0x00000002 at BAR0 offset 0x00000\$'"
  check "$bdf: magic still reads back (sysfs chip_id 0x0001)" \
    [ "$(cat "$sysd/mtia/chip_id")" = 0x0001 ]
fi

# ---- rmmod / insmod cycles --------------------------------------------------
for c in $(seq "$CYCLES"); do
  if ! rmmod mtia; then
    fail "cycle $c: rmmod mtia"
    break
  fi
  ok=1
  wait_accel_count 0 || { ok=; echo "cycle $c: $(accel_count) accel node(s) left after rmmod"; }
  [ -d /sys/module/mtia ] && { ok=; echo "cycle $c: /sys/module/mtia still there"; }
  grep -q ' mtia$' /proc/interrupts && { ok=; echo "cycle $c: mtia IRQ still in /proc/interrupts"; }
  for bdf in "${devs[@]}"; do
    [ -e "/sys/bus/pci/devices/$bdf/msi_irqs" ] && { ok=; echo "cycle $c: $bdf MSI-X still enabled"; }
    [ "$(cat "/sys/bus/pci/devices/$bdf/enable")" = 0 ] || { ok=; echo "cycle $c: $bdf still enabled"; }
  done
  check "cycle $c: rmmod removed nodes, IRQs, MSI-X, PCI enable" [ -n "$ok" ]

  if ! insmod "$KO"; then
    fail "cycle $c: insmod $KO"
    break
  fi
  ok=1
  wait_accel_count "$ndev" || { ok=; echo "cycle $c: $(accel_count) accel node(s) after insmod, want $ndev"; }
  for bdf in "${devs[@]}"; do
    [ -n "$(accel_of "$bdf")" ] || { ok=; echo "cycle $c: $bdf has no accel node"; }
    [ "$(irq_total "$bdf")" -gt 0 ] || { ok=; echo "cycle $c: $bdf self-test IRQ not counted"; }
    [ "$(cat "/sys/bus/pci/devices/$bdf/mtia/irq_test_count" 2>/dev/null)" = 1 ] ||
      { ok=; echo "cycle $c: $bdf irq_test_count is not 1"; }
  done
  check "cycle $c: insmod brought back $ndev node(s) with a passing self-test" [ -n "$ok" ]
done

n=$(dmesg | grep -c 'mtia .*: MTIA chip')
want=$((ident_base + ndev * CYCLES))
[ -x "$PY" ] && want=$((want + 1))
check "dmesg has $want identity lines (got $n)" [ "$n" -eq "$want" ]
bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t|list_(add|del) corruption|mtia .*(error|failed|refusing)' | grep -v 'device error 0x00000002 at BAR0 offset 0x00000$' || true)
check "dmesg has no warning, oops or mtia error" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish

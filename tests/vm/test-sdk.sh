#!/usr/bin/env bash
# In-VM half of the SDK test, as a user's machine would have it after
# installing: the driver is the module DKMS built from the mtia-dkms package
# (tests/deb-install.sh), udevd applies the installed rule, and the
# examples, built out of tree against build/sdk/root (pkg-config and CMake
# alike), run as a non-root user in group render with no chmod, loading
# libmtia.so.0 from that DESTDIR. The repository's module is put back after.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
sdk=build/sdk
model=${MTIA_SDK_MODEL:-build/models/mlp.mtia}
LD_LIBRARY_PATH=$sdk/root/usr/local/$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' build/cmake/CMakeCache.txt)
export LD_LIBRARY_PATH

if [ ! -x "$sdk/ex-cmake/list_devices" ] || [ ! -x "$sdk/ex-pkgconfig/list_devices" ]; then
  fail "no examples in $sdk (tests/sdk-install.sh builds them on the host)"
  finish
fi
dmesg_mark=$(dmesg | wc -l)
kver=$(uname -r)
dkms_ko=build/deb/mtia.ko
rules=$sdk/root/lib/udev/rules.d/70-mtia.rules
render=$(getent group render | cut -d: -f3)
# expect WHAT PATTERN CMD...: CMD exits 0 and prints PATTERN.
expect() {
  local what=$1 pat=$2 out; shift 2
  if out=$("$@" 2>&1) && grep -qE -- "$pat" <<<"$out"; then
    pass "$what"
  else
    fail "$what"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/  | /'
  fi
}
# A user in group render and nothing else (nobody's uid): no root, no chmod.
as_user() { setpriv --reuid=65534 --regid=65534 --groups="$render" --inh-caps=-all -- "$@"; }

# ---- back to the repository's module, without udev ---------------------------
# finish() runs it, and so does an early exit, so later suites find the
# driver they expect whatever failed here.
restored=
on_finish() {
  [ -n "$restored" ] && return
  restored=1
  udevadm control --exit 2>/dev/null
  rm -rf /run/udev/rules.d/70-mtia.rules /dev/accel/by-path /dev/accel/by-serial
  rmmod mtia 2>/dev/null
  check "the repository's module loads again" insmod "$KO"
  check "and drives the $ndev device(s)" wait_for 50 accel_is "$ndev"
}
trap on_finish EXIT

# ---- the DKMS module and the udev rule ---------------------------------------
check "DKMS built a module for the running kernel ($kver)" bash -c \
  "modinfo -F vermagic '$dkms_ko' | grep -q '^$kver '"
check "group render exists (udev's)" test -n "$render"
rmmod mtia
check "the DKMS module loads" insmod "$dkms_ko"
check "the DKMS module drives the $ndev device(s)" wait_for 50 accel_is "$ndev"
check "the loaded module is the DKMS one" bash -c "[ \"\$(cat /sys/module/mtia/srcversion)\" = \"\$(modinfo -F srcversion '$dkms_ko')\" ]"
# udevd with the installed rule (the host's rules in /lib/udev/rules.d too).
mkdir -p /run/udev/rules.d
cp "$rules" /run/udev/rules.d/
/lib/systemd/systemd-udevd --daemon --resolve-names=early
udevadm trigger --action=add --subsystem-match=accel
check "udevadm settle" udevadm settle --timeout=60
node_is() { [ "$(stat -c %G:%a "$1" 2>/dev/null)" = render:660 ]; }
for d in "${devs[@]}"; do
  node=/dev/accel/$(accel_of "$d")
  check "$node is group render, mode 0660" wait_for 50 node_is "$node"
  check "/dev/accel/by-path/pci-$d-accel -> $node" \
    bash -c "[ \"\$(readlink -f /dev/accel/by-path/pci-$d-accel)\" = $node ]"
  serial=$(sysattr "$d" serial)
  check "/dev/accel/by-serial/mtia-$serial -> $node" \
    bash -c "[ -n '$serial' ] && [ \"\$(readlink -f /dev/accel/by-serial/mtia-$serial)\" = $node ]"
done
expect "without group render: a clear permission error" "MTIA_ERROR_PERMISSION" \
  bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- '$sdk/ex-cmake/list_devices'"

# ---- the examples, as that user ----------------------------------------------
for b in ex-pkgconfig ex-cmake; do
  expect "$b/list_devices lists the $ndev device(s)" "^$ndev device\(s\)" as_user "$sdk/$b/list_devices"
  expect "$b/list_devices shows telemetry" "telemetry: [0-9.]+ C, [0-9.]+ W, clock [1-9][0-9]* MHz" \
    as_user "$sdk/$b/list_devices"
  expect "$b/stream_copy round-trips 8 MiB" "8 MiB host->device->host OK" as_user "$sdk/$b/stream_copy" 0 8
  expect "$b/async_model agrees across two streams" "outputs agree" as_user "$sdk/$b/async_model" "$model" 0 3
done
pydir=$(ls -d "$sdk"/root/usr/local/lib/python3*/dist-packages | head -n1)
expect "the installed Python package sees the $ndev device(s) as that user" "^$ndev /dev/accel/accel0\$" \
  as_user env PYTHONPATH="$pydir" /usr/bin/python3 -c \
  'import mtia; d = mtia.Device(0); print(mtia.device_count(), d.info.node)'
expect "list_devices_static (libmtia.a) lists the devices" "^$ndev device\(s\)" \
  as_user "$sdk/ex-cmake/list_devices_static"
check "list_devices loaded libmtia.so.0 from the DESTDIR" bash -c \
  "LD_DEBUG=libs '$sdk/ex-cmake/list_devices' 2>&1 | grep -q 'calling init: $LD_LIBRARY_PATH/libmtia.so.0'"
expect "async_model names a missing model" "async_model: .*(No such file|cannot open|not found)" \
  bash -c "! '$sdk/ex-cmake/async_model' /nonexistent.mtia"

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" test -z "$bad"
finish

#!/usr/bin/env bash
# In-VM half of the SDK test: the examples that tests/sdk-install.sh built
# out of tree against build/sdk/root (pkg-config and CMake builds alike) run
# on the devices, loading libmtia.so.0 from that DESTDIR.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
sdk=build/sdk
model=${MTIA_SDK_MODEL:-build/models/mlp.mtia}
export LD_LIBRARY_PATH=$sdk/root/usr/local/lib

if [ ! -x "$sdk/ex-cmake/list_devices" ] || [ ! -x "$sdk/ex-pkgconfig/list_devices" ]; then
  fail "no examples in $sdk (tests/sdk-install.sh builds them on the host)"
  finish
fi
dmesg_mark=$(dmesg | wc -l)

# expect NAME PATTERN CMD...: CMD exits 0 and prints PATTERN.
expect() {
  local what=$1 pat=$2 out; shift 2
  if out=$("$@" 2>&1) && grep -qE -- "$pat" <<<"$out"; then
    pass "$what"
  else
    fail "$what"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/  | /'
  fi
}
for b in ex-pkgconfig ex-cmake; do
  expect "$b/list_devices lists the $ndev device(s)" "^$ndev device\(s\)" "$sdk/$b/list_devices"
  expect "$b/stream_copy round-trips 8 MiB" "8 MiB host->device->host OK" "$sdk/$b/stream_copy" 0 8
  expect "$b/async_model agrees across two streams" "outputs agree" "$sdk/$b/async_model" "$model" 0 3
done
expect "list_devices_static (libmtia.a) lists the devices" "^$ndev device\(s\)" "$sdk/ex-cmake/list_devices_static"
check "list_devices loaded libmtia.so.0 from the DESTDIR" bash -c \
  "LD_DEBUG=libs '$sdk/ex-cmake/list_devices' 2>&1 | grep -q 'calling init: $sdk/root/usr/local/lib/libmtia.so.0'"
expect "async_model names a missing model" "async_model: .*(No such file|cannot open|not found)" \
  bash -c "! '$sdk/ex-cmake/async_model' /nonexistent.mtia"

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" test -z "$bad"
finish

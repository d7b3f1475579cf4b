#!/usr/bin/env bash
# Builds the mtia.ko DRM accel driver against the guest kernel's headers
# (unpacked by scripts/fetch-guest-kernel.sh), or against KDIR when it is
# set (any 6.12-era kernel build directory, e.g. /lib/modules/$(uname -r)/build;
# driver/Makefile's default). Linux 6.12 builds external modules in their
# source directory, so the sources are mirrored into build/driver (with KDIR:
# build/driver-<kernel release>; only changed files are copied, keeping make
# incremental) and built there: the result is <that directory>/mtia.ko.
#
# Any compiler or modpost warning fails the build (-Werror plus a scan of the
# build log). Extra arguments are passed to make (e.g. V=1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/driver"
out="$top/build/driver"
guest="$top/build/deps/guest"

if [ -n "${KDIR:-}" ]; then
  kdir=$KDIR
  [ -f "$kdir/Makefile" ] || { echo "driver/build.sh: KDIR=$kdir is not a kernel build directory" >&2; exit 1; }
  kver=$(make -s -C "$kdir" kernelrelease 2>/dev/null) || kver=$(basename "$(dirname "$kdir")")
  out="$top/build/driver-$kver"
else
  [ -f "$guest/kver" ] || { echo "driver/build.sh: no guest kernel in $guest (run make setup)" >&2; exit 1; }
  kver=$(cat "$guest/kver")
  kdir="$guest/root/usr/src/linux-headers-$kver"
  [ -f "$kdir/Makefile" ] || { echo "driver/build.sh: no headers at $kdir" >&2; exit 1; }
fi

# Mirror Kbuild and sources; drop sources that no longer exist in driver/.
mkdir -p "$out"
for f in "$src"/Kbuild "$src"/*.c "$src"/*.h; do
  [ -f "$f" ] || continue
  cmp -s "$f" "$out/${f##*/}" || cp "$f" "$out/"
done
for f in "$out"/*.c "$out"/*.h; do
  [ -f "$f" ] || continue
  [ -f "$src/${f##*/}" ] || rm -f "$f" "${f%.*}.o"
done

# CONFIG_DEBUG_INFO_BTF_MODULES= : module BTF needs pahole, which the host
# may not have; the guest loads modules without .BTF fine.
log="$out/build.log"
set +e
make -C "$kdir" M="$out" MTIA_TOP="$top" W=1 \
  CONFIG_DEBUG_INFO_BTF_MODULES= -j"$(nproc)" "$@" modules 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  echo "driver/build.sh: build failed (log: $log)" >&2
  exit "$rc"
fi
if grep -qiE '(^|[^-])warning' "$log"; then
  echo "driver/build.sh: build produced warnings (treated as errors, log: $log):" >&2
  grep -iE '(^|[^-])warning' "$log" >&2
  exit 1
fi
echo "driver/build.sh: $out/mtia.ko (for $kver)"

#!/usr/bin/env bash
# The SDK as a user gets it: `make install` into a DESTDIR (build/sdk/root),
# then every example in examples/ built out of tree twice, with pkg-config
# and with CMake find_package, against that DESTDIR only. The in-VM half,
# tests/vm/test-sdk.sh, runs what this builds.
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
# shellcheck source=tests/checks.sh
. tests/checks.sh

sdk=$top/build/sdk
root=$sdk/root
prefix=/usr/local
rm -rf "$sdk"
mkdir -p "$sdk"

check "make install DESTDIR=build/sdk/root" \
  env DESTDIR="$root" cmake --install build/cmake --prefix "$prefix"
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' build/cmake/CMakeCache.txt)
lib=$root$prefix/$libdir
for f in "$lib/libmtia.so.0" "$lib/libmtia.a" "$lib/libmtia-compiler.so.0" "$root$prefix/include/mtia/compiler.hpp" "$lib/pkgconfig/mtia.pc" "$lib/cmake/mtia/mtiaConfig.cmake" \
  "$root$prefix/include/mtia/mtia.h" "$root$prefix/include/mtia/mtia.hpp" "$root$prefix/include/mtia/drm/mtia_accel.h" \
  "$root$prefix/bin/mtia-smi" "$root$prefix/bin/mtia-run" "$root$prefix/bin/mtia-compile" \
  "$root/lib/firmware/mtia/mtia-fw.bin" "$root/lib/udev/rules.d/70-mtia.rules"; do
  check "installed ${f#"$root"}" test -e "$f"
done
check "libmtia's SONAME is libmtia.so.0" bash -c \
  "readelf -d '$lib/libmtia.so.0' | grep -q 'Library soname: \[libmtia.so.0\]'"
# Only the API leaves libmtia.so (runtime/libmtia.map).
other=$(nm -D --defined-only "$lib/libmtia.so.0" | awk '{print $3}' | c++filt |
  grep -Ev '^(mtia_|mtia::|typeinfo for mtia::|typeinfo name for mtia::|vtable for mtia::|MTIA_0$)' || true)
check "libmtia.so exports only mtia_* and mtia:: symbols" test -z "$other"
[ -z "$other" ] || head -n 5 <<<"$other" | sed 's/^/  exported: /'
check "installed firmware is the built one" cmp "$root/lib/firmware/mtia/mtia-fw.bin" build/firmware/mtia/mtia-fw.bin

# Man pages: installed, rendered by man without a warning, and complete:
# every option of a tool's --help, every function of mtia.h.
man_ok() { [ -z "$(MANWIDTH=80 man --warnings -l -Tutf8 "$1" 2>&1 >/dev/null)" ] && MANWIDTH=80 man -l "$1" >/dev/null 2>&1; }
for t in mtia-smi mtia-run mtia-compile; do
  page=$root$prefix/share/man/man1/$t.1
  check "man -l renders $t(1) without warnings" man_ok "$page"
  text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
  missing=$(build/bin/$t --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u | while read -r o; do
    grep -q -- "$o" <<<"$text" || echo "$o"; done)
  check "$t(1) documents every option of $t --help" test -z "$missing"
  [ -z "$missing" ] || echo "  missing: $missing"
done
check "man -l renders mtia-vm(1) (not installed) without warnings" man_ok build/cmake/man/mtia-vm.1
page=$root$prefix/share/man/man3/libmtia.3
check "man -l renders libmtia(3) without warnings" man_ok "$page"
text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
missing=$(grep -oE '\bmtia_[a-z_]+\(' include/mtia/mtia.h | tr -d '(' | sort -u | while read -r f; do
  grep -q "$f(" <<<"$text" || echo "$f"; done)
check "libmtia(3) has every function of mtia.h" test -z "$missing"
[ -z "$missing" ] || echo "  missing: $missing"

# The Python package: importable from the DESTDIR, with stubs for its API.
pydir=$(ls -d "$root$prefix"/lib/python3*/dist-packages 2>/dev/null | head -n1)
check "mtia imports from the DESTDIR's dist-packages" bash -c \
  "PYTHONPATH='$pydir' LD_LIBRARY_PATH='$lib' /usr/bin/python3 -c 'import mtia; assert mtia.__file__.startswith(\"$pydir\")'"
check "the installed extension has no build-tree RPATH" bash -c \
  "! readelf -d '$pydir'/mtia/_mtia*.so | grep -qE 'RPATH|RUNPATH'"
check "mtia's type stubs define every public class and function" env PYTHONPATH="$pydir" LD_LIBRARY_PATH="$lib" \
  /usr/bin/python3 -c '
import ast, os, sys, mtia
stub = ast.parse(open(os.path.join(os.path.dirname(mtia.__file__), "_mtia.pyi")).read())
names = {n.name for n in stub.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
missing = [n for n in mtia.__all__ if n not in names and n not in ("Error", "CompileError", "runtime_version")]
print("  missing from _mtia.pyi:", missing) if missing else None
sys.exit(1 if missing else 0)'

# The API reference: Doxygen over the public headers, any warning (an
# undocumented public symbol) fails; and the check does fail on one.
check "make docs: the API reference builds with zero Doxygen warnings" bash -c \
  "out=\$(make -s docs 2>&1) && [ -z \"\$out\" ] && [ -f build/docs/html/index.html ] || { echo \"\$out\" | head; false; }"
mkdir -p "$sdk/doxy-neg"
printf '/** @file undoc.h */\nint mtia_undocumented(void);\n' >"$sdk/doxy-neg/undoc.h"
check "Doxygen's check fails on an undocumented function" bash -c \
  "(cat docs/Doxyfile; echo 'INPUT = $sdk/doxy-neg/undoc.h'; echo 'OUTPUT_DIRECTORY = $sdk/doxy-neg') |
   MTIA_VERSION=0 doxygen - 2>&1 | grep -q 'mtia_undocumented.*not documented'"

# Out of tree, against the DESTDIR only: no path into this source tree.
export PKG_CONFIG_PATH=$lib/pkgconfig
# mtia.pc is relocatable (${pcfiledir}): its paths lead into the DESTDIR.
pc_dir() { # the directory of pkg-config's first FLAG (-I or -L) for mtia
  local d
  d=$(pkg-config "$1" mtia | tr ' ' '\n' | sed -n "s/^$2//p" | head -n1)
  realpath -m "$d"
}
check "mtia.pc's include dir is the DESTDIR's" test "$(pc_dir --cflags -I)" = "$root$prefix/include"
check "mtia.pc's library dir is the DESTDIR's" test "$(pc_dir --libs -L)" = "$lib"
check "pkg-config --modversion mtia is the project's version" bash -c \
  "[ \"\$(pkg-config --modversion mtia)\" = \"\$(sed -n 's/^project(mtia_open VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)\" ]"
mkdir -p "$sdk/ex-pkgconfig"
check "examples build with pkg-config (make -C examples)" make -s -C examples O="$sdk/ex-pkgconfig"
check "examples build with CMake find_package(mtia)" bash -c \
  "cmake -S examples -B '$sdk/ex-cmake' -G Ninja -DCMAKE_PREFIX_PATH='$root$prefix' >/dev/null && ninja -C '$sdk/ex-cmake' >/dev/null"
check "the CMake build used the installed package" \
  grep -q "mtia_DIR:PATH=$lib/cmake/mtia" "$sdk/ex-cmake/CMakeCache.txt"
for b in ex-pkgconfig/list_devices ex-cmake/async_model; do
  check "$b resolves libmtia.so.0 in the DESTDIR" bash -c \
    "LD_LIBRARY_PATH='$lib' ldd '$sdk/$b' | grep -q '=> $lib/libmtia.so.0'"
done
check "list_devices_static has no libmtia.so dependency" bash -c \
  "! readelf -d '$sdk/ex-cmake/list_devices_static' | grep -q 'libmtia.so'"
check "nothing in build/sdk compiled against the source tree's headers" bash -c \
  "! grep -rqs -- '-I$top/include' '$sdk/ex-cmake/build.ninja'"


# The DKMS source tree (tests/deb-install.sh builds it, from the mtia-dkms
# package, for the guest kernel).
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' driver/dkms.conf)
drv_ver=$(awk '/#define MTIA_DRV_(MAJOR|MINOR|PATCHLEVEL)/ { v = v (v == "" ? "" : ".") $3 } END { print v }' driver/mtia_drv.h)
check "dkms.conf's version ($ver) is the driver's ($drv_ver)" test "$ver" = "$drv_ver"
for f in dkms.conf Kbuild mtia_drv.c include/mtia/mtia_spec.h include/uapi/drm/mtia_accel.h; do
  check "DKMS tree has $f" test -f "$root/usr/src/mtia-$ver/$f"
done
finish

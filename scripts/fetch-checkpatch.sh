#!/usr/bin/env bash
# Fetches the kernel's scripts/checkpatch.pl (plus the data files it reads)
# from Debian 12's newest linux-source-6.12 package into build/deps/checkpatch.
# Uses `apt-get download` + dpkg --fsys-tarfile: nothing is installed
# system-wide. Idempotent: does nothing once the files are there.
# Needs only perl (always present on Debian) and xz-utils.
#
# Use: build/deps/checkpatch/scripts/checkpatch.pl --strict --no-tree \
#        -f driver/*.c driver/*.h
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
d="$top/build/deps/checkpatch"
files=(scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch)

if [ -f "$d/.fetched" ]; then
  ok=1
  for f in "${files[@]}"; do [ -f "$d/$f" ] || ok=; done
  [ -n "$ok" ] && exit 0
fi

ver=$(apt-cache madison linux-source-6.12 | awk -F'|' '{gsub(/ /, "", $2); print $2}' \
      | sort -V | tail -n1)
[ -n "$ver" ] || { echo "fetch-checkpatch: no linux-source-6.12 in apt (apt-get update?)" >&2; exit 1; }

tmp="$d/.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-checkpatch: downloading linux-source-6.12=$ver (~150 MB)"
# (apt warns that it downloads unsandboxed as root into a dir _apt cannot
# write; harmless, filtered.)
(cd "$tmp" && apt-get download "linux-source-6.12=$ver" >/dev/null 2> >(grep -v "unsandboxed" >&2))
deb=$(ls "$tmp"/linux-source-6.12_*.deb)

# The .deb holds usr/src/linux-source-6.12.tar.xz; stream it and pull out only
# the files checkpatch needs (the tarball's top directory is stripped).
members=()
for f in "${files[@]}"; do members+=("linux-source-6.12/$f"); done
dpkg --fsys-tarfile "$deb" \
  | tar -xO ./usr/src/linux-source-6.12.tar.xz \
  | tar -xJ -C "$tmp" "${members[@]}"

mkdir -p "$d/scripts"
for f in "${files[@]}"; do
  install -m "$([ "${f##*.}" = pl ] && echo 755 || echo 644)" \
    "$tmp/linux-source-6.12/$f" "$d/$f"
done
echo "$ver" > "$d/version"
touch "$d/.fetched"
echo "fetch-checkpatch: $d/scripts/checkpatch.pl (linux-source-6.12 $ver)"

#!/usr/bin/env bash
# Fetches Debian 12's QEMU 7.2 source package into build/deps/qemu-src
# (with Debian's patches applied). Our device is added later by
# qemu-device/add-to-qemu.sh, so this tree stays pristine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"
dest="$deps/qemu-src"
[ -f "$dest/.fetched" ] && exit 0

mkdir -p "$deps/qemu-dl"
cd "$deps/qemu-dl"
rm -rf ./qemu-*/
apt-get source --only-source qemu >/dev/null
src=$(find . -maxdepth 1 -type d -name 'qemu-*' | head -n1)
[ -n "$src" ] || { echo "fetch-qemu: apt-get source produced no tree" >&2; exit 1; }
rm -rf "$dest"
mv "$src" "$dest"
rm -rf "$deps/qemu-dl"
touch "$dest/.fetched"
echo "fetch-qemu: $(head -n1 "$dest/debian/changelog")"
